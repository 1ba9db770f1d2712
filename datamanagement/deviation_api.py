"""The protocol deviation log through the API: the log with its filters, a deviation recorded
by hand, its correction, the review of any deviation, and the audit trail. A deviation is named
by its key: a derived one's (`inkt-window:INKT-004:course-3`) or a recorded one's number."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import has_perms
from datamanagement import deviation_log, deviations
from datamanagement import deviation_selectors as selectors
from datamanagement import deviation_services as services
from datamanagement.deviation_forms import DeviationFilterForm
from datamanagement.models import DeviationReview, ProtocolDeviation
from inkt_trial.api import HistorySerializer, PatientField
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError

TEXT = {"max_length": 4000}


class EntrySerializer(serializers.Serializer):
    """One deviation of the log."""

    key = serializers.CharField()
    study_id = serializers.CharField()
    source = serializers.ChoiceField(choices=[deviations.DERIVED, deviations.RECORDED])
    date = serializers.DateField(source="occurred_on")
    identified = serializers.DateField(source="identified_on", allow_null=True)
    category = serializers.ChoiceField(choices=deviations.CATEGORY_CHOICES)
    category_text = serializers.CharField()
    description = serializers.CharField()
    classification = serializers.ChoiceField(choices=deviations.CLASSIFICATION_CHOICES)
    classification_confirmed = serializers.BooleanField(
        source="confirmed", help_text="Classified by a data manager or an investigator."
    )
    default_classification = serializers.ChoiceField(
        choices=deviations.CLASSIFICATION_CHOICES,
        allow_null=True,
        help_text="The rule's (derived only).",
    )
    rule = serializers.CharField(help_text="The rule that derived it (empty: recorded).")
    corrective_action = serializers.CharField(source="follow.corrective_action", default="")
    preventive_action = serializers.CharField(source="follow.preventive_action", default="")
    reported_to_ethics_committee = serializers.DateField(
        source="follow.reported_to_ec_on", default=None, allow_null=True
    )
    status = serializers.ChoiceField(
        choices=[deviations.NOT_REVIEWED, *deviations.STATUSES],
        help_text="`not reviewed`: a derived deviation nobody reviewed yet.",
    )
    shown_by_records = serializers.BooleanField(
        source="shown",
        help_text="False: a reviewed derived deviation the records no longer show.",
    )


class FollowSerializer(serializers.Serializer):
    classification = serializers.ChoiceField(choices=deviations.CLASSIFICATION_CHOICES)
    corrective_action = serializers.CharField(required=False, allow_blank=True, **TEXT)
    preventive_action = serializers.CharField(required=False, allow_blank=True, **TEXT)
    reported_to_ec_on = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=deviations.STATUS_CHOICES, required=False)


class RecordSerializer(FollowSerializer):
    study_id = PatientField()
    occurred_on = serializers.DateField()
    identified_on = serializers.DateField()
    category = serializers.ChoiceField(choices=deviations.CATEGORY_CHOICES)
    description = serializers.CharField(**TEXT)


class CorrectSerializer(RecordSerializer):
    reason = serializers.CharField(**TEXT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("study_id")
        for name, field in self.fields.items():
            field.required = name == "reason"


class ReviewSerializer(FollowSerializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Required to classify a derived deviation otherwise than its rule, and to "
        "change an earlier review or a recorded deviation.",
        **TEXT,
    )


FILTERS = [
    OpenApiParameter("study_id", str, description="The patient's study ID."),
    OpenApiParameter("classification", str, enum=list(deviations.CLASSIFICATIONS)),
    OpenApiParameter("category", str, enum=[c for c, _ in deviations.CATEGORY_CHOICES]),
    OpenApiParameter("date_from", str, description="YYYY-MM-DD: deviations on or after."),
    OpenApiParameter("date_to", str, description="YYYY-MM-DD: deviations on or before."),
]


def _refused(errors) -> DomainError:
    return DomainError("Refused.", field_errors={k: [str(m) for m in v] for k, v in errors.items()})


class DeviationViewSet(viewsets.GenericViewSet):
    """The protocol deviation log: derived deviations (each classified by its rule until
    reviewed) and those recorded by hand. Recorded by the coordinator or the data manager,
    corrected with a reason; reviewed (classification, corrective and preventive actions,
    report to the ethics committee, status) by the data manager or an investigator."""

    serializer_class = EntrySerializer
    lookup_field = "key"
    lookup_value_regex = "[^/]{1,80}"
    filter_backends = []
    permission_classes = [has_perms("datamanagement.view_protocoldeviation")]
    WRITES = {
        "create": "datamanagement.add_protocoldeviation",
        "partial_update": "datamanagement.change_protocoldeviation",
    }

    def get_permissions(self):
        if self.action in self.WRITES:
            return [has_perms(self.WRITES[self.action])()]
        return super().get_permissions()

    def get_queryset(self):
        return ProtocolDeviation.objects.none()  # the log is read through the selectors

    def _entry(self) -> deviation_log.Entry:
        found = selectors.entry(self.kwargs["key"])
        if found is None:
            raise Http404
        return found

    @extend_schema(parameters=FILTERS, responses=EntrySerializer(many=True))
    def list(self, request):
        form = DeviationFilterForm(request.query_params)
        if not form.is_valid():
            raise _refused(form.errors)
        page = self.paginate_queryset(selectors.log(**form.filters()))
        return self.get_paginated_response(EntrySerializer(page, many=True).data)

    @extend_schema(request=RecordSerializer, responses={201: EntrySerializer})
    def create(self, request):
        body = RecordSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        record = services.deviation_record(
            patient=values.pop("study_id"), by=request.user, **values
        )
        return Response(EntrySerializer(selectors.recorded_entry(record)).data, status=201)

    def retrieve(self, request, key=None):
        return Response(EntrySerializer(self._entry()).data)

    @extend_schema(request=CorrectSerializer, responses=EntrySerializer)
    def partial_update(self, request, key=None):
        """Correct a deviation recorded by hand, with `reason` (a derived one is corrected in
        the records it comes from)."""
        entry = self._entry()
        if entry.source != deviations.RECORDED:
            raise DomainError(
                "A derived deviation is corrected in the records it comes from (raise a data "
                "query); review it to classify it and record its follow-up."
            )
        body = CorrectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = services.deviation_correct(
            deviation=ProtocolDeviation.objects.get(number=entry.key),
            by=request.user,
            **body.validated_data,
        )
        return Response(EntrySerializer(selectors.recorded_entry(record)).data)

    @extend_schema(request=ReviewSerializer, responses=EntrySerializer)
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[has_perms("datamanagement.classify_deviation")],
    )
    def review(self, request, key=None):
        """Classify the deviation (confirm or change) and record its follow-up; the fields not
        given keep their values."""
        entry = self._entry()
        body = ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        follow = entry.follow
        values = {
            name: getattr(follow, name)
            for name in services.FOLLOW_FIELDS
            if follow is not None and name != "classification"
        }
        values.update(body.validated_data)
        return Response(
            EntrySerializer(
                services.deviation_review(key=entry.key, by=request.user, **values)
            ).data
        )

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, key=None):
        """Every version of the recorded deviation, or of the derived one's review (none before
        it is reviewed): who, when, what changed and why."""
        entry = self._entry()
        if entry.source == deviations.RECORDED:
            record = ProtocolDeviation.objects.get(number=entry.key)
        else:
            record = DeviationReview.objects.filter(key=entry.key).first()
        rows = history_of(record) if record is not None else []
        return Response(HistorySerializer(rows, many=True).data)
