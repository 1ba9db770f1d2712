import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import has_perms
from enrollment.api import HistorySerializer, PatientField
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from safety import rules, services
from safety.models import AdverseEvent, CtcaeTerm


class CtcaeTermSerializer(serializers.ModelSerializer):
    grades = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = CtcaeTerm
        fields = ["id", "meddra_code", "soc", "term", "grades", "definition"]


@extend_schema(parameters=[OpenApiParameter("q", str, description="Term, SOC or MedDRA code")])
class CtcaeTermViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The CTCAE v5.0 catalog shipped with the product, searched as one types."""

    serializer_class = CtcaeTermSerializer

    def get_queryset(self):
        terms = CtcaeTerm.objects.all()
        q = self.request.query_params.get("q", "").strip()
        if q:
            match = Q(term__icontains=q) | Q(soc__icontains=q)
            if q.isdigit():
                match |= Q(meddra_code=int(q))
            terms = terms.filter(match)
        return terms


class AdverseEventSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    meddra_code = serializers.SlugRelatedField(
        source="term", slug_field="meddra_code", queryset=CtcaeTerm.objects.all()
    )
    term_name = serializers.CharField(source="term.term", read_only=True)
    serious_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=rules.SERIOUS_CRITERIA), required=False
    )
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")

    class Meta:
        model = AdverseEvent
        fields = [
            "id",
            "study_id",
            "meddra_code",
            "term_name",
            "specification",
            "grade",
            "onset",
            "resolution",
            "outcome",
            "death_date",
            "serious_criteria",
            "serious",
            "treatment_emergent",
            "awareness_at",
            "initial_report_at",
            "relationship_inkt",
            "relationship_pd1",
            "relationship_regorafenib",
            "action_inkt",
            "action_pd1",
            "action_regorafenib",
            "reason",
        ]
        read_only_fields = [
            "serious",
            "treatment_emergent",
            "relationship_inkt",
            "relationship_pd1",
            "relationship_regorafenib",
        ]

    def create(self, data):
        data.pop("reason", None)
        return services.ae_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        if data.pop("patient", instance.patient) != instance.patient:
            raise DomainError(
                field_errors={"study_id": ["The patient of an event does not change."]}
            )
        return services.ae_correct(
            event=instance, by=self.context["request"].user, reason=data.pop("reason", ""), **data
        )


class CausalitySerializer(serializers.Serializer):
    relationship_inkt = serializers.CharField(required=False)
    relationship_pd1 = serializers.CharField(required=False)
    relationship_regorafenib = serializers.CharField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AdverseEventFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="patient__study_id")
    serious = django_filters.BooleanFilter()


class AdverseEventViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Adverse events (CTCAE v5.0). PATCH corrects with a `reason`; POST .../causality/ is the
    investigator's assessment; GET .../overdue/ lists SAEs whose 24-hour report is late."""

    serializer_class = AdverseEventSerializer
    filterset_class = AdverseEventFilter

    def get_queryset(self):
        return AdverseEvent.objects.select_related("patient", "term")

    @extend_schema(request=CausalitySerializer, responses=AdverseEventSerializer)
    @action(
        detail=True, methods=["post"], permission_classes=[has_perms("safety.assess_causality")]
    )
    def causality(self, request, pk=None):
        body = CausalitySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = services.ae_assess_causality(
            event=self.get_object(), by=request.user, **body.validated_data
        )
        return Response(self.get_serializer(event).data)

    @extend_schema(responses=AdverseEventSerializer(many=True))
    @action(detail=False, methods=["get"])
    def overdue(self, request):
        events = services.overdue_saes(now=timezone.now())
        return Response(self.get_serializer(events, many=True).data)

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)
