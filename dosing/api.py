import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import has_perms
from dosing import rules, selectors, services
from dosing.models import (
    FORMULA_CHOICES,
    Apheresis,
    DrugExposure,
    Infusion,
    InfusionSchedule,
    ManufacturingBatch,
    ReleaseTest,
)
from enrollment.models import Patient
from inkt_trial.api import HistorySerializer, PatientField
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError


@extend_schema_field(OpenApiTypes.INT)
class CellsField(serializers.Field):
    """A number of cells: an integer, or text such as "5e8" or "5x10^8"."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            raise serializers.ValidationError('A number of cells, e.g. 500000000 or "5e8".')
        try:
            return rules.parse_cells(str(data))
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None

    def to_representation(self, value):
        return value


class PatientFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="patient__study_id")


class CourseSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    planned = serializers.DateField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()


class ScheduleSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    target_cells_per_m2 = CellsField()
    courses = serializers.SerializerMethodField()
    reason = serializers.CharField(write_only=True, required=False, help_text="For changes.")

    class Meta:
        model = InfusionSchedule
        fields = [
            "id",
            "study_id",
            "first_planned_date",
            "window_days",
            "bsa_formula",
            "target_cells_per_m2",
            "courses",
            "reason",
        ]

    @extend_schema_field(CourseSerializer(many=True))
    def get_courses(self, obj):
        return CourseSerializer(services.planned_courses(obj), many=True).data

    def validate_study_id(self, patient):
        if self.instance is not None and patient != self.instance.patient:
            raise serializers.ValidationError("The patient of a schedule does not change.")
        return patient

    def create(self, data):
        data.pop("reason", None)
        return services.schedule_create(by=self.context["request"].user, **data)

    def update(self, instance, data):
        data.pop("patient", None)
        return services.schedule_update(
            schedule=instance,
            by=self.context["request"].user,
            reason=data.pop("reason", ""),
            **data,
        )


class InfusionSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    target_cells_per_m2 = CellsField(required=False, allow_null=True)
    cells_infused = CellsField(required=False, allow_null=True)
    deviations = serializers.SerializerMethodField()
    bedside_check = serializers.SerializerMethodField(
        help_text="passed: the bag's label matched the patient and a released batch of theirs "
        "(a course given is refused otherwise); not_done: recorded before the check existed; "
        "none for a missed course."
    )
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")

    class Meta:
        model = Infusion
        fields = [
            "id",
            "study_id",
            "course_number",
            "status",
            "planned_date",
            "infused_at",
            "weight_kg",
            "height_cm",
            "bsa_formula",
            "bsa_m2",
            "target_cells_per_m2",
            "computed_dose_cells",
            "cells_infused",
            "batch_number",
            "bag_study_id",
            "bag_date_of_birth",
            "bedside_check",
            "infusion_reaction",
            "reaction_description",
            "deviations",
            "deviation_reason",
            "recorded_by",
            "reason",
        ]
        read_only_fields = [
            "course_number",
            "planned_date",
            "height_cm",
            "bsa_m2",
            "computed_dose_cells",
        ]
        extra_kwargs = {"bsa_formula": {"required": False}, "status": {"required": False}}

    def get_bedside_check(self, obj) -> str:
        if obj.status != Infusion.GIVEN:
            return "none"
        return "passed" if obj.batch_id else "not_done"

    def get_deviations(self, obj) -> list[dict]:
        return [{"code": code, "text": rules.DEVIATION_TEXT[code]} for code in obj.deviations]

    def create(self, data):
        data.pop("reason", None)
        return services.infusion_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        if "patient" in data and data.pop("patient") != instance.patient:
            raise DomainError(
                field_errors={"study_id": ["The patient of a course does not change."]}
            )
        return services.infusion_correct(
            infusion=instance,
            by=self.context["request"].user,
            reason=data.pop("reason", ""),
            **data,
        )


class DrugExposureSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = DrugExposure
        fields = [
            "id",
            "study_id",
            "drug",
            "product",
            "event",
            "dose",
            "unit",
            "route",
            "start_date",
            "end_date",
            "dose_changed",
            "reason",
            "recorded_by",
        ]
        read_only_fields = ["dose_changed"]

    def create(self, data):
        return services.drug_exposure_record(by=self.context["request"].user, **data)


class _Base(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    filterset_class = PatientFilter

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Every version of the record: who, when, what changed and why."""
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)


class ScheduleViewSet(mixins.UpdateModelMixin, _Base):
    """iNKT infusion schedules (RPI patients): planned courses every 14 days with windows."""

    serializer_class = ScheduleSerializer

    def get_queryset(self):
        return InfusionSchedule.objects.select_related("patient")


class InfusionViewSet(mixins.UpdateModelMixin, _Base):
    """iNKT courses. POST records the next course; PATCH corrects one, with a `reason`."""

    serializer_class = InfusionSerializer

    def get_queryset(self):
        return Infusion.objects.select_related("patient", "recorded_by")


class DrugExposureViewSet(_Base):
    """PD-1 antibody and regorafenib, both arms."""

    serializer_class = DrugExposureSerializer

    def get_queryset(self):
        return DrugExposure.objects.select_related("patient", "recorded_by")


class ExposureSerializer(serializers.Serializer):
    study_id = serializers.CharField()
    courses_given = serializers.IntegerField()
    courses_missed = serializers.IntegerField()
    cumulative_cells = serializers.IntegerField()
    planned_cells = serializers.IntegerField()
    relative_dose_intensity = serializers.DecimalField(
        max_digits=6, decimal_places=3, allow_null=True
    )
    pd1_records = serializers.IntegerField()
    regorafenib_records = serializers.IntegerField()


class ExposureView(APIView):
    """Exposure summary of one patient: iNKT courses, cumulative cells, relative dose
    intensity, and the number of PD-1 and regorafenib records."""

    permission_classes = [has_perms("dosing.view_infusion", "dosing.view_drugexposure")]

    @extend_schema(responses=ExposureSerializer)
    def get(self, request, study_id):
        patient = get_object_or_404(Patient, study_id=study_id)
        return Response(ExposureSerializer(selectors.exposure_row(patient)).data)


class CalendarRowSerializer(serializers.Serializer):
    study_id = serializers.CharField(source="patient.study_id")
    course = serializers.IntegerField(source="course.number")
    planned = serializers.DateField(source="course.planned")
    window_end = serializers.DateField(source="course.window_end")
    kind = serializers.CharField()


class CalendarView(APIView):
    """Courses due within 3 days and overdue ones, today, for the whole site."""

    permission_classes = [has_perms("dosing.view_infusion")]

    @extend_schema(responses=CalendarRowSerializer(many=True))
    def get(self, request):
        rows = services.due_and_overdue(today=selectors.today())
        return Response(CalendarRowSerializer(rows, many=True).data)


class DosePreviewSerializer(serializers.Serializer):
    study_id = serializers.CharField()
    weight_kg = serializers.DecimalField(max_digits=4, decimal_places=1, min_value=1)
    target_cells_per_m2 = CellsField()
    bsa_formula = serializers.ChoiceField(choices=FORMULA_CHOICES, required=False)


class PreviewView(APIView):
    """BSA and dose for a weight and a target, as the infusion form shows them while typing."""

    permission_classes = [has_perms("dosing.add_infusion")]

    @extend_schema(request=DosePreviewSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        body = DosePreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = selectors.dose_preview(**body.validated_data)
        return Response(result, status=400 if "errors" in result else 200)


# -- the cell product's chain of identity (RPI arm only: no role that may be masked sees it) --


class ApheresisSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")

    class Meta:
        model = Apheresis
        fields = ["id", "study_id", "date", "volume_ml", "site", "notes", "recorded_by", "reason"]

    def create(self, data):
        data.pop("reason", None)
        return services.apheresis_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        if "patient" in data and data.pop("patient") != instance.patient:
            raise DomainError(field_errors={"study_id": ["The patient does not change."]})
        return services.apheresis_correct(
            apheresis=instance,
            by=self.context["request"].user,
            reason=data.pop("reason", ""),
            **data,
        )


class ReleaseTestSerializer(serializers.ModelSerializer):
    batch = serializers.PrimaryKeyRelatedField(queryset=ManufacturingBatch.objects.all())
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")

    class Meta:
        model = ReleaseTest
        fields = [
            "id",
            "batch",
            "assay",
            "result_passed",
            "value",
            "unit",
            "method",
            "tested_on",
            "passed",
            "recorded_by",
            "reason",
        ]
        read_only_fields = ["unit", "passed"]
        extra_kwargs = {
            "result_passed": {
                "help_text": "Sterility and mycoplasma: true (no growth / negative) or false."
            },
            "value": {"help_text": "Endotoxin in EU/mL; viability and iNKT purity in %."},
        }

    def create(self, data):
        data.pop("reason", None)
        return services.release_test_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        for fixed in ("batch", "assay"):
            if fixed in data and data.pop(fixed) != getattr(instance, fixed):
                raise DomainError(field_errors={fixed: ["Does not change; record another."]})
        return services.release_test_correct(
            release_test=instance,
            by=self.context["request"].user,
            reason=data.pop("reason", ""),
            **data,
        )


class BatchStatusSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["infused", "released", "expired", "withdrawn", "not_released"]
    )
    text = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField())


class BatchSerializer(serializers.ModelSerializer):
    apheresis = serializers.PrimaryKeyRelatedField(queryset=Apheresis.objects.all())
    study_id = serializers.CharField(source="patient.study_id", read_only=True)
    cells_total = CellsField()
    released_by = serializers.CharField(
        source="released_by.username", read_only=True, allow_null=True
    )
    release_status = serializers.SerializerMethodField()
    release_tests = ReleaseTestSerializer(many=True, read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")

    class Meta:
        model = ManufacturingBatch
        fields = [
            "id",
            "apheresis",
            "study_id",
            "batch_number",
            "manufactured_on",
            "expires_at",
            "cells_total",
            "volume_ml",
            "released_at",
            "released_by",
            "release_status",
            "release_tests",
            "recorded_by",
            "reason",
        ]
        read_only_fields = ["released_at"]
        extra_kwargs = {"batch_number": {"validators": []}}  # the service says it clearly

    @extend_schema_field(BatchStatusSerializer)
    def get_release_status(self, obj):
        return selectors.batch_status(obj)

    def create(self, data):
        data.pop("reason", None)
        return services.batch_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        if "apheresis" in data and data.pop("apheresis") != instance.apheresis:
            raise DomainError(field_errors={"apheresis": ["The apheresis does not change."]})
        return services.batch_correct(
            batch=instance, by=self.context["request"].user, reason=data.pop("reason", ""), **data
        )


class ReleaseSerializer(serializers.Serializer):
    released_at = serializers.DateTimeField(
        required=False, help_text="When the investigator released it (default: now)."
    )


class ApheresisViewSet(mixins.UpdateModelMixin, _Base):
    """Apheresis of RPI patients. PATCH corrects one, with a `reason`."""

    serializer_class = ApheresisSerializer

    def get_queryset(self):
        return Apheresis.objects.select_related("patient", "recorded_by")


class BatchFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="patient__study_id")
    batch_number = django_filters.CharFilter(lookup_expr="iexact")


class BatchViewSet(mixins.UpdateModelMixin, _Base):
    """Manufacturing batches (one bag each) with their release tests and status. PATCH
    corrects one, with a `reason`; POST .../release/ is the investigator's release."""

    serializer_class = BatchSerializer
    filterset_class = BatchFilter

    def get_queryset(self):
        return ManufacturingBatch.objects.select_related(
            "patient", "released_by", "recorded_by"
        ).prefetch_related("release_tests__recorded_by", "infusions")

    @extend_schema(request=ReleaseSerializer, responses=BatchSerializer)
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[has_perms("dosing.release_manufacturingbatch")],
    )
    def release(self, request, pk=None):
        body = ReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        batch = services.batch_release(
            batch=self.get_object(), by=request.user, **body.validated_data
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=batch.pk)).data)


class ReleaseTestFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="batch__patient__study_id")
    batch = django_filters.NumberFilter(field_name="batch_id")


class ReleaseTestViewSet(mixins.UpdateModelMixin, _Base):
    """Release tests of the batches. PATCH corrects one (a retest), with a `reason`."""

    serializer_class = ReleaseTestSerializer
    filterset_class = ReleaseTestFilter

    def get_queryset(self):
        return ReleaseTest.objects.select_related("batch", "recorded_by")
