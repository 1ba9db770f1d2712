from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from accounts.permissions import has_perms
from enrollment import eligibility as el
from enrollment import selectors, services
from enrollment.models import Patient, Screening
from enrollment.validation import check_screening
from inkt_trial.audit import history_of

ANSWERS = [
    "prior_progression",
    "life_expectancy_12_weeks",
    *(c.code for c in el.ANSWERED_EXCLUSIONS),
]


class PatientField(serializers.SlugRelatedField):
    """An enrolled patient named by study ID in requests (every later app uses it)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="study_id", queryset=Patient.objects.all(), **kwargs)


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
            "signature_meaning",
            "created_by",
            "created_at",
            "reason",
        ]
        read_only_fields = ["confirmed_at", "signature_meaning"]
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
    password = serializers.CharField(
        write_only=True,
        style={"input_type": "password"},
        help_text="The investigator's own password: the electronic signature.",
    )


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
    screening = serializers.PrimaryKeyRelatedField(read_only=True)
    screening_number = serializers.CharField(source="screening.screening_number", read_only=True)
    enrolled_by = serializers.CharField(source="enrolled_by.username", read_only=True)

    class Meta:
        model = Patient
        fields = ["id", "study_id", "screening", "screening_number", "enrolled_at", "enrolled_by"]


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField(allow_null=True)
    new = serializers.CharField(allow_null=True)


class HistorySerializer(serializers.Serializer):
    when = serializers.DateTimeField()
    who = serializers.CharField()
    type = serializers.CharField()
    reason = serializers.CharField()
    changes = ChangeSerializer(many=True)


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
        """The investigator's electronic signature: enrols a consented, eligible patient."""
        body = ConfirmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        patient = services.screening_confirm(
            screening=self.get_object(), by=request.user, **body.validated_data
        )
        return Response(PatientSerializer(patient).data, status=201)

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


class PatientViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PatientSerializer
    lookup_field = "study_id"
    filterset_fields = ["study_id"]

    def get_queryset(self):
        return selectors.patient_list()

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, study_id=None):
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)
