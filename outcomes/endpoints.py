"""Per-patient efficacy endpoints (pure, no Django): PFS and TTP by mRECIST and by iRECIST, OS,
DOR, best overall response and time to QoL deterioration, each an event or a censoring with the
rule that decided it.

Sources: the protocol (NCT05962450: PFS up to 24 months, OS up to 36, times from enrolment);
FDA guidance "Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics" (2018),
PFS censoring table; the product's spec (`endpoints.md`). Day 0 is the date of randomization
(the trial's "enrolment"); months are days / 30.4375.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import itemgetter

from assessments import qlqc30, recist

MONTH = 30.4375
MRECIST, IRECIST = "mRECIST", "iRECIST"
CRITERIA = (MRECIST, IRECIST)
ENGINE_CRITERION = {MRECIST: recist.Criterion.MRECIST, IRECIST: recist.Criterion.IRECIST}
RESPONDED = {"CR", "PR", "iCR", "iPR"}
CONTROLLED = RESPONDED | {"SD", "NN", "iSD", "iNN"}


CONVENTIONS = (
    "Times from randomization (day 0), in days and months (days / 30.4375); nothing after the "
    "data cut-off is used. PFS/TTP/DOR: FDA 2018 censoring table, two or more missed 8-weekly "
    "assessments = more than 126 days after the last adequate one; censored at 24 months, OS "
    "at 36. OS: a patient known alive after the cut-off is censored on the cut-off date, "
    "otherwise at the last date known alive. Best overall response, ORR and DCR: scans up to "
    "the cut-off, the start of a new anticancer therapy and 24 months, whichever is first; SD "
    "from day 42; no confirmation of CR/PR (randomized trial). QLQ-C30: baseline = the last "
    "questionnaire on or before randomization; deterioration by 10 points at two consecutive "
    "assessments."
)


@dataclass(frozen=True)
class Params:
    """The conventions a run applies, written into its results."""

    interval_days: int = 56  # imaging every 8 weeks
    window_days: int = 7  # +/- 7 days
    pfs_horizon_months: int = 24
    os_horizon_months: int = 36
    ttd_threshold: float = 10.0
    death_is_ttd_event: bool = False

    @property
    def missed_gap_days(self) -> int:
        """More than this after the last adequate assessment: two or more were missed."""
        return 2 * self.interval_days + 2 * self.window_days


DEFAULTS = Params()


@dataclass(frozen=True)
class Timepoint:
    date: date
    response: str  # the accepted overall response: CR, PR, SD, NN, PD, NE, iCR ... iCPD


@dataclass(frozen=True)
class Series:
    """One criterion's accepted read series, as the imaging engine computed it."""

    timepoints: tuple[Timepoint, ...]
    best_overall_response: str
    first_response_date: date | None
    progression_date: date | None  # mRECIST PD; iRECIST: U of the confirmed iUPD
    confirmed_on: date | None = None  # iRECIST: the scan that confirmed it (iCPD)
    unconfirmed_iupd: date | None = None  # iRECIST: an iUPD not (yet) confirmed


@dataclass(frozen=True)
class Patient:
    key: str
    arm: str
    start: date  # randomization
    baseline_scan: bool
    series: Mapping[str, Series | None]  # criterion -> accepted series (None: not yet agreed)
    death: date | None = None
    last_alive: date | None = None
    new_therapy: date | None = None
    alive_after_cutoff: bool = False  # any record after the cut-off shows the patient alive
    awaiting_adjudication: bool = False  # a discordance up to the cut-off awaits adjudication
    qol: Mapping[str, Sequence[tuple[date, float | None]]] = field(default_factory=dict)


@dataclass(frozen=True)
class TimeToEvent:
    param: str
    days: int
    event: bool
    reason: str
    end: date

    @property
    def months(self) -> float:
        return round(self.days / MONTH, 4)


def _truncate(result: TimeToEvent, start: date, horizon_months: int) -> TimeToEvent:
    horizon = round(horizon_months * MONTH)
    if result.days <= horizon:
        return result
    return TimeToEvent(
        result.param,
        horizon,
        False,
        f"administrative censoring at {horizon_months} months (the protocol's time frame)",
        start + timedelta(days=horizon),
    )


def _at(param: str, start: date, end: date, event: bool, reason: str) -> TimeToEvent:
    return TimeToEvent(param, (end - start).days, event, reason, end)


def _progression(
    param: str,
    patient: Patient,
    criterion: str,
    cutoff: date,
    params: Params,
    *,
    death_is_event: bool,
    origin: date | None = None,
) -> TimeToEvent | None:
    """PFS (death counts) or TTP (death censored) by one criterion, or DOR when `origin` is
    the first response. FDA 2018 censoring; None when the series is not available."""
    series = patient.series.get(criterion)
    start = patient.start
    zero = origin or start
    if not patient.baseline_scan:
        return _at(param, zero, zero, False, "no baseline tumour assessment: censored at day 0")
    note = ""
    if series is None:  # no accepted series yet (reads pending or awaiting adjudication)
        series = Series((), "NE", None, None)
        note = " (no accepted read series yet)"

    def done(end: date, event: bool, why: str) -> TimeToEvent:
        return _at(param, zero, end, event, why + note)

    adequate = [t.date for t in series.timepoints if t.response != "NE" and t.date <= cutoff]
    progression = series.progression_date
    if progression is not None and (
        progression > cutoff or (series.confirmed_on is not None and series.confirmed_on > cutoff)
    ):
        progression = None  # found, or confirmed, after the cut-off
    death = patient.death if patient.death is not None and patient.death <= cutoff else None
    candidates = [(progression, f"progression by {criterion}")]
    if death_is_event:
        candidates.append((death, "death"))
    events = [(day, why) for day, why in candidates if day is not None]
    event_day, event_why = min(events) if events else (None, "")
    if (
        event_day is not None
        and progression is not None
        and death is not None
        and death_is_event
        and death == progression
    ):
        event_why = f"progression by {criterion} and death the same day"

    def last_adequate(before: date | None, *, strictly: bool = False) -> date | None:
        days = [
            d for d in adequate if before is None or d < before or (d == before and not strictly)
        ]
        return max(days) if days else None

    therapy = patient.new_therapy
    if therapy is not None and therapy <= cutoff and (event_day is None or therapy < event_day):
        last = last_adequate(therapy)
        if last is None or last < zero:
            return done(zero, False, "new anticancer therapy before any adequate assessment")
        return done(
            last,
            False,
            f"new anticancer therapy on {therapy}: censored at the last adequate assessment "
            "before it",
        )
    if event_day is None:
        last = last_adequate(None)
        if last is None or last < zero:
            why = "no post-baseline assessment and no death: censored at day 0"
            if not death_is_event and death is not None:
                why = "death without progression: censored at the last adequate assessment (none)"
            return done(zero, False, why)
        why = "no progression: censored at the last adequate assessment"
        if not death_is_event and death is not None:
            why = "death without progression: censored at the last adequate assessment"
        return done(last, False, why)
    # the assessment that found the progression is not the one before it
    last = last_adequate(event_day, strictly=True) or start
    if (event_day - max(last, zero)).days > params.missed_gap_days:
        return done(
            max(last, zero),
            False,
            f"{event_why} after two or more missed assessments (more than "
            f"{params.missed_gap_days} days after the last adequate assessment): censored there",
        )
    return done(event_day, True, event_why)


def pfs(patient: Patient, criterion: str, cutoff: date, params: Params = DEFAULTS):
    result = _progression(
        "PFS" if criterion == MRECIST else "PFSI",
        patient,
        criterion,
        cutoff,
        params,
        death_is_event=True,
    )
    return result and _truncate(result, patient.start, params.pfs_horizon_months)


def ttp(patient: Patient, criterion: str, cutoff: date, params: Params = DEFAULTS):
    result = _progression(
        "TTP" if criterion == MRECIST else "TTPI",
        patient,
        criterion,
        cutoff,
        params,
        death_is_event=False,
    )
    return result and _truncate(result, patient.start, params.pfs_horizon_months)


def dor(patient: Patient, criterion: str, cutoff: date, params: Params = DEFAULTS):
    """Responders only (a CR/PR before any new anticancer therapy, within 24 months): from the
    first CR/PR to progression or death."""
    first = best_response_with_onset(patient, criterion, cutoff, params)[1]
    if first is None:
        return None
    result = _progression(
        "DOR" if criterion == MRECIST else "DORI",
        patient,
        criterion,
        cutoff,
        params,
        death_is_event=True,
        origin=first,
    )
    return result and _truncate(result, first, params.pfs_horizon_months)


def overall_survival(patient: Patient, cutoff: date, params: Params = DEFAULTS) -> TimeToEvent:
    """Death from any cause. A patient known alive after the cut-off (a later contact, visit
    or record, or a death after it) was alive at the cut-off: censored on the cut-off date;
    otherwise at the last date known alive up to it. Nothing after the cut-off is an event."""
    if patient.death is not None and patient.death <= cutoff:
        result = _at("OS", patient.start, patient.death, True, "death")
    elif patient.alive_after_cutoff:
        result = _at(
            "OS",
            patient.start,
            cutoff,
            False,
            "alive at data cut-off (known alive after it): censored on the cut-off date",
        )
    else:
        known = [d for d in (patient.last_alive, patient.start) if d is not None and d <= cutoff]
        last = max(known) if known else patient.start
        result = _at(
            "OS", patient.start, last, False, "alive: censored at the last date known alive"
        )
    return _truncate(result, patient.start, params.os_horizon_months)


_DAY = itemgetter(0)


def time_to_deterioration(
    patient: Patient, code: str, cutoff: date, params: Params = DEFAULTS
) -> TimeToEvent:
    scores = [pair for pair in patient.qol.get(code, ()) if pair[0] <= cutoff]
    scores.sort(key=_DAY)  # stable: equal days keep their order
    death = patient.death if patient.death is not None and patient.death <= cutoff else None
    result = qlqc30.time_to_deterioration(
        code,
        scores,
        enrolled=patient.start,
        randomized=patient.start,
        threshold=params.ttd_threshold,
        death=death,
        death_is_event=params.death_is_ttd_event,
    )
    days, reason = result.days, result.reason
    if patient.start + timedelta(days=days) > cutoff:  # day 1 of a patient randomized at cut-off
        days, reason = (cutoff - patient.start).days, f"{reason}: censored on the cut-off date"
    end = patient.start + timedelta(days=days)
    found = TimeToEvent(f"TTD{code}", days, result.event, reason, end)
    return _truncate(found, patient.start, params.pfs_horizon_months)  # "up to 24 months"


def response_window_end(patient: Patient, cutoff: date, params: Params = DEFAULTS) -> date:
    """The last scan date that counts for best overall response: the cut-off, the protocol's
    24-month time frame, and the start of a new anticancer therapy (a response after it is not
    the study treatment's; RECIST 1.1 and FDA 2018), whichever comes first."""
    ends = [cutoff, patient.start + timedelta(days=round(params.pfs_horizon_months * MONTH))]
    if patient.new_therapy is not None:
        ends.append(patient.new_therapy)
    return min(ends)


def best_response_with_onset(
    patient: Patient, criterion: str, cutoff: date, params: Params = DEFAULTS
) -> tuple[str, date | None]:
    """Best overall response (SD only from day 42 of randomization, up to the first
    progression) over the scans up to `response_window_end`, and the date of the first CR/PR
    among them (the origin of DOR); NE when the series is not available."""
    series = patient.series.get(criterion)
    if series is None:
        return "NE", None
    end = response_window_end(patient, cutoff, params)
    return recist.best_overall(
        [(t.date, t.response) for t in series.timepoints if t.date <= end],
        criterion=ENGINE_CRITERION[criterion],
        enrolled=patient.start,
        options=recist.Options(ENGINE_CRITERION[criterion]),
    )


def best_response(patient: Patient, criterion: str, cutoff: date, params: Params = DEFAULTS):
    return best_response_with_onset(patient, criterion, cutoff, params)[0]


def patient_endpoints(patient: Patient, cutoff: date, params: Params = DEFAULTS) -> list:
    """Every time-to-event row of one patient (ADTTE style), in a fixed order."""
    rows: list[TimeToEvent | None] = []
    for criterion in CRITERIA:
        rows += [
            pfs(patient, criterion, cutoff, params),
            ttp(patient, criterion, cutoff, params),
            dor(patient, criterion, cutoff, params),
        ]
    rows.append(overall_survival(patient, cutoff, params))
    rows += [
        time_to_deterioration(patient, code, cutoff, params)
        for code in [s.code for s in qlqc30.SCALES] + ["SUM"]
    ]
    return [row for row in rows if row is not None]
