"""What the DSMB report reads (outcomes/dsmb.py turns it into tables): a done endpoint run's
results, and at its cut-off the exposure, the adverse events and the deaths of the patients it
analysed, by arm as the session shows them. A fixed number of queries, whatever the number of
patients."""

from __future__ import annotations

import base64
from datetime import datetime, time, timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from dosing.models import DrugExposure, Infusion
from dosing.selectors import dose_spans
from enrollment import status
from enrollment.dates import shown
from enrollment.models import StatusChange
from outcomes import analysis, consort, dsmb, exports, plots, run_results, selectors
from outcomes.models import EndpointRun
from randomization.models import Allocation
from randomization.protocol import ARMS, RPI
from randomization.selectors import can_see_arms
from safety import tables
from safety.models import DRUGS, AdverseEvent
from safety.selectors import emergent

KM_PARAMS = ("PFS", "OS")


class OpenSessionReader:
    """The reader of an open session: the user's permissions, without sight of the arms (the
    CONSORT flow then shows the codes, as to a masked statistician)."""

    def __init__(self, user):
        self.user = user

    def has_perm(self, perm, obj=None) -> bool:
        return perm != "randomization.view_arm" and self.user.has_perm(perm, obj)


def may_read(user, session: str) -> bool:
    """The open session: whoever sees the runs; the closed one: whoever also sees the arms
    (randomization.selectors.can_see_arms: never a masked statistician)."""
    if not user.has_perm("outcomes.view_endpointrun"):
        return False
    return session == dsmb.OPEN or can_see_arms(user)


def report(run: EndpointRun, *, session: str, user, now=None) -> dict:
    """Everything the template templates/outcomes/dsmb.html shows. Refused (dsmb.ReportRefused)
    for a run without results, and for an open session of a run whose arm codes are the arm
    names (an uncoded sequence: nothing to mask with)."""
    if run.status != EndpointRun.DONE or not run.results:
        raise dsmb.ReportRefused(
            f"Run {run.pk} is {run.status}: a DSMB report needs a run that is done."
        )
    results = run_results.results(run)
    masked = session == dsmb.OPEN
    view = exports.presentation(results, masked=masked)
    labels = view.labels
    if masked and not dsmb.masking_holds(labels, ARMS):
        raise dsmb.ReportRefused(
            "The randomization sequence carries no arm codes: an open session cannot mask the "
            "arms. Map the codes (A/B) to the arms first."
        )
    arms = [labels[a] for a in view.arms]
    study_ids = sorted(
        {row["USUBJID"] for row in results["adtte"]} | set(results.get("arm_codes", {}))
    )
    allocations = list(
        Allocation.objects.filter(patient__study_id__in=study_ids).values_list(
            "patient_id", "patient__study_id", "arm"
        )
    )
    population = {sid: labels[arm] for _, sid, arm in allocations if arm in labels}
    ids = {pid: sid for pid, sid, arm in allocations if arm in labels}
    cutoff = run.cutoff
    end = timezone.make_aware(datetime.combine(cutoff + timedelta(days=1), time.min))
    reader = OpenSessionReader(user) if masked else user
    flow = selectors.consort_flow(reader, cutoff)
    hidden = tables.INFUSION_TERMS if masked else ()
    safety, serious = safety_tables(
        ids, population, arms=arms, cutoff=cutoff, masked=masked, infusion_label=labels.get(RPI)
    )
    deaths = dsmb.deaths(
        results,
        labels,
        causes=death_causes(ids, cutoff) if not masked else None,
        fatal_events=fatal_events(ids, cutoff),
        hidden_terms=hidden,
    )
    drugs = (dsmb.PD1, dsmb.REGORAFENIB) if masked else (dsmb.INKT, dsmb.PD1, dsmb.REGORAFENIB)
    now = now or timezone.now()
    title = f"Run {run.pk} · data cut-off {shown(cutoff)}"
    lock = dsmb.lock_status(run.data_lock)
    return {
        "run": run,
        "session": session,
        "session_label": dsmb.SESSIONS[session],
        "masked": masked,
        "generated": timezone.localtime(now),
        "generated_by": user,
        "lock": lock,
        "locked": bool(run.data_lock and run.data_lock.get("locked")),
        "page_top_left": dsmb.css_string(f"NCT05962450 · DSMB report · {dsmb.SESSIONS[session]}"),
        "page_top_right": dsmb.css_string(title),
        "page_bottom_left": dsmb.css_string(lock),
        "arms": [(labels[a], results["n"][a]) for a in view.arms],
        "arm_labels": arms,
        "randomized": sum(results["n"].values()),
        "flow": flow,
        "diagram": consort.layout(flow),
        "exposure": dsmb.exposure(
            population, doses(ids, cutoff=cutoff, end=end), arms=arms, drugs=drugs
        ),
        "safety": safety,
        "safety_arms": [(arm, safety.population[arm]) for arm in safety.arms],
        "infusion_arms": [(safety.infusion_arm, safety.population.get(safety.infusion_arm, 0))],
        "ae_summary": dsmb.ae_summary(safety),
        "ae_rows": dsmb.ae_rows(safety),
        "infusion_rows": dsmb.ae_rows(safety, safety.infusion) if safety.infusion else [],
        "sae_rows": dsmb.ae_rows(serious),
        "grades": tables.GRADES,
        "deaths": deaths,
        "deaths_by_arm": dsmb.deaths_by_arm(deaths, arms),
        "km": km_images(run, view),
        "survival": [
            (
                code,
                analysis.PARAMS[code],
                [(labels[a], results["summary"]["survival"][code]["arms"][a]) for a in view.arms],
                results["summary"]["survival"][code].get("logrank_p"),
                view.hazard_ratio(results["summary"]["survival"][code].get("hazard_ratio")),
            )
            for code in KM_PARAMS
        ],
        "hr_direction": view.hr_direction,
        "pending": results.get("pending_adjudication", {"count": 0, "patients": []}),
        "conventions": view.conventions(results["conventions"]),
    }


def doses(ids: dict[int, str], *, cutoff, end) -> list[dsmb.Dose]:
    """Each patient's iNKT courses given (and cells infused) before the end of the cut-off day,
    and their PD-1 and regorafenib records (administrations, periods) started by it."""
    found = [
        dsmb.Dose(ids[pid], dsmb.INKT, n, int(cells or 0))
        for pid, n, cells in Infusion.objects.filter(
            patient_id__in=list(ids), status=Infusion.GIVEN, infused_at__lt=end
        )
        .values("patient_id")
        .annotate(n=Count("id"), cells=Sum("cells_infused"))
        .values_list("patient_id", "n", "cells")
    ]
    found += [
        dsmb.Dose(ids[pid], drug, n)
        for pid, drug, n in DrugExposure.objects.filter(
            patient_id__in=list(ids), start_date__lte=cutoff
        )
        .exclude(event="interruption")
        .values("patient_id", "drug")
        .annotate(n=Count("id"))
        .values_list("patient_id", "drug", "n")
    ]
    return found


def safety_tables(ids, population, *, arms, cutoff, masked, infusion_label):
    """(every treatment-emergent adverse event, the serious ones) of the safety population at
    the cut-off: the run's patients given a first dose by then, events with onset by then; the
    same rules as the safety tables (safety.selectors.safety_table), by arm label; the open
    session (masked) counts from the drugs both arms receive, as a masked statistician's."""
    spans = dose_spans(list(ids), shared_only=masked)
    dosed = {
        ids[pid]: population[ids[pid]]
        for pid, (first, _last) in spans.items()
        if pid in ids and first is not None and first <= cutoff
    }
    events = [
        tables.Event(
            patient=ids[e.patient_id],
            soc=e.term.soc,
            term=e.term.term,
            grade=e.grade,
            serious=e.serious,
            discontinuation=any(getattr(e, f"action_{d}") == "withdrawn" for d in DRUGS),
        )
        for e in AdverseEvent.objects.filter(
            patient_id__in=list(ids), onset__lte=cutoff
        ).select_related("term")
        if ids[e.patient_id] in dosed and emergent(e, spans.get(e.patient_id))
    ]
    options = {
        "arms": arms,
        "infusion_arm": None if masked else infusion_label,
        "hidden_terms": tables.INFUSION_TERMS if masked else (),
    }
    return (
        tables.safety_table(dosed, events, **options),
        tables.safety_table(dosed, dsmb.serious_only(events), **options),
    )


def death_causes(ids: dict[int, str], cutoff) -> dict[str, str]:
    return {
        ids[pid]: cause
        for pid, cause in StatusChange.objects.filter(
            patient_id__in=list(ids), kind=status.DEATH, date__lte=cutoff
        ).values_list("patient_id", "cause")
    }


def fatal_events(ids: dict[int, str], cutoff) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for pid, term in (
        AdverseEvent.objects.filter(patient_id__in=list(ids), grade=5, onset__lte=cutoff)
        .order_by("onset", "pk")
        .values_list("patient_id", "term__term")
    ):
        found.setdefault(ids[pid], []).append(term)
    return found


def km_images(run: EndpointRun, view: exports.Presentation) -> list[tuple[str, str, str]]:
    """(parameter, name, PNG data URI) of the PFS and OS plots, drawn as the run page draws
    them (outcomes/plots.py), in the session's labels."""
    out = []
    for code in KM_PARAMS:
        image = plots.km_plot(
            run_results.summary(run)["summary"]["survival"][code],
            view,
            f"{analysis.PARAMS[code]} · cut-off {shown(run.cutoff)}",
            "png",
        )
        out.append(
            (
                code,
                analysis.PARAMS[code],
                "data:image/png;base64," + base64.b64encode(image).decode(),
            )
        )
    return out
