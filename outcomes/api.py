import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from enrollment.api import HistorySerializer, PatientField
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from outcomes import services
from outcomes.models import FollowUp


class FollowUpSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")

    class Meta:
        model = FollowUp
        fields = ["id", "study_id", "kind", "date", "alive", "cause", "therapy", "notes", "reason"]

    def create(self, data):
        data.pop("reason", None)
        return services.followup_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        if data.pop("patient", instance.patient) != instance.patient:
            raise DomainError(field_errors={"study_id": ["The patient does not change."]})
        return services.followup_correct(
            record=instance, by=self.context["request"].user, reason=data.pop("reason", ""), **data
        )


class FollowUpFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="patient__study_id")

    class Meta:
        model = FollowUp
        fields = ["study_id", "kind"]


class FollowUpViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Follow-up records: survival contacts (`alive`), the death (`cause`), a new anticancer
    therapy (`therapy`), withdrawal of consent, lost to follow-up. Dates are checked against
    each other and against the rest of the record. PATCH corrects with a `reason`."""

    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter

    def get_queryset(self):
        return FollowUp.objects.select_related("patient")

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)
