"""The API of clinical visits, their lab values and the adverse events they propose. A masked
statistician reads visits and values (an iNKT course visit shows as its study week); the
blinded readers get nothing."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import has_perms
from inkt_trial.api import HistorySerializer, PatientField, csv_response
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from randomization.selectors import can_see_arms
from safety import visits
from safety.api import AdverseEventSerializer
from safety.models import ClinicalVisit, LabValue, ProposedAdverseEvent
from safety.visit_models import COURSE, TEST_CHOICES, VISIT_KINDS


class LabEntrySerializer(serializers.Serializer):
    test = serializers.ChoiceField(choices=TEST_CHOICES)
    value = serializers.DecimalField(max_digits=14, decimal_places=4)
    unit = serializers.CharField(
        required=False, max_length=12, help_text="As entered; the test's canonical unit if omitted."
    )
    lln = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True,
        help_text="The site's lower limit of normal, in the unit entered (default: the test's).",
    )  # fmt: skip
    uln = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True,
        help_text="The site's upper limit of normal, in the unit entered (default: the test's).",
    )  # fmt: skip


class LabValueSerializer(serializers.ModelSerializer):
    test_name = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True, help_text="The canonical unit of `value`.")
    study_id = serializers.CharField(source="visit.patient.study_id", read_only=True)
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")
    # a correction: the value and unit as entered, the site's range in that unit
    value_entered = serializers.DecimalField(max_digits=14, decimal_places=4, required=False)
    unit_entered = serializers.CharField(max_length=12, required=False)

    class Meta:
        model = LabValue
        fields = [
            "id",
            "study_id",
            "visit",
            "test",
            "test_name",
            "value_entered",
            "unit_entered",
            "value",
            "unit",
            "lln",
            "uln",
            "term",
            "grade",
            "baseline_value",
            "baseline_date",
            "baseline_grade",
            "reason",
        ]
        read_only_fields = ["visit", "test", "value", "term", "grade", "baseline_grade"]

    def update(self, instance, data):
        renamed = {"value_entered": "value", "unit_entered": "unit"}
        changes = {renamed.get(k, k): v for k, v in data.items() if k != "reason"}
        return visits.lab_correct(
            lab=instance, by=self.context["request"].user, reason=data.get("reason", ""), **changes
        )


class ClinicalVisitSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    kind = serializers.ChoiceField(
        choices=VISIT_KINDS,
        help_text="A course visit reads as a `week` visit (its week from randomization) to a "
        "user who may not see arms.",
    )
    label = serializers.SerializerMethodField()
    labs = LabValueSerializer(many=True, read_only=True)
    values = LabEntrySerializer(
        many=True, write_only=True, required=False, help_text="The laboratory values entered."
    )
    child_pugh_points = serializers.SerializerMethodField()
    child_pugh_class = serializers.SerializerMethodField()
    albi_score = serializers.SerializerMethodField()
    albi_grade = serializers.SerializerMethodField()
    afp_change_percent = serializers.SerializerMethodField(
        help_text="Change of AFP from the baseline (the latest earlier screening visit's AFP)."
    )
    afp_response = serializers.SerializerMethodField(
        help_text="'decrease ≥ 50 %', 'decrease ≥ 20 %' or 'no response' (None: no baseline)."
    )
    afp_baseline_date = serializers.SerializerMethodField()
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")

    class Meta:
        model = ClinicalVisit
        fields = [
            "id",
            "study_id",
            "visit_date",
            "kind",
            "number",
            "label",
            "ecog",
            "systolic_bp_mmhg",
            "diastolic_bp_mmhg",
            "heart_rate_bpm",
            "temperature_c",
            "weight_kg",
            "respiratory_rate_per_min",
            "spo2_percent",
            "ascites",
            "encephalopathy",
            "on_anticoagulation",
            "labs",
            "values",
            "child_pugh_points",
            "child_pugh_class",
            "albi_score",
            "albi_grade",
            "afp_change_percent",
            "afp_response",
            "afp_baseline_date",
            "reason",
        ]
        validators = []  # one visit a day: the service says so in words

    def _summary(self, visit) -> visits.VisitSummary:
        cache = self.context.setdefault("summaries", {})
        if visit.pk not in cache:
            cache[visit.pk] = visits.summarise(visit, self.context["request"].user)
        return cache[visit.pk]

    def to_representation(self, visit):
        data = super().to_representation(visit)
        if visit.kind == COURSE and not can_see_arms(self.context["request"].user):
            # an iNKT course names the arm: its week from randomization, as the other arm's visits
            data["kind"], data["number"] = "week", visits.study_week(visit)
        return data

    def get_label(self, visit) -> str:
        return self._summary(visit).label

    def get_child_pugh_points(self, visit) -> int | None:
        score = self._summary(visit).child_pugh
        return score.points if score else None

    def get_child_pugh_class(self, visit) -> str | None:
        score = self._summary(visit).child_pugh
        return score.child_pugh_class if score else None

    def get_albi_score(self, visit) -> float | None:
        albi = self._summary(visit).albi
        return float(albi.score) if albi else None

    def get_albi_grade(self, visit) -> int | None:
        albi = self._summary(visit).albi
        return albi.grade if albi else None

    def get_afp_change_percent(self, visit) -> float | None:
        afp = self._summary(visit).afp
        return float(afp.change_percent) if afp else None

    def get_afp_response(self, visit) -> str | None:
        afp = self._summary(visit).afp
        return afp.label if afp else None

    def get_afp_baseline_date(self, visit) -> str | None:
        day = self._summary(visit).afp_baseline_date
        return day.isoformat() if day else None

    def create(self, data):
        data.pop("reason", None)
        entries = [dict(v) for v in data.pop("values", [])]
        return visits.visit_record(by=self.context["request"].user, values=entries, **data)

    def update(self, visit, data):
        if data.pop("patient", visit.patient) != visit.patient:
            raise DomainError(
                field_errors={"study_id": ["The patient of a visit does not change."]}
            )
        entries = [dict(v) for v in data.pop("values", [])]
        return visits.visit_correct(
            visit=visit,
            by=self.context["request"].user,
            reason=data.pop("reason", ""),
            values=entries,
            **data,
        )


class VisitFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="patient__study_id")

    class Meta:
        model = ClinicalVisit
        fields = ["study_id"]


class HistoryMixin:
    history_perms: tuple[str, ...] = ()

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        if not request.user.has_perms(self.history_perms):
            self.permission_denied(request, message="The audit trail names the treatment.")
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)


class ClinicalVisitViewSet(
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Clinical visits: ECOG, vital signs, ascites and encephalopathy (for Child-Pugh) and the
    laboratory values (`values` when writing, `labs` as graded), each graded by CTCAE v5.0
    against the screening baseline. Child-Pugh, ALBI and the AFP response are derived when
    read. PATCH corrects with a `reason` (its `values` correct or add values). Filter with
    `?study_id=`."""

    serializer_class = ClinicalVisitSerializer
    filterset_class = VisitFilter
    history_perms = ("randomization.view_arm",)  # a course visit's trail names the course

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"], url_path="csv", pagination_class=None)
    def csv(self, request):
        """The visits (filtered as the list) as CSV, one line per laboratory value: ECOG, vital
        signs, Child-Pugh, ALBI and the AFP response (its baseline named) with each."""
        found = self.filter_queryset(self.get_queryset())
        rows = visits.export_rows(found, request.user)
        return csv_response(rows, visits.EXPORT_HEADER, "clinical-visits.csv")

    def get_queryset(self):
        return (
            ClinicalVisit.objects.select_related("patient")
            .prefetch_related("labs__visit__patient")
            .order_by("patient", "visit_date")
        )


class LabFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="visit__patient__study_id")
    test = django_filters.ChoiceFilter(choices=TEST_CHOICES)

    class Meta:
        model = LabValue
        fields = ["study_id", "visit", "test"]


class LabValueViewSet(
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Laboratory values with their CTCAE v5.0 grade and baseline (`value` in the test's
    canonical unit). PATCH corrects `value_entered`, `unit_entered`, `lln`, `uln` with a
    `reason`; values are added through their visit."""

    serializer_class = LabValueSerializer
    filterset_class = LabFilter
    history_perms = ("randomization.view_arm",)
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return LabValue.objects.select_related("visit__patient").order_by("visit", "test")


class AcceptSerializer(serializers.Serializer):
    onset = serializers.DateField(required=False, help_text="Default: the visit's date.")
    grade = serializers.IntegerField(required=False, min_value=1, max_value=5)


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class ProposalSerializer(serializers.ModelSerializer):
    study_id = serializers.CharField(source="patient.study_id", read_only=True)
    term_name = serializers.CharField(source="term.term", read_only=True)
    meddra_code = serializers.IntegerField(source="term.meddra_code", read_only=True)

    class Meta:
        model = ProposedAdverseEvent
        fields = [
            "id",
            "study_id",
            "lab",
            "meddra_code",
            "term_name",
            "grade",
            "why",
            "state",
            "decided_at",
            "dismissal_reason",
            "adverse_event",
        ]
        read_only_fields = fields


class ProposalFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="patient__study_id")
    state = django_filters.ChoiceFilter(choices=ProposedAdverseEvent.STATES)

    class Meta:
        model = ProposedAdverseEvent
        fields = ["study_id", "state"]


class ProposalViewSet(
    HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Adverse events proposed by lab values (grade 3 or more, or 2 grades above baseline).
    POST .../accept/ records the event (pre-filled; `onset` and `grade` may be given),
    POST .../dismiss/ with a `reason`."""

    serializer_class = ProposalSerializer
    filterset_class = ProposalFilter

    def get_queryset(self):
        return ProposedAdverseEvent.objects.select_related("patient", "term").order_by("pk")

    @extend_schema(request=AcceptSerializer, responses=AdverseEventSerializer)
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[
            has_perms("safety.decide_proposedadverseevent", "safety.add_adverseevent")
        ],
    )
    def accept(self, request, pk=None):
        body = AcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        event = visits.proposal_accept(
            proposal=self.get_object(), by=request.user, **body.validated_data
        )
        return Response(AdverseEventSerializer(event, context={"request": request}).data)

    @extend_schema(request=DismissSerializer, responses=ProposalSerializer)
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[has_perms("safety.decide_proposedadverseevent")],
    )
    def dismiss(self, request, pk=None):
        body = DismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        proposal = visits.proposal_dismiss(
            proposal=self.get_object(), by=request.user, reason=body.validated_data["reason"]
        )
        return Response(self.get_serializer(proposal).data)
