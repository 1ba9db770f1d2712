from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ModelPermissions, has_perms
from enrollment.models import Patient
from inkt_trial.api import csv_response
from inkt_trial.errors import DomainError
from randomization import protocol, selectors, services
from randomization import sequence as seq
from randomization.models import STRATIFIER_CHOICES, AllocationSequence


class SequenceSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    slots = serializers.IntegerField(source="slots.count", read_only=True)
    code_a_arm = serializers.SerializerMethodField()

    class Meta:
        model = AllocationSequence
        fields = [
            "id",
            "version",
            "method",
            "seed",
            "block_sizes",
            "length",
            "stratify_by",
            "uses_codes",
            "uncoded_reason",
            "code_a_arm",
            "file_sha256",
            "is_active",
            "reason",
            "created_by",
            "created_at",
            "slots",
        ]

    def get_code_a_arm(self, obj) -> str | None:
        """Only the administrator sees the mapping of the codes."""
        user = self.context["request"].user
        return obj.code_a_arm or None if user.has_perm("randomization.set_arm_codes") else None


USES_CODES_HELP = (
    "Arms held as codes A/B (the default: the statistician is masked). false: arm names, by "
    "the administrator only, with an `uncoded_reason`."
)


class GenerateSerializer(serializers.Serializer):
    length = serializers.IntegerField(
        min_value=protocol.TARGET_PATIENTS,
        max_value=protocol.MAX_SEQUENCE_LENGTH,
        help_text="Slots per stratum (at least 84); the last block is kept whole.",
    )
    block_sizes = serializers.ListField(
        child=serializers.IntegerField(min_value=2, max_value=20),
        min_length=1,
        max_length=10,
        default=list(protocol.DEFAULT_BLOCK_SIZES),
    )
    seed = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**63 - 1,
        help_text="Recorded so the sequence can be reproduced; a random one when omitted.",
    )
    stratify_by = serializers.ChoiceField(choices=STRATIFIER_CHOICES, default="")
    uses_codes = serializers.BooleanField(default=True, help_text=USES_CODES_HELP)
    uncoded_reason = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with columns stratum, position, block, arm.")
    stratify_by = serializers.ChoiceField(choices=STRATIFIER_CHOICES, default="")
    uses_codes = serializers.BooleanField(default=True, help_text=USES_CODES_HELP)
    uncoded_reason = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_file(self, value):
        if value.size > 2_000_000:
            raise serializers.ValidationError("The file is larger than 2 MB.")
        try:
            return value.read().decode("utf-8")
        except UnicodeDecodeError:
            raise serializers.ValidationError("The file is not UTF-8 text.") from None


class CodesSerializer(serializers.Serializer):
    code_a_arm = serializers.ChoiceField(choices=list(protocol.ARMS))
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class SequenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Allocation sequences: the statistician and the administrator only."""

    serializer_class = SequenceSerializer
    permission_classes = [ModelPermissions, has_perms("randomization.view_sequence")]

    def get_queryset(self):
        return selectors.sequence_list()

    @extend_schema(request=GenerateSerializer, responses={201: SequenceSerializer})
    def create(self, request):
        """Generate a sequence of permuted blocks from a seed."""
        body = GenerateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        sequence = services.sequence_generate(by=request.user, **body.validated_data)
        return Response(self.get_serializer(sequence).data, status=201)

    @extend_schema(request=UploadSerializer, responses={201: SequenceSerializer})
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def upload(self, request):
        """Upload a sequence prepared elsewhere; refused line by line with reasons."""
        body = UploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        sequence = services.sequence_upload(
            by=request.user,
            csv_text=data["file"],
            stratify_by=data["stratify_by"],
            uses_codes=data["uses_codes"],
            uncoded_reason=data["uncoded_reason"],
            reason=data["reason"],
        )
        return Response(self.get_serializer(sequence).data, status=201)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], url_path="csv")
    def csv(self, request, pk=None):
        """The sequence as CSV (stratum, position, block, arm), the upload format."""
        sequence = self.get_object()
        text = seq.to_csv(
            (s.stratum, seq.Slot(s.position, s.block, s.block_size, s.arm))
            for s in sequence.slots.order_by("stratum", "position")
        )
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="allocation-sequence-v{sequence.version}.csv"'
        )
        return response

    @extend_schema(request=CodesSerializer, responses={200: SequenceSerializer})
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[JSONParser, FormParser],
        permission_classes=[has_perms("randomization.set_arm_codes")],
    )
    def codes(self, request, pk=None):
        """The administrator maps code A to an arm (code B is the other)."""
        sequence = get_object_or_404(AllocationSequence, pk=pk)
        body = CodesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.arm_codes_set(sequence=sequence, by=request.user, **body.validated_data)
        sequence.refresh_from_db()
        return Response(self.get_serializer(sequence).data)


class AllocationSerializer(serializers.Serializer):
    study_id = serializers.CharField(source="patient.study_id")
    arm = serializers.SerializerMethodField()
    randomized_at = serializers.DateTimeField()
    randomized_by = serializers.CharField(source="randomized_by.username")

    def get_arm(self, obj) -> str:
        return selectors.arm_shown(self.context["request"].user, obj)

    def to_representation(self, obj):
        data = super().to_representation(obj)
        if self.context["request"].user.has_perm("randomization.view_sequence"):
            data.update(
                stratum=obj.stratum,
                sequence_version=obj.slot.sequence.version,
                position=obj.slot.position,
            )
        return data


class RandomizeSerializer(serializers.Serializer):
    study_id = serializers.CharField(help_text="The enrolled patient's study ID, e.g. INKT-001.")


class AllocationViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Randomizations. POST randomizes an enrolled patient (coordinator); nothing is editable."""

    serializer_class = AllocationSerializer

    def get_queryset(self):
        return selectors.allocation_list()

    @extend_schema(request=RandomizeSerializer, responses={201: AllocationSerializer})
    def create(self, request):
        body = RandomizeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        patient = Patient.objects.filter(study_id=body.validated_data["study_id"]).first()
        if patient is None:
            raise DomainError(field_errors={"study_id": ["No enrolled patient has this study ID."]})
        allocation = services.patient_randomize(patient=patient, by=request.user)
        return Response(self.get_serializer(allocation).data, status=201)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(
        detail=False,
        methods=["get"],
        url_path="csv",
        permission_classes=[has_perms("randomization.view_sequence")],
    )
    def csv(self, request):
        """The allocation log as CSV, arms masked as for the requesting user."""
        rows = [
            [
                a.patient.study_id,
                a.randomized_at.isoformat(),
                selectors.arm_shown(request.user, a),
                a.stratum,
                a.slot.sequence.version,
                a.slot.position,
                a.randomized_by.username,
            ]
            for a in self.get_queryset()
        ]
        header = [
            "study_id",
            "randomized_at",
            "arm",
            "stratum",
            "sequence_version",
            "position",
            "randomized_by",
        ]
        return csv_response(rows, header, "allocation-log.csv")


class ReportView(APIView):
    """Enrolment over time, arm balance (overall and per stratum) and CONSORT counts so far."""

    permission_classes = [has_perms("randomization.view_allocation")]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(selectors.report(request.user))


class EnrolmentLimitSerializer(serializers.Serializer):
    patients = serializers.IntegerField(min_value=protocol.TARGET_PATIENTS)
    reason = serializers.CharField(max_length=1000)


class EnrolmentLimitView(APIView):
    """Over-enrolment: GET the patients randomized, the limit in force (the protocol's 84, or
    the administrator's latest decision) and every decision; POST (the administrator) a new
    limit with its reason."""

    permission_classes = [has_perms("randomization.view_allocation")]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(selectors.enrolment_state())

    @extend_schema(request=EnrolmentLimitSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        if not request.user.has_perm("randomization.replace_sequence"):
            raise PermissionDenied("Only the administrator decides on over-enrolment.")
        body = EnrolmentLimitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.enrolment_limit_set(by=request.user, **body.validated_data)
        return Response(selectors.enrolment_state(), status=201)
