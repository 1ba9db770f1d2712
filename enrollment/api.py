from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from accounts.permissions import has_perms
from enrollment import columns, course, medication_services, selectors, services, status
from enrollment import eligibility as el
from enrollment import medications as meds
from enrollment.models import (
    ConcomitantMedication,
    MedicalHistory,
    Patient,
    Screening,
    StatusChange,
    TreatmentEnd,
)
from enrollment.validation import check_screening
from inkt_trial.api import HistorySerializer, PatientField
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError

ANSWERS = [
    "prior_progression",
    "life_expectancy_12_weeks",
    *(c.code for c in el.ANSWERED_EXCLUSIONS),
]


class ScreeningSerializer(serializers.ModelSerializer):
    """A screening record: what was entered, what was derived, and where it stands."""

    status = serializers.CharField(read_only=True)
    version = serializers.IntegerField(
        read_only=True, help_text="Audit-trail id of this version; an investigator signs it."
    )
    failed_criteria = serializers.SerializerMethodField()
    study_id = serializers.CharField(
        source="patient.study_id", read_only=True, default=None, allow_null=True
    )
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    confirmed_by = serializers.CharField(
        source="confirmed_by.username", read_only=True, default=None, allow_null=True
    )
    reopened_by = serializers.CharField(
        source="reopened_by.username", read_only=True, default=None, allow_null=True
    )
    rescreen_of = serializers.PrimaryKeyRelatedField(
        queryset=Screening.objects.all(),
        required=False,
        allow_null=True,
        help_text="Set on creation to re-screen an earlier screen failure.",
    )
    reason = serializers.CharField(
        write_only=True,
        required=False,
        help_text="Required on every change of a saved record; kept in the audit trail.",
    )

    class Meta:
        model = Screening
        fields = [
            "id",
            "version",
            "screening_number",
            "rescreen_of",
            *services.ENTERED_FIELDS,
            "age_years",
            "bilirubin_umol_l",
            "albumin_g_l",
            "bilirubin_x_uln",
            "egfr",
            "child_pugh_points",
            "child_pugh_class",
            "outcome",
            "failed_criteria",
            "status",
            "study_id",
            "confirmed_by",
            "confirmed_at",
            "signature_name",
            "signature_meaning",
            "reopened_by",
            "reopened_at",
            "reopen_reason",
            "created_by",
            "created_at",
            "reason",
        ]
        read_only_fields = [
            "confirmed_at",
            "signature_name",
            "signature_meaning",
            "reopened_at",
            "reopen_reason",
        ]
        extra_kwargs = {name: {"required": True} for name in ANSWERS}

    def get_fields(self):
        fields = super().get_fields()
        for name in ANSWERS:  # plain booleans, each one answered explicitly
            fields[name] = serializers.BooleanField(required=not self.partial)
        for method in el.Confirmation:
            fields[f"bclc_by_{method.value}"] = serializers.BooleanField(
                required=False, default=False
            )
        return fields

    def get_failed_criteria(self, obj) -> list[dict]:
        return [el.CRITERIA[code].as_dict() for code in obj.failed_criteria]

    def validate_rescreen_of(self, value):
        if self.instance is not None and value != self.instance.rescreen_of:
            raise serializers.ValidationError("Set only when the re-screening is created.")
        return value

    def create(self, validated_data):
        return services.screening_create(
            values=validated_data,
            by=self.context["request"].user,
            rescreen_of=validated_data.get("rescreen_of"),
        )

    def update(self, instance, validated_data):
        return services.screening_update(
            screening=instance,
            values=validated_data,
            by=self.context["request"].user,
            reason=validated_data.get("reason", ""),
        )


class ConfirmSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        help_text="The `version` of the screening record you reviewed (from GET); refused if "
        "the record has changed since."
    )
    username = serializers.CharField(
        help_text="The investigator's own user name: with the password, the electronic "
        "signature's two components (an API request is not a session, so it gives both)."
    )
    password = serializers.CharField(
        write_only=True,
        style={"input_type": "password"},
        help_text="The investigator's own password.",
    )


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the signed screening is reopened.")


class PreviewSerializer(serializers.ModelSerializer):
    """Any subset of the entered fields; answers what can already be derived."""

    class Meta:
        model = Screening
        fields = list(services.ENTERED_FIELDS)
        extra_kwargs = {name: {"required": False} for name in services.ENTERED_FIELDS}

    def get_fields(self):
        fields = super().get_fields()
        for name in [*ANSWERS, *(f"bclc_by_{m.value}" for m in el.Confirmation)]:
            fields[name] = serializers.BooleanField(required=False, allow_null=True, default=None)
        return fields


class PatientSerializer(serializers.ModelSerializer):
    """An enrolled patient, with the registered columns (enrollment.columns) as the user may see
    them: null where the role does not see a column (or the value does not exist yet). The
    columns' values are read for the whole page at once, given in the context (`columns`)."""

    screening = serializers.PrimaryKeyRelatedField(read_only=True)
    screening_number = serializers.CharField(source="screening.screening_number", read_only=True)
    enrolled_by = serializers.CharField(source="enrolled_by.username", read_only=True)

    class Meta:
        model = Patient
        fields = ["id", "study_id", "screening", "screening_number", "enrolled_at", "enrolled_by"]

    def get_fields(self):
        fields = super().get_fields()
        for column in columns.every():
            kind = serializers.IntegerField if column.kind is int else serializers.CharField
            fields[column.key] = kind(
                read_only=True, allow_null=True, default=None, help_text=column.help
            )
        return fields

    def to_representation(self, patient):
        data = super().to_representation(patient)
        found = self.context.get("columns", {})
        for column in columns.every():
            data[column.key] = found.get(column.key, {}).get(patient.pk)
        return data


class ScreeningViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Screening records. No deletion: clinical records are never deleted."""

    serializer_class = ScreeningSerializer
    filterset_class = selectors.ScreeningFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["created_at", "screening_number", "screening_date"]

    def get_queryset(self):
        return selectors.screening_list()

    @extend_schema(request=ConfirmSerializer, responses=PatientSerializer)
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[has_perms("enrollment.confirm_eligibility")],
    )
    def confirm(self, request, pk=None):
        """The investigator's electronic signature: enrols a consented, eligible patient, or
        signs a reopened and corrected screening of an enrolled patient again."""
        body = ConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        patient = services.screening_confirm(
            screening=self.get_object(), by=request.user, **body.validated_data
        )
        return Response(PatientSerializer(patient).data, status=201)

    @extend_schema(request=ReopenSerializer, responses=ScreeningSerializer)
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[has_perms("enrollment.reopen_screening")],
    )
    def reopen(self, request, pk=None):
        """Reopen a signed screening for a correction (the investigator or the data manager,
        with a `reason`): the coordinator then corrects it (PATCH with a reason) and the
        investigator signs it again (`confirm`). A correction that makes a randomized patient
        ineligible records an eligibility violation."""
        body = ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        screening = services.screening_reopen(
            screening=self.get_object(), by=request.user, **body.validated_data
        )
        return Response(ScreeningSerializer(screening).data)

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Every version of the record: who, when, what changed and why."""
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)

    @extend_schema(request=PreviewSerializer, responses={200: dict})
    @action(
        detail=False, methods=["post"], permission_classes=[has_perms("enrollment.add_screening")]
    )
    def preview(self, request):
        """Derived values for a partly filled record (the form shows them as the user types).
        Nothing is saved; fields that cannot be read yet are reported under `errors`. A value
        the record would refuse (out of its plausible range, a date out of order) is named
        under `problems` with the refusal's message, and nothing is derived from it."""
        body = PreviewSerializer(data=request.data)
        if not body.is_valid():
            return Response({"errors": body.errors})
        values = body.validated_data
        problems = check_screening(values, today=timezone.localdate())
        usable = {k: v for k, v in values.items() if k not in problems}
        return Response({**el.preview(usable), "problems": problems})


class TransitionSerializer(serializers.Serializer):
    date = serializers.DateField()
    state = serializers.ChoiceField(choices=list(status.STATES))
    label = serializers.CharField()
    reason = serializers.CharField()


class DrugCourseSerializer(serializers.Serializer):
    drug = serializers.ChoiceField(choices=list(status.DRUGS))
    label = serializers.CharField()
    stopped_after = serializers.DateField(allow_null=True)
    why = serializers.CharField(allow_null=True)
    end_of_treatment = serializers.IntegerField(
        allow_null=True, help_text="Id of the recorded end of treatment, if any."
    )


class PatientStatusSerializer(serializers.Serializer):
    study_id = serializers.CharField()
    state = serializers.ChoiceField(choices=list(status.STATES))
    state_label = serializers.CharField()
    transitions = TransitionSerializer(many=True)
    drugs = DrugCourseSerializer(many=True)


def status_body(patient) -> dict:
    found = course.state(patient)
    return {
        "study_id": patient.study_id,
        "state": found["state"],
        "state_label": found["state_label"],
        "transitions": found["transitions"],
        "drugs": [
            {
                "drug": d["drug"],
                "label": d["label"],
                "stopped_after": d["stop"] and d["stop"][0],
                "why": d["stop"] and d["stop"][1],
                "end_of_treatment": d["end"] and d["end"].pk,
            }
            for d in found["drugs"]
        ],
    }


class PatientViewSet(viewsets.ReadOnlyModelViewSet):
    """Enrolled patients. Filters: `search` (study ID or screening number), `study_id`, and the
    columns' own: `status` (the course) and `arm` (as the role sees it: a masked statistician
    filters by code)."""

    serializer_class = PatientSerializer
    lookup_field = "study_id"

    @property
    def filterset_class(self):
        return selectors.patient_filter()

    def get_queryset(self):
        return selectors.patient_list()

    def _with_columns(self, patients, **kwargs):
        context = {
            **self.get_serializer_context(),
            "columns": columns.values(patients, self.request.user),
        }
        return self.get_serializer(patients, context=context, **kwargs)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        serializer = self._with_columns(list(queryset if page is None else page), many=True)
        if page is None:
            return Response(serializer.data)
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self._with_columns([self.get_object()], many=True).data[0])

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, study_id=None):
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)

    @extend_schema(responses=PatientStatusSerializer)
    @action(
        detail=True,
        methods=["get"],
        pagination_class=None,
        filter_backends=[],
        permission_classes=[has_perms("enrollment.view_patient", "enrollment.view_treatmentend")],
        url_path="status",
    )
    def course_status(self, request, study_id=None):
        """Where the patient stands (on study, on treatment, in follow-up, off study), the
        transitions with their dates and reasons, and each drug of the arm: stopped after which
        day and why (a recorded end, progression on the accepted reads, a drug withdrawn for
        an adverse event, the 6th iNKT course, a withdrawal of consent, the death)."""
        return Response(status_body(self.get_object()))


# The patient's course: status changes and ends of treatment ----------------------------------


class StatusChangeSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = StatusChange
        fields = ["id", "study_id", *course.CHANGE_FIELDS, "recorded_by", "reason"]
        validators = []  # the service names what is already recorded

    def create(self, data):
        data.pop("reason", None)
        return course.status_change_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        if data.pop("patient", instance.patient) != instance.patient:
            raise DomainError(field_errors={"study_id": ["The patient does not change."]})
        return course.status_change_correct(
            record=instance, by=self.context["request"].user, reason=data.pop("reason", ""), **data
        )


class TreatmentEndSerializer(serializers.ModelSerializer):
    """`reason` is why the drug ended; a correction gives `correction_reason`."""

    study_id = PatientField(source="patient")
    correction_reason = serializers.CharField(
        write_only=True, required=False, help_text="For corrections: why the record changes."
    )
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)

    class Meta:
        model = TreatmentEnd
        fields = ["id", "study_id", *course.END_FIELDS, "recorded_by", "correction_reason"]
        validators = []  # the service names what is already recorded

    def create(self, data):
        data.pop("correction_reason", None)
        return course.treatment_end_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        if data.pop("patient", instance.patient) != instance.patient:
            raise DomainError(field_errors={"study_id": ["The patient does not change."]})
        return course.treatment_end_correct(
            record=instance,
            by=self.context["request"].user,
            correction_reason=data.pop("correction_reason", ""),
            **data,
        )


class _CourseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    filterset_fields = {"patient__study_id": ["exact"]}

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Every version of the record: who, when, what changed and why."""
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)


class StatusChangeViewSet(_CourseViewSet):
    """The patient's status changes: death (`cause`; `from_public_records`), withdrawal of
    consent to treatment or to all further data (`public_records_allowed`), lost to follow-up,
    another trial, the investigator's decision, the end of the study. Checked against each
    other and the rest of the record; PATCH corrects with a `reason`."""

    serializer_class = StatusChangeSerializer

    def get_queryset(self):
        return StatusChange.objects.select_related("patient", "recorded_by")


class TreatmentEndViewSet(_CourseViewSet):
    """The end of treatment with each drug (iNKT cells, PD-1 antibody, regorafenib), with its
    `reason`; PATCH corrects with a `correction_reason`."""

    serializer_class = TreatmentEndSerializer

    def get_queryset(self):
        return TreatmentEnd.objects.select_related("patient", "recorded_by")


# Medical history and concomitant medications -------------------------------------------------


class WarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[
            meds.STRONG_INHIBITOR,
            meds.STRONG_INDUCER,
            meds.HBV_NO_ANTIVIRAL,
            meds.HBV_ANTIVIRAL_STOPPED,
            meds.CORTICOSTEROID,
        ]
    )
    message = serializers.CharField()
    source = serializers.CharField(help_text="The published source of the rule.")


def _warnings_of(serializer, screening_id: int) -> list:
    """The warnings of a screening's records: read for the whole page at once by the list
    (context `warnings`), else for this one."""
    found = serializer.context.setdefault("warnings", {})
    if screening_id not in found:
        found.update(selectors.medication_warnings([screening_id]))
    return found[screening_id]


def _shown_warnings(warnings) -> list[dict]:
    return [{"code": w.code, "message": w.message, "source": w.source} for w in warnings]


class _ScreeningRecordSerializer(serializers.ModelSerializer):
    screening = serializers.PrimaryKeyRelatedField(
        queryset=Screening.objects.all(),
        help_text="The screening the record belongs to (recorded before enrolment too).",
    )
    study_id = serializers.CharField(
        source="screening.patient.study_id",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="The patient's study ID once enrolled.",
    )
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True)
    reason = serializers.CharField(
        write_only=True, required=False, help_text="Required on a correction (PATCH)."
    )

    def _unmoved(self, instance, data):
        if data.pop("screening", instance.screening) != instance.screening:
            raise DomainError(field_errors={"screening": ["The screening does not change."]})


class MedicationSerializer(_ScreeningRecordSerializer):
    """A concomitant medication, with its warnings (strong CYP3A4 inhibitor or inducer with
    regorafenib; an HBV antiviral stopped during treatment)."""

    prior_to_study = serializers.BooleanField(
        read_only=True, help_text="Started before the informed consent."
    )
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = ConcomitantMedication
        fields = [
            "id",
            "screening",
            "study_id",
            *medication_services.MEDICATION_FIELDS,
            "prior_to_study",
            "warnings",
            "recorded_by",
            "reason",
        ]

    @extend_schema_field(WarningSerializer(many=True))
    def get_warnings(self, obj) -> list[dict]:
        return _shown_warnings(
            w for w in _warnings_of(self, obj.screening_id) if w.medication == obj.pk
        )

    def create(self, data):
        data.pop("reason", None)
        return medication_services.medication_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        self._unmoved(instance, data)
        return medication_services.medication_correct(
            medication=instance,
            by=self.context["request"].user,
            reason=data.pop("reason", ""),
            **data,
        )


class MedicalHistorySerializer(_ScreeningRecordSerializer):
    """A medical history entry; `start` is a partial ISO 8601 date (YYYY, YYYY-MM,
    YYYY-MM-DD). `warnings`: those about the patient as a whole (hepatitis B without an ongoing
    antiviral), on the entry that raises them."""

    warnings = serializers.SerializerMethodField()

    class Meta:
        model = MedicalHistory
        fields = [
            "id",
            "screening",
            "study_id",
            *medication_services.HISTORY_FIELDS,
            "warnings",
            "recorded_by",
            "reason",
        ]

    @extend_schema_field(WarningSerializer(many=True))
    def get_warnings(self, obj) -> list[dict]:
        if not (obj.ongoing and meds.is_hbv(obj.condition)):
            return []
        return _shown_warnings(
            w for w in _warnings_of(self, obj.screening_id) if w.medication is None
        )

    def create(self, data):
        data.pop("reason", None)
        return medication_services.history_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        self._unmoved(instance, data)
        return medication_services.history_correct(
            entry=instance, by=self.context["request"].user, reason=data.pop("reason", ""), **data
        )


class StopSerializer(serializers.Serializer):
    stop_date = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class _ScreeningRecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    filterset_fields = {"screening": ["exact"], "screening__patient__study_id": ["exact"]}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        rows = list(queryset if page is None else page)
        context = {
            **self.get_serializer_context(),
            "warnings": selectors.medication_warnings({r.screening_id for r in rows}),
        }
        data = self.get_serializer(rows, many=True, context=context).data
        return Response(data) if page is None else self.get_paginated_response(data)

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        """Every version of the record: who, when, what changed and why."""
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)


class MedicationViewSet(_ScreeningRecordViewSet):
    """Concomitant medications (prior ones too), recorded against the screening from the
    screening visit on; filter by `screening` or `screening__patient__study_id`. Each comes with
    its `warnings`: a strong CYP3A4 inhibitor or inducer during regorafenib treatment (Stivarga
    label, section 7), an HBV antiviral stopped during treatment (ASCO 2020). PATCH corrects
    with a `reason`; `stop` records the end of an ongoing one."""

    serializer_class = MedicationSerializer

    def get_queryset(self):
        return selectors.medication_list()

    @extend_schema(request=StopSerializer, responses=MedicationSerializer)
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[has_perms("enrollment.change_concomitantmedication")],
    )
    def stop(self, request, pk=None):
        """An ongoing medication stopped on `stop_date` (a `reason` is optional)."""
        body = StopSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        medication = medication_services.medication_stop(
            medication=self.get_object(), by=request.user, **body.validated_data
        )
        return Response(MedicationSerializer(medication, context={"request": request}).data)


class MedicalHistoryViewSet(_ScreeningRecordViewSet):
    """The medical history taken at screening (condition, partial start date, ongoing); an
    ongoing hepatitis B entry carries the warning when no antiviral goes on. PATCH corrects
    with a `reason`."""

    serializer_class = MedicalHistorySerializer

    def get_queryset(self):
        return selectors.history_list()
