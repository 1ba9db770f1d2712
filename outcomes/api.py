import json

import django_filters
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from accounts.permissions import has_perms
from inkt_trial.api import HistorySerializer, PatientField
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError
from outcomes import (
    adae,
    adam,
    cdisc,
    exports,
    run_results,
    sdtm,
    sdtm_domains,
    selectors,
    services,
)
from outcomes.models import EndpointRun, FollowUp
from randomization.selectors import can_see_arms


class FollowUpSerializer(serializers.ModelSerializer):
    study_id = PatientField(source="patient")
    reason = serializers.CharField(write_only=True, required=False, help_text="For corrections.")

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "study_id",
            "kind",
            "date",
            "alive",
            "therapy",
            "from_public_records",
            "notes",
            "reason",
        ]

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
    """Follow-up records: survival contacts (`alive`; `from_public_records`) and new anticancer
    therapies (`therapy`). The death, withdrawals of consent and ends of study are the patient's
    status changes (`/api/patient-status/changes/`). PATCH corrects with a `reason`."""

    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter

    def get_queryset(self):
        return FollowUp.objects.select_related("patient")

    @extend_schema(responses=HistorySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, pk=None):
        return Response(HistorySerializer(history_of(self.get_object()), many=True).data)


# Endpoint runs ---------------------------------------------------------------------------------


class RunSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField(
        help_text="queued, running, done, failed; stalled (running without a heartbeat) or "
        "waiting (queued for long without a worker): both may be retried."
    )
    requested_by = serializers.StringRelatedField()

    class Meta:
        model = EndpointRun
        fields = [
            "id",
            "cutoff",
            "death_is_ttd_event",
            "state",
            "progress",
            "step",
            "error",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "attempts",
            "software_version",
            "data_digest",
            "patients",
            "data_lock",
            "log",
        ]
        read_only_fields = [f for f in fields if f not in ("cutoff", "death_is_ttd_event")]

    def get_state(self, run) -> str:
        return services.run_state(run)

    def create(self, data):
        return services.run_start(by=self.context["request"].user, **data)


class QueueUnavailableError(APIException):
    status_code = 503
    default_code = "queue_unavailable"


def masked_for(request) -> bool:
    return not can_see_arms(request.user) or request.query_params.get("arms") == "codes"


class RunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Endpoint runs. POST a `cutoff` (and `death_is_ttd_event` for the sensitivity analysis):
    a Celery worker computes the run from one consistent snapshot; poll the run for its
    `state` and `progress`. Then `.../results/` (JSON), `.../export/<adtte|responses|
    summary>/<csv|json>/` and `.../cdisc/` (the CDISC package, ADaM and SDTM: a ZIP of SAS
    transport v5 and CSV files with define.json); `?arms=codes` gives arm codes (always, for a
    masked statistician).
    A failed or stalled run is retried with POST `.../retry/`; `compare/?a=&b=` compares two."""

    serializer_class = RunSerializer

    def get_queryset(self):
        return EndpointRun.objects.select_related("requested_by").defer("results")

    def create(self, request, *args, **kwargs):
        try:
            return super().create(request, *args, **kwargs)
        except services.QueueUnavailable as error:
            raise QueueUnavailableError(error.message) from None

    def done(self) -> EndpointRun:
        run = get_object_or_404(EndpointRun, pk=self.kwargs["pk"])
        if run.status != EndpointRun.DONE:
            raise DomainError(f"Run {run.pk} is {services.run_state(run)}: no results yet.")
        return run

    @extend_schema(request=None, responses=RunSerializer)
    @action(
        detail=True, methods=["post"], permission_classes=[has_perms("outcomes.add_endpointrun")]
    )
    def retry(self, request, pk=None):
        try:
            run = services.run_retry(run=self.get_object(), by=request.user)
        except services.QueueUnavailable as error:
            raise QueueUnavailableError(error.message) from None
        return Response(self.get_serializer(run).data)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """The run's per-arm summary (and its conventions); the per-patient rows are in the
        exports."""
        run = self.done()
        results = run_results.summary(run)  # never a patient's row
        view = exports.presentation(results, masked_for(request))
        summary = results["summary"]

        def by_label(by_arm: dict) -> dict:
            return {view.labels[a]: by_arm[a] for a in view.arms if a in by_arm}

        return Response(
            {
                "run": RunSerializer(run).data,
                "conventions": view.conventions(results["conventions"]),
                "params": results["params"],
                "arms": [view.labels[a] for a in view.arms],
                "comparison": view.comparison,
                "hazard_ratio_direction": view.hr_direction,
                "pending_adjudication": pending_adjudication(results),
                "n": by_label(results["n"]),
                "response": {
                    criterion: {
                        "best": by_label(entry["best"]),
                        **{m: by_label(entry[m]) for m in ("ORR", "DCR")},
                        **{
                            f"{m}_difference": view.difference(entry.get(f"{m}_difference"))
                            for m in ("ORR", "DCR")
                        },
                    }
                    for criterion, entry in summary["response"].items()
                },
                "survival": {
                    param: {
                        "arms": by_label(entry["arms"]),
                        "logrank_p": entry.get("logrank_p"),
                        "hazard_ratio": view.hazard_ratio(entry.get("hazard_ratio")),
                    }
                    for param, entry in summary["survival"].items()
                },
                "os_1_year": by_label(summary["os_1_year"]),
            }
        )

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
        }
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"export/(?P<table>adtte|responses|summary)/(?P<kind>csv|json)",
    )
    def export(self, request, pk=None, table=None, kind=None):
        run = self.done()
        meta = {
            "computed_at": run.finished_at.isoformat(),
            "software_version": run.software_version,
        }
        masked = masked_for(request)
        found = exports.each_row(
            run_results.summary(run),
            table,
            masked=masked,
            meta=meta,
            source=None if table == "summary" else run_results.stream(run, table),
        )  # the per-patient tables streamed, a chunk of patients at a time
        name = f"nct05962450-run{run.pk}-{table}-cutoff{run.cutoff}.{kind}"
        if table == "summary":
            found = list(found)
            if kind == "csv":
                response = HttpResponse(exports.to_csv(found), content_type=CSV)
            else:
                response = JsonResponse({**run_conventions(run, masked), "rows": found})
        elif kind == "csv":
            response = StreamingHttpResponse(exports.csv_chunks(found), content_type=CSV)
        else:
            response = StreamingHttpResponse(
                exports.json_chunks(run_conventions(run, masked), found, _json),
                content_type="application/json",
            )
        if kind == "csv":  # CSV holds data rows only; its conventions are the companion document
            query = "?arms=codes" if request.query_params.get("arms") == "codes" else ""
            companion = request.build_absolute_uri(
                f"/api/outcomes/runs/{run.pk}/conventions/{query}"
            )
            response["Link"] = f'<{companion}>; rel="describedby"; type="application/json"'
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @extend_schema(
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
        description="The run's CDISC package, a ZIP: the ADaM datasets ADSL, ADTTE, ADRS, ADQS, "
        "ADAE (ADaM IG 1.3, OCCDS 1.1) and the SDTM domains DM, AE, SUPPAE (unmasked only), EX, "
        "DS, QS, LB, TU, TR and RS (SDTM IG 3.4; all but DM from the records dated up to the "
        "cut-off) as SAS transport v5 files (`adsl.xpt` ...) and CSV (`adsl.csv` ...), "
        "`define.json` (datasets, keys, variables with label, type, length, format and "
        "derivation) and `README.txt`. Arm codes for a masked statistician (or `?arms=codes`). "
        "ADTTE holds the same rows and values as `export/adtte/`. A run not done is a 400.",
    )
    @action(detail=True, methods=["get"])
    def cdisc(self, request, pk=None):
        run = self.done()
        masked = masked_for(request)
        results = run_results.results(run)
        view = exports.presentation(results, masked)
        meta = {
            "computed_at": run.finished_at.isoformat(),
            "software_version": run.software_version,
        }
        context = {
            **run_conventions(run, masked),
            "arms": [view.labels[a] for a in view.arms],
            "package_made_at": timezone.now().isoformat(),
            "tabulations_source": "ADaM ADSL, ADTTE, ADRS, ADQS and SDTM DM: the run's stored "
            "results. ADaM ADAE and the other SDTM domains: the records dated up to the cut-off "
            "as they stood when the package was made (the same as at the run when its data were "
            "locked).",
        }
        events, doses = selectors.sdtm_records(run.cutoff)
        stops, questionnaires, values = selectors.sdtm_domain_records(run.cutoff)
        try:
            body = cdisc.package(
                results,
                masked=masked,
                meta=meta,
                context=context,
                tabulations=[
                    adae.adae(results, events, masked=masked),
                    *sdtm.datasets(results, events, doses, masked=masked),
                    sdtm_domains.ds(results, stops, masked=masked),
                    sdtm_domains.qs(questionnaires),
                    sdtm_domains.lb(values, masked=masked),
                    *sdtm_domains.tumours(selectors.imaging_records(run.cutoff)),
                ],
            )
        except adam.PackageError as error:
            raise DomainError(f"Run {run.pk}: the CDISC package cannot be made: {error}") from None
        response = HttpResponse(body, content_type="application/zip")
        name = f"nct05962450-run{run.pk}-cdisc-cutoff{run.cutoff}.zip"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def conventions(self, request, pk=None):
        """The conventions of the run's exports (the CSV files' companion; the JSON exports
        carry the same inline): cut-off, time of computation, software, data fingerprint,
        parameters, rules applied, the hazard ratio's direction and reads awaiting
        adjudication."""
        return Response(run_conventions(self.done(), masked_for(request)))

    @extend_schema(
        parameters=[OpenApiParameter("a", int), OpenApiParameter("b", int)],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=False, methods=["get"])
    def compare(self, request):
        """Two runs side by side: same data? per parameter and arm, what changed."""
        ids = [request.query_params.get(k, "") for k in ("a", "b")]
        if not all(i.isascii() and i.isdigit() for i in ids):
            raise DomainError("Give two run ids: ?a=<id>&b=<id>.")
        a, b = (get_object_or_404(EndpointRun, pk=int(i)) for i in ids)
        for run in (a, b):
            if run.status != EndpointRun.DONE:
                raise DomainError(f"Run {run.pk} has no results yet.")
        return Response(runs_compared(a, b, masked_for(request)))


CSV = "text/csv; charset=utf-8"


def _json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder)  # as JsonResponse writes it


def pending_adjudication(results: dict) -> dict:
    """Patients whose reads up to the cut-off include a discordance still awaiting the
    adjudicator (their endpoints use the settled earlier extent)."""
    return results.get("pending_adjudication", {"count": 0, "patients": []})


def run_conventions(run: EndpointRun, masked: bool) -> dict:
    results = run_results.summary(run)
    view = exports.presentation(results, masked)
    return {
        "study": "NCT05962450",
        "run": run.pk,
        "cutoff": run.cutoff.isoformat(),
        "computed_at": run.finished_at.isoformat(),
        "software_version": run.software_version,
        "data_digest": run.data_digest,
        "data_lock": run.data_lock,
        "params": results["params"],
        "conventions": view.conventions(results["conventions"]),
        "hazard_ratio_direction": view.hr_direction,
        "time_units": "AVAL in days; months = days / 30.4375",
        "pending_adjudication": pending_adjudication(results),
    }


def runs_compared(a: EndpointRun, b: EndpointRun, masked: bool) -> dict:
    first, second = run_results.summary(a), run_results.summary(b)
    labels = exports.arm_labels(first, masked)
    changes = []
    for param, entry in first["summary"]["survival"].items():
        other = second["summary"]["survival"].get(param)
        for arm in first["arms"]:
            x, y = entry["arms"][arm], other["arms"].get(arm) if other else None
            for key in ("patients", "events", "median"):
                if y is None or x[key] != y[key]:
                    changes.append(
                        {
                            "param": param,
                            "arm": labels[arm],
                            "what": key,
                            "a": x[key],
                            "b": y and y[key],
                        }
                    )
    return {
        **{
            key: {
                "id": run.pk,
                "cutoff": run.cutoff,
                "data_digest": run.data_digest,
                "data_lock": run.data_lock,
            }
            for key, run in (("a", a), ("b", b))
        },
        "same_data": a.data_digest == b.data_digest,
        "identical_results": run_results.identical(a, b),
        "changes": changes,
    }
