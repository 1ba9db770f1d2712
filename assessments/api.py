"""Imaging through the API: scans and readers (coordinator), blinded reading (radiologists),
adjudication (adjudicator), accepted responses and reader agreement."""

from dataclasses import asdict

import django_filters
from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import has_perms
from assessments import qlqc30, services
from assessments import reads as read_rules
from assessments.models import Questionnaire, Read, ReaderAssignment, Scan
from assessments.recist import Criterion, ReadError
from enrollment.models import Patient
from inkt_trial.api import HistorySerializer, PatientField
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError


def series_json(result) -> dict | None:
    if result is None:
        return None
    data = asdict(result)
    data["criterion"] = result.criterion.value
    return data


def both_series(assignment, *, locked_only=False) -> dict:
    out = {}
    for criterion in Criterion:
        try:
            out[criterion.value] = series_json(
                services.series(assignment, criterion, locked_only=locked_only)
            )
        except ReadError as error:
            out[criterion.value] = {"errors": error.problems}
    return out


def baseline_warnings(assignment) -> list[str]:
    """What the rules accept in the reader's baseline read of the case but the reader should
    know (a porta-hepatis node counted by iRECIST only, a viable diameter under 10 mm)."""
    read = (
        Read.objects.filter(assignment=assignment, scan__kind=Scan.BASELINE)
        .select_related("scan")
        .first()
    )
    return read_rules.baseline_warnings(read.scan.scan_date, read.data) if read else []


class ScanSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    regions = serializers.ListField(child=serializers.ChoiceField(choices=services.REGIONS))

    class Meta:
        model = Scan
        fields = ["id", "study_id", "scan_date", "kind", "modality", "regions", "before_consent"]

    before_consent = serializers.SerializerMethodField(
        help_text="A baseline from routine imaging done before the patient's consent (allowed "
        "within the 28 days before randomization)."
    )

    def get_before_consent(self, scan) -> bool:
        return scan.before_consent

    def create(self, data):
        return services.scan_register(by=self.context["request"].user, **data)


class ScanFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="patient__study_id")


class ScanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Scans registered by the coordinator (baseline, 8-weekly, unscheduled)."""

    serializer_class = ScanSerializer
    filterset_class = ScanFilter

    def get_queryset(self):
        return Scan.objects.select_related("patient__screening")


class AssignSerializer(serializers.Serializer):
    study_id = PatientField()
    reader_1 = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all()
    )
    reader_2 = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all()
    )


class AssignmentSerializer(serializers.ModelSerializer):
    study_id = serializers.CharField(source="patient.study_id")
    reader = serializers.CharField(source="reader.username")

    class Meta:
        model = ReaderAssignment
        fields = ["id", "study_id", "slot", "reader"]


class AssignmentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The two readers of each patient (assigned once, kept throughout)."""

    serializer_class = AssignmentSerializer

    def get_queryset(self):
        return ReaderAssignment.objects.select_related("patient", "reader")

    @extend_schema(request=AssignSerializer, responses={201: AssignmentSerializer(many=True)})
    def create(self, request):
        body = AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        made = services.readers_assign(
            patient=data["study_id"],
            by=request.user,
            reader_1=data["reader_1"],
            reader_2=data["reader_2"],
        )
        return Response(AssignmentSerializer(made, many=True).data, status=201)


# --- blinded reading ---------------------------------------------------------------------------

READER = [has_perms("assessments.read_images")]


def _own_scan(request, scan_id) -> tuple[Scan, ReaderAssignment]:
    assignment_ids = ReaderAssignment.objects.filter(reader=request.user)
    scan = get_object_or_404(
        Scan.objects.filter(patient__reader_assignments__in=assignment_ids), pk=scan_id
    )
    return scan, assignment_ids.get(patient=scan.patient_id)


class WorklistView(APIView):
    """The radiologist's own scans, under reading labels only."""

    permission_classes = READER

    @extend_schema(
        responses={
            200: inline_serializer(
                name="WorklistRow",
                fields={
                    "scan_id": serializers.IntegerField(),
                    "reading_label": serializers.CharField(),
                    "scan_date": serializers.DateField(),
                    "kind": serializers.CharField(),
                    "modality": serializers.CharField(),
                    "regions": serializers.ListField(child=serializers.CharField()),
                    "status": serializers.CharField(),
                },
                many=True,
            )
        }
    )
    def get(self, request):
        rows = []
        for assignment in ReaderAssignment.objects.filter(reader=request.user):
            reads = {r.scan_id: r for r in Read.objects.filter(assignment=assignment)}
            for scan in Scan.objects.filter(patient=assignment.patient_id).order_by("scan_date"):
                read = reads.get(scan.pk)
                rows.append(
                    {
                        "scan_id": scan.pk,
                        "reading_label": assignment.reading_label,
                        "scan_date": scan.scan_date,
                        "kind": scan.kind,
                        "modality": scan.modality,
                        "regions": scan.regions,
                        "status": "locked"
                        if read and read.locked_at
                        else "saved"
                        if read
                        else "to read",
                    }
                )
        return Response(rows)


class ReadBody(serializers.Serializer):
    data = serializers.JSONField(help_text="The measurements (format in the README).")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReadView(APIView):
    """GET: your read of a scan with the computed responses of your series and the warnings
    of your baseline read of the case. PUT: save it (a correction of a saved read needs a
    reason; a locked read never changes)."""

    permission_classes = READER

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, scan_id):
        scan, assignment = _own_scan(request, scan_id)
        read = Read.objects.filter(scan=scan, assignment=assignment).first()
        return Response(
            {
                "reading_label": assignment.reading_label,
                "scan_date": scan.scan_date,
                "kind": scan.kind,
                "data": read.data if read else None,
                "locked": bool(read and read.locked_at),
                "responses": both_series(assignment),
                "warnings": baseline_warnings(assignment),
            }
        )

    @extend_schema(request=ReadBody, responses={200: OpenApiTypes.OBJECT})
    def put(self, request, scan_id):
        scan, _ = _own_scan(request, scan_id)
        body = ReadBody(data=request.data)
        body.is_valid(raise_exception=True)
        services.read_save(scan=scan, reader=request.user, **body.validated_data)
        return self.get(request, scan_id)


class LockBody(serializers.Serializer):
    username = serializers.CharField(
        help_text="Your user name: with the password, the electronic signature's two components "
        "(an API request is not a session, so it gives both)."
    )
    password = serializers.CharField(style={"input_type": "password"})


class LockView(APIView):
    """Lock your read by electronic signature (user name and password)."""

    permission_classes = READER

    @extend_schema(request=LockBody, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, scan_id):
        scan, assignment = _own_scan(request, scan_id)
        read = Read.objects.filter(scan=scan, assignment=assignment).first()
        if read is None:
            raise DomainError("Save the read before locking it.")
        body = LockBody(data=request.data)
        body.is_valid(raise_exception=True)
        services.read_lock(read=read, reader=request.user, **body.validated_data)
        return Response({"locked": True})


class ImportBody(serializers.Serializer):
    reading_label = serializers.CharField()
    reads = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=60)


class ExchangeView(APIView):
    """A workstation's exchange of reads as JSON. GET ?reading_label=R-XXXXXX exports your
    reads of that case; POST imports them ({"reading_label", "reads": [{"scan_date", "data",
    "reason"}]}), all or nothing."""

    permission_classes = READER

    def _assignment(self, request, label):
        if not label:
            raise DomainError(field_errors={"reading_label": ["Give the case's reading label."]})
        return get_object_or_404(ReaderAssignment, reader=request.user, reading_label=label)

    @staticmethod
    def _export(assignment) -> dict:
        reads = Read.objects.filter(assignment=assignment).select_related("scan")
        return {
            "reading_label": assignment.reading_label,
            "reads": [
                {
                    "scan_date": r.scan.scan_date,
                    "kind": r.scan.kind,
                    "data": r.data,
                    "locked": bool(r.locked_at),
                }
                for r in sorted(reads, key=lambda r: r.scan.scan_date)
            ],
        }

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        label = request.query_params.get("reading_label", "")
        return Response(self._export(self._assignment(request, label)))

    @extend_schema(request=ImportBody, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        body = ImportBody(data=request.data)
        body.is_valid(raise_exception=True)
        assignment = self._assignment(request, body.validated_data["reading_label"])
        scans = {
            s.scan_date.isoformat(): s for s in Scan.objects.filter(patient=assignment.patient_id)
        }
        items = sorted(body.validated_data["reads"], key=lambda r: str(r.get("scan_date")))
        dates = [str(item.get("scan_date")) for item in items]
        if len(dates) != len(set(dates)):
            raise DomainError(field_errors={"reads": ["Each scan date once."]})
        with transaction.atomic():
            for i, item in enumerate(items, start=1):
                scan = scans.get(str(item.get("scan_date")))
                if scan is None:
                    raise DomainError(
                        field_errors={
                            "reads": [
                                f"Read {i}: no scan of {item.get('scan_date')!r} for this case."
                            ]
                        }
                    )
                services.read_save(
                    scan=scan,
                    reader=request.user,
                    data=item.get("data"),
                    reason=item.get("reason") if isinstance(item.get("reason"), str) else "",
                )
        return Response(self._export(assignment))


# --- adjudication, responses, agreement --------------------------------------------------------


def _case(label) -> tuple[Patient, list[ReaderAssignment]]:
    first = get_object_or_404(ReaderAssignment, reading_label=label, slot=1)
    return first.patient, list(
        ReaderAssignment.objects.filter(patient=first.patient_id).order_by("slot")
    )


class AdjudicationListView(APIView):
    """Discordant cases awaiting the adjudicator, by case label (reader 1's label)."""

    permission_classes = [has_perms("assessments.adjudicate")]

    @extend_schema(operation_id="adjudication_list", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        rows = []
        for assignment in ReaderAssignment.objects.filter(slot=1).select_related("patient"):
            found = services.discordance(assignment.patient)
            if found and services.pending_adjudication(assignment.patient):
                rows.append({"case_label": assignment.reading_label, "disagreements": found})
        return Response(rows)


class DecideBody(serializers.Serializer):
    accepted_slot = serializers.ChoiceField(choices=[1, 2])
    reason = serializers.CharField()


class AdjudicationView(APIView):
    """Both readers' series of a case (blind to arm and clinical data); POST accepts one."""

    permission_classes = [has_perms("assessments.adjudicate")]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, case_label):
        patient, assignments = _case(case_label)
        if not services.discordance(patient):
            raise DomainError("This case is not discordant.")
        return Response(
            {
                "case_label": case_label,
                "disagreements": services.discordance(patient),
                "readers": [
                    {
                        "slot": a.slot,
                        "reads": [
                            {"scan_date": r.scan.scan_date, "kind": r.scan.kind, "data": r.data}
                            for r in Read.objects.filter(assignment=a, locked_at__isnull=False)
                            .select_related("scan")
                            .order_by("scan__scan_date")
                        ],
                        "responses": both_series(a, locked_only=True),
                    }
                    for a in assignments
                ],
            }
        )

    @extend_schema(request=DecideBody, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, case_label):
        patient, _ = _case(case_label)
        body = DecideBody(data=request.data)
        body.is_valid(raise_exception=True)
        services.adjudicate(patient=patient, by=request.user, **body.validated_data)
        return Response(
            {"case_label": case_label, "accepted_slot": body.validated_data["accepted_slot"]},
            status=201,
        )


class ResponsesView(APIView):
    """A patient's accepted responses (agreed or adjudicated) by mRECIST and iRECIST."""

    permission_classes = [has_perms("assessments.view_response")]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, study_id):
        patient = get_object_or_404(Patient, study_id=study_id)
        status = services.imaging_status(patient)
        return Response(
            {
                "study_id": study_id,
                "status": status,
                **{c.value: series_json(services.accepted_series(patient, c)) for c in Criterion},
            }
        )


class AgreementView(APIView):
    """Reader agreement per criterion: timepoints compared, agreement rate, Cohen's kappa."""

    permission_classes = [has_perms("assessments.view_agreement")]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(services.agreement())


# QLQ-C30 questionnaires ------------------------------------------------------------------------


class QuestionnaireSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    answers = serializers.JSONField(
        help_text="Item number -> answer: items 1-28 take 1-4, items 29-30 take 1-7, null (or "
        'left out) when blank. Example: {"1": 2, "2": null, "29": 5}.'
    )
    scores = serializers.DictField(
        child=serializers.FloatField(allow_null=True),
        read_only=True,
        help_text="The 15 scales (QL2, PF2 ... FI) and SUM, 0-100; null when not scorable.",
    )
    change_from_baseline = serializers.SerializerMethodField()
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")

    class Meta:
        model = Questionnaire
        fields = [
            "id",
            "study_id",
            "visit",
            "completed_on",
            "answers",
            "scores",
            "change_from_baseline",
            "reason",
        ]

    @extend_schema_field(serializers.DictField(child=serializers.FloatField(allow_null=True)))
    def get_change_from_baseline(self, questionnaire):
        baselines = self.context.get("baselines")
        if baselines is None:
            baselines = self.context["baselines"] = dict(
                Questionnaire.objects.filter(visit=qlqc30.BASELINE).values_list(
                    "patient_id", "scores"
                )
            )
        return qlqc30.change_from_baseline(
            baselines.get(questionnaire.patient_id), questionnaire.scores
        )

    def create(self, data):
        data.pop("reason", None)
        return services.questionnaire_record(by=self.context["request"].user, **data)

    def update(self, instance, data):
        if data.pop("patient", instance.patient) != instance.patient:
            raise DomainError(field_errors={"study_id": ["The patient does not change."]})
        return services.questionnaire_correct(
            questionnaire=instance,
            by=self.context["request"].user,
            reason=data.pop("reason", ""),
            **data,
        )


class ScoreBody(serializers.Serializer):
    answers = serializers.JSONField()


ScoresSerializer = type(
    "ScoresSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "The 15 scales and the summary score (0-100, null when not scorable).",
        **{
            code: serializers.FloatField(allow_null=True)
            for code in [s.code for s in qlqc30.SCALES] + ["SUM"]
        },
    },
)


class QuestionnaireFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="patient__study_id")

    class Meta:
        model = Questionnaire
        fields = ["study_id", "visit"]


class QuestionnaireViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """EORTC QLQ-C30 v3.0 questionnaires: post the answers, get the scores (per the scoring
    manual, the half-items rule and the summary score). PATCH corrects with a `reason`.
    POST .../score/ scores answers without saving them."""

    serializer_class = QuestionnaireSerializer
    filterset_class = QuestionnaireFilter

    def get_queryset(self):
        return Questionnaire.objects.select_related("patient")

    @extend_schema(request=ScoreBody, responses=ScoresSerializer)
    @action(detail=False, methods=["post"])
    def score(self, request):
        body = ScoreBody(data=request.data)
        body.is_valid(raise_exception=True)
        answers = body.validated_data["answers"]
        if not isinstance(answers, dict):
            raise DomainError(field_errors={"answers": ["Item number -> answer."]})
        try:
            return Response(qlqc30.score(answers))
        except qlqc30.AnswerError as error:
            raise DomainError(
                field_errors={"answers": [f"Item {k}: {v}" for k, v in error.problems.items()]}
            ) from None

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)
