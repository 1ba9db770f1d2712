"""One endpoint run (pure, no Django): the patients' facts in, every result out as plain data
(JSON-ready, in a fixed order, so that the same facts and cut-off give identical results).

- `adtte`: one row per patient and parameter, CDISC ADaM ADTTE style.
- `responses`: one row per patient, criterion and timepoint, and the best overall response.
- `summary`: per arm ORR and DCR with exact CIs and the difference; per time-to-event
  parameter the KM summary (median and rates with CIs, numbers at risk, the curve), log-rank p
  and Cox hazard ratio RPI vs RP; the 1-year OS rate.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields, is_dataclass
from datetime import date, timedelta

from assessments import qlqc30
from outcomes import endpoints as ep
from outcomes import statistics as st

STUDY_ID = "NCT05962450"
ARMS = ("RPI", "RP")  # the hazard ratio is RPI versus RP
PARAMS = {
    "PFS": "Progression-free survival (mRECIST)",
    "PFSI": "Progression-free survival (iRECIST, iCPD)",
    "TTP": "Time to progression (mRECIST)",
    "TTPI": "Time to progression (iRECIST, iCPD)",
    "DOR": "Duration of response (mRECIST)",
    "DORI": "Duration of response (iRECIST)",
    "OS": "Overall survival",
    **{f"TTD{s.code}": f"Time to deterioration: {s.name} (QLQ-C30)" for s in qlqc30.SCALES},
    "TTDSUM": "Time to deterioration: summary score (QLQ-C30)",
}


ADTTE_COLUMNS = (  # an ADTTE row's keys, in order
    "STUDYID",
    "USUBJID",
    "ARM",
    "PARAMCD",
    "PARAM",
    "AVAL",
    "AVALM",
    "AVALU",
    "STARTDT",
    "ADT",
    "CNSR",
    "EVNTDESC",
    "CNSDTDSC",
    "DCUTDT",
)


def digest(patients: Sequence[ep.Patient], cutoff: date, params: ep.Params) -> str:
    """A fingerprint of the facts a run used: equal facts, equal digest; any changed fact, a
    different one. The SHA-256 of the facts as sorted JSON (dates as ISO text), fed one patient
    at a time: no copy of the facts, and the same digest as runs stored before."""
    head = json.dumps({"cutoff": cutoff.isoformat(), "params": asdict(params)}, sort_keys=True)
    fingerprint = hashlib.sha256(head[:-1].encode())
    fingerprint.update(b', "patients": [')
    for index, patient in enumerate(sorted(patients, key=lambda p: p.key)):
        text = json.dumps(_facts(patient), sort_keys=True, default=_fields)
        fingerprint.update(((", " if index else "") + text).encode())
    fingerprint.update(b"]}")
    return fingerprint.hexdigest()


def _facts(patient: ep.Patient) -> dict:
    """The patient's fields as `_fields` gives them, the scores' dates written as text once
    per questionnaire (the same JSON: a date is written as its ISO text)."""
    found = _fields(patient)
    if patient.qol:
        iso: dict[date, str] = {}
        found["qol"] = {
            code: [(iso.get(day) or iso.setdefault(day, day.isoformat()), v) for day, v in values]
            for code, values in patient.qol.items()
        }
    return found


def _fields(value):
    """What JSON cannot write itself: a dataclass as its fields (as dataclasses.asdict, without
    its deep copy), anything else (a date) as text."""
    names = _NAMES.get(type(value), _UNSEEN)
    if names is _UNSEEN:
        names = _NAMES[type(value)] = (
            tuple(f.name for f in fields(value))
            if is_dataclass(value) and not isinstance(value, type)
            else None
        )
    if names is None:
        return str(value)
    return {name: getattr(value, name) for name in names}


_NAMES: dict[type, tuple[str, ...] | None] = {}  # a type's fields' names; None: no dataclass
_UNSEEN = object()


def _round(value, places=6):
    """JSON has no NaN or infinity: those are 'not estimable' (None)."""
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), places)


def _proportion(k: int, n: int) -> dict:
    lower, upper = st.clopper_pearson(k, n)
    return {
        "k": k,
        "n": n,
        "rate": _round(k / n) if n else None,
        "lower": _round(lower),
        "upper": _round(upper),
    }


def _km(summary: st.ArmSummary) -> dict:
    c = summary.curve
    return {
        "patients": summary.patients,
        "events": summary.events,
        "median": _round(summary.median),
        "median_lower": _round(summary.median_lower),
        "median_upper": _round(summary.median_upper),
        "rates": {
            str(months): [_round(v) for v in values] for months, values in summary.rates.items()
        },
        "at_risk": {str(months): n for months, n in summary.at_risk.items()},
        "curve": {
            "times": [_round(t) for t in c.times],
            "survival": [_round(v) for v in c.survival],
            "lower": [_round(v) for v in c.lower],
            "upper": [_round(v) for v in c.upper],
            "censored": sorted({_round(t) for t in c.censored}),
        },
    }


def analyse(
    patients: Sequence[ep.Patient],
    cutoff: date,
    params: ep.Params = ep.DEFAULTS,
    *,
    progress: Callable[[int, str], None] = lambda percent, step: None,
    each: Callable[[ep.Patient, list[dict], list[dict]], None] | None = None,
) -> dict:
    """Every result of a run. With `each`, every patient's ADTTE and response rows are handed
    to it, patient after patient in key order, and left out of the results (which then hold
    the summary alone): a run of many patients keeps no more than one patient's rows."""
    patients = sorted(patients, key=lambda p: p.key)
    progress(5, "per-patient endpoints")
    every_adtte, every_response = [], []
    by_param: dict[str, dict[str, tuple[list[float], list[bool]]]] = {}
    best: dict[str, dict[str, str]] = {criterion: {} for criterion in ep.CRITERIA}
    dcut = cutoff.isoformat()
    for patient in patients:
        adtte, responses = [], []
        iso: dict[date, str] = {}  # the patient's dates written once
        window_end = ep.response_window_end(patient, cutoff, params)
        for criterion in ep.CRITERIA:
            best[criterion][patient.key] = ep.best_response(patient, criterion, cutoff, params)
        for row in ep.patient_endpoints(patient, cutoff, params):
            adtte.append(
                {
                    "STUDYID": STUDY_ID,
                    "USUBJID": patient.key,
                    "ARM": patient.arm,
                    "PARAMCD": row.param,
                    "PARAM": PARAMS[row.param],
                    "AVAL": row.days,
                    "AVALM": row.months,
                    "AVALU": "DAYS",
                    "STARTDT": _iso(iso, row.end - timedelta(days=row.days)),
                    "ADT": _iso(iso, row.end),
                    "CNSR": 0 if row.event else 1,
                    "EVNTDESC": row.reason if row.event else "",
                    "CNSDTDSC": "" if row.event else row.reason,
                    "DCUTDT": dcut,
                }
            )
            days, events = by_param.setdefault(row.param, {}).setdefault(patient.arm, ([], []))
            days.append(row.days)
            events.append(row.event)
        for criterion in ep.CRITERIA:
            series = patient.series.get(criterion)
            for timepoint in series.timepoints if series else ():
                if timepoint.date <= cutoff:
                    row = {
                        "USUBJID": patient.key,
                        "ARM": patient.arm,
                        "CRITERION": criterion,
                        "ADT": timepoint.date.isoformat(),
                        "RESPONSE": timepoint.response,
                    }
                    if timepoint.date > window_end:
                        row["OUTSIDE_BOR"] = True  # after new therapy or beyond 24 months
                    responses.append(row)
            if series and series.unconfirmed_iupd and series.unconfirmed_iupd <= cutoff:
                responses.append(  # reported separately (tumour-response spec)
                    {
                        "USUBJID": patient.key,
                        "ARM": patient.arm,
                        "CRITERION": criterion,
                        "ADT": series.unconfirmed_iupd.isoformat(),
                        "RESPONSE": "iUPD unconfirmed",
                        "UNCONFIRMED": True,
                    }
                )
            responses.append(
                {
                    "USUBJID": patient.key,
                    "ARM": patient.arm,
                    "CRITERION": criterion,
                    "ADT": "",
                    "RESPONSE": best[criterion][patient.key],
                    "BEST": True,
                }
            )
        if each is None:
            every_adtte += adtte
            every_response += responses
        else:
            each(patient, adtte, responses)
    progress(20, "response rates")
    arms = [a for a in ARMS if any(p.arm == a for p in patients)] or list(ARMS)
    n = {arm: sum(1 for p in patients if p.arm == arm) for arm in arms}
    response_summary = {}
    for criterion in ep.CRITERIA:
        by_arm = {arm: [best[criterion][p.key] for p in patients if p.arm == arm] for arm in arms}
        entry = {"best": {arm: dict(sorted(_count(by_arm[arm]).items())) for arm in arms}}
        for name, wanted in (("ORR", ep.RESPONDED), ("DCR", ep.CONTROLLED)):
            k = {arm: sum(1 for b in by_arm[arm] if b in wanted) for arm in arms}
            entry[name] = {arm: _proportion(k[arm], n[arm]) for arm in arms}
            if len(arms) == 2:
                d, lo, hi = st.difference(k[arms[0]], n[arms[0]], k[arms[1]], n[arms[1]])
                entry[f"{name}_difference"] = [_round(d), _round(lo), _round(hi)]
        response_summary[criterion] = entry
    survival = {}
    for index, param in enumerate(PARAMS):
        progress(20 + int(75 * index / len(PARAMS)), f"{param}: Kaplan-Meier, log-rank, Cox")
        data = by_param.get(param, {})
        empty = ([], [])
        arm_data = {arm: data.get(arm, empty) for arm in arms}
        horizon = params.os_horizon_months if param == "OS" else params.pfs_horizon_months
        fitted = {arm: st.km_summary(*arm_data[arm], horizon_months=horizon) for arm in arms}
        entry = {"arms": {arm: _km(fitted[arm]) for arm in arms}}
        if param == "OS":  # the protocol's 1-year OS rate: KM at 365 days
            one_year = {
                arm: [
                    _round(st.value_at(fitted[arm].curve, 365, values))
                    for values in (
                        fitted[arm].curve.survival,
                        fitted[arm].curve.lower,
                        fitted[arm].curve.upper,
                    )
                ]
                for arm in arms
            }
        if len(arms) == 2:
            (da, ea), (db, eb) = arm_data[arms[0]], arm_data[arms[1]]
            entry["logrank_p"] = _round(st.log_rank(da, ea, db, eb))
            hr = st.cox_hazard_ratio(da, ea, db, eb)
            entry["hazard_ratio"] = [_round(v) for v in hr] if hr else None
        survival[param] = entry
    progress(97, "summary")
    awaiting = [p.key for p in patients if p.awaiting_adjudication]
    results = {
        "cutoff": cutoff.isoformat(),
        "params": asdict(params),
        "conventions": f"{ep.CONVENTIONS} {st.CONVENTIONS}",
        "arms": arms,
        "n": n,
        "pending_adjudication": {"count": len(awaiting), "patients": awaiting},
        "summary": {"response": response_summary, "survival": survival, "os_1_year": one_year},
    }
    if each is None:
        results.update(adtte=every_adtte, responses=every_response)
    return results


def _iso(known: dict[date, str], day: date) -> str:
    found = known.get(day)
    if found is None:
        found = known[day] = day.isoformat()
    return found


def _count(values: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for value in values:
        found[value] = found.get(value, 0) + 1
    return found
