from datetime import date

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import has_perms
from dosing.models import Infusion
from dosing.selectors import dose_spans
from inkt_trial.api import HistorySerializer, PatientField, csv_response
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from safety import rules, selectors, services, tables
from safety.models import SUSAR_STATUS, AdverseEvent, CtcaeTerm, SaeReport


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
            if q.isascii() and q.isdigit() and len(q) < 10:
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
    infusion = serializers.PrimaryKeyRelatedField(
        queryset=Infusion.objects.all(),
        required=False,
        allow_null=True,
        help_text="The iNKT infusion this event followed (an infusion-related reaction).",
    )
    treatment_emergent = serializers.SerializerMethodField(
        help_text="Onset from the first dose of any study treatment up to TEAE_WINDOW_DAYS "
        "days (30 unless configured) after the last dose (derived when read)."
    )
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")
    grade = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=5,
        help_text="CTCAE grade. For cytokine release syndrome and ICANS leave it out: the ASTCT "
        "grade of astct_inputs is taken (a different grade is refused).",
    )
    astct_inputs = serializers.DictField(
        required=False,
        help_text="CRS: max_temperature_c, antipyretic_or_anticytokine, hypotension (none, "
        "no_vasopressor, one_vasopressor, multiple_vasopressors), oxygen (none, low_flow, "
        "high_flow_or_mask, positive_pressure). ICANS (term 'Nervous system disorders - Other, "
        "specify', specification naming ICANS): ice_orientation (0-4), ice_naming (0-3), "
        "ice_commands, ice_writing, ice_attention (0-1) or ice_unarousable, consciousness, "
        "seizure, motor, icp (safety/crs.py).",
    )
    susar = serializers.BooleanField(source="is_susar", read_only=True)
    susar_due = serializers.SerializerMethodField(
        help_text="The expedited report's due date (7 days from awareness if fatal or "
        "life-threatening, else 15); null unless a SUSAR."
    )
    susar_follow_up_due = serializers.SerializerMethodField(
        help_text="Fatal or life-threatening SUSAR: the complete report's due date."
    )
    susar_overdue = serializers.SerializerMethodField()
    expectedness_proposed = serializers.SerializerMethodField(
        help_text="Per drug: 'expected' when its reference safety information lists the term."
    )

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
            "infusion",
            "astct_inputs",
            "astct_grade",
            "narrative",
            "expectedness_inkt",
            "expectedness_pd1",
            "expectedness_regorafenib",
            "expectedness_proposed",
            "susar_status",
            "susar",
            "susar_report_at",
            "susar_follow_up_at",
            "susar_due",
            "susar_follow_up_due",
            "susar_overdue",
            "reason",
        ]
        read_only_fields = [
            "serious",
            "relationship_inkt",
            "relationship_pd1",
            "relationship_regorafenib",
            "expectedness_inkt",
            "expectedness_pd1",
            "expectedness_regorafenib",
            "astct_grade",
            "susar_status",
        ]

    def get_susar_due(self, event) -> date | None:
        clock = event.susar_clock
        return clock and clock.due

    def get_susar_follow_up_due(self, event) -> date | None:
        clock = event.susar_clock
        return clock and clock.follow_up_due

    def get_susar_overdue(self, event) -> bool:
        clock = event.susar_clock
        return bool(clock and (clock.overdue or clock.follow_up_overdue))

    def get_expectedness_proposed(self, event) -> dict[str, str]:
        return services.proposed_expectedness(event)

    def get_treatment_emergent(self, event) -> bool:
        spans = self.context.setdefault("dose_spans", {})
        if event.patient_id not in spans:  # the spans of the whole page (or the one event) at once
            listed = getattr(self.parent, "instance", None) if self.parent is not None else None
            ids = {e.patient_id for e in listed} if listed is not None else set()
            spans.update(dose_spans(sorted(ids | {event.patient_id})))
        return selectors.emergent(event, spans.get(event.patient_id))

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
    expectedness_inkt = serializers.CharField(required=False, help_text="expected, unexpected")
    expectedness_pd1 = serializers.CharField(required=False)
    expectedness_regorafenib = serializers.CharField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AdverseEventFilter(django_filters.FilterSet):
    study_id = django_filters.CharFilter(field_name="patient__study_id")
    serious = django_filters.BooleanFilter()
    susar_status = django_filters.ChoiceFilter(choices=SUSAR_STATUS)


class AdverseEventViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Adverse events (CTCAE v5.0; CRS and ICANS graded by ASTCT from `astct_inputs`). PATCH
    corrects with a `reason`; POST .../causality/ is the investigator's assessment of
    relationship and expectedness per drug (the SUSAR status follows); GET .../overdue/ lists
    SAEs whose 24-hour report is late. Filter SUSARs with `?susar_status=susar`."""

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
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def overdue(self, request):
        events = services.overdue_saes(now=timezone.now())
        return Response(self.get_serializer(events, many=True).data)

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)


class SaeReportSerializer(serializers.ModelSerializer):
    event = serializers.PrimaryKeyRelatedField(queryset=AdverseEvent.objects.all())

    class Meta:
        model = SaeReport
        fields = ["id", "event", "kind", "sent_at", "information"]
        extra_kwargs = {"kind": {"required": True}}  # the service needs it: no silent default

    def create(self, data):
        return services.sae_report_record(by=self.context["request"].user, **data)


class SaeReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Follow-up and final reports of serious adverse events (the initial report's time is the
    event's `initial_report_at`). Filter with `?event=<id>`."""

    serializer_class = SaeReportSerializer
    filterset_fields = ["event"]

    def get_queryset(self):
        return SaeReport.objects.all()

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)


class ArmCountSerializer(serializers.Serializer):
    arm = serializers.CharField()
    population = serializers.IntegerField()
    patients = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)
    by_worst_grade = serializers.DictField(child=serializers.IntegerField())
    events = serializers.IntegerField(allow_null=True, help_text="Counted on the event rows only.")


class SafetyRowSerializer(serializers.Serializer):
    section = serializers.CharField()
    soc = serializers.CharField()
    term = serializers.CharField()
    arms = ArmCountSerializer(many=True)


def table_json(table: tables.Table) -> list[dict]:
    out = []
    for _key, label, by_arm in table.summary:
        out.append(
            {
                "section": "summary",
                "soc": "",
                "term": label,
                "arms": [
                    {
                        "arm": arm,
                        "population": table.population[arm],
                        "patients": by_arm[arm],
                        "percent": tables.percent(by_arm[arm], table.population[arm]),
                        "by_worst_grade": {},
                        "events": None,
                    }
                    for arm in table.arms
                ],
            }
        )
    sections = [("by_term", table.rows, table.arms)]
    if table.infusion_arm:
        sections.append(("infusion_reactions", table.infusion, (table.infusion_arm,)))
    for section, rows, arms in sections:
        for row in rows:
            out.append(
                {
                    "section": section,
                    "soc": row.soc,
                    "term": row.term,
                    "arms": [
                        {
                            "arm": arm,
                            "population": table.population[arm],
                            "patients": row.counts[arm].patients,
                            "percent": tables.percent(
                                row.counts[arm].patients, table.population[arm]
                            ),
                            "by_worst_grade": {
                                str(g): n for g, n in row.counts[arm].by_worst_grade.items()
                            },
                            "events": row.counts[arm].events,
                        }
                        for arm in arms
                    ],
                }
            )
    return out


class SafetyTableView(APIView):
    """Treatment-emergent adverse events of the safety population by arm: patients with any
    event, grade 3 or more, serious, leading to discontinuation, fatal; by SOC and term with
    the worst grade per patient; infusion-related reactions and CRS of the arm given cell
    infusions. The same as CSV at .../csv/. A masked statistician sees arm codes, and none of
    the rows that only one arm can have."""

    permission_classes = [has_perms("safety.view_safety_tables")]

    @extend_schema(responses=SafetyRowSerializer(many=True))
    def get(self, request):
        return Response(table_json(selectors.safety_table(request.user)))


class SafetyTableCsvView(SafetyTableView):
    """The safety tables as CSV: one line per section, row and arm."""

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request):
        header, *rows = tables.csv_rows(selectors.safety_table(request.user))
        return csv_response(rows, header, "safety-tables.csv")


class SusarRowSerializer(serializers.Serializer):
    event = serializers.IntegerField()
    study_id = serializers.CharField()
    arm = serializers.CharField(help_text="The arm, or its code for a masked reader.")
    term = serializers.CharField(help_text="Withheld for a masked reader.")
    onset = serializers.DateField()
    fatal_or_life_threatening = serializers.BooleanField()
    suspected = serializers.ListField(
        child=serializers.CharField(), help_text="The suspected drugs; empty for a masked reader."
    )
    day0 = serializers.DateField(help_text="Awareness of the serious event.")
    due = serializers.DateField()
    reported = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField()
    follow_up_due = serializers.DateField(allow_null=True)
    followed_up = serializers.DateField(allow_null=True)
    follow_up_overdue = serializers.BooleanField()


class SusarListView(APIView):
    """Suspected unexpected serious adverse reactions and their expedited-report clocks (ICH
    E2A; EU 536/2014 art. 42; 21 CFR 312.32): due 7 calendar days from awareness when fatal or
    life-threatening (the complete report 8 days later), 15 otherwise. A masked statistician
    gets arm codes, and neither the terms nor the suspected drugs."""

    permission_classes = [has_perms("safety.view_susar_listing")]

    @extend_schema(responses=SusarRowSerializer(many=True))
    def get(self, request):
        rows = selectors.susar_listing(request.user)
        return Response(SusarRowSerializer([vars(r) for r in rows], many=True).data)
