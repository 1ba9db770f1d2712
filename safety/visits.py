"""Clinical visits and their laboratory values: the writes (keyword-only, one transaction each)
and the reads the patient page and the API share.

Grading is safety/labs.py's. The baseline of a test is its value at the patient's latest
screening visit dated before the visit (a screening visit itself has none, and is graded as if
normal at baseline, or against an earlier screening visit); the baseline of the AFP response
is the same. Whenever a visit or a value
changes, every value of the patient is graded again (a corrected screening value moves the
baseline of the later ones), and the proposed adverse events follow: a value that proposes one
gets it (once per grade), a proposal the corrected value no longer supports is withdrawn.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from enrollment import course
from enrollment.dates import shown
from enrollment.models import Patient
from inkt_trial.audit import apply_changes, check_reason
from inkt_trial.errors import DomainError
from randomization.protocol import RPI
from randomization.selectors import can_see_arms, day_zero
from safety import labs, services
from safety.models import (
    AdverseEvent,
    ClinicalVisit,
    CtcaeTerm,
    LabValue,
    ProposedAdverseEvent,
)
from safety.visit_models import ASCITES, COURSE, ENCEPHALOPATHY, NUMBERED, SCREENING, VISIT_KINDS

VISIT_FIELDS = (
    "visit_date",
    "kind",
    "number",
    "ecog",
    "systolic_bp_mmhg",
    "diastolic_bp_mmhg",
    "heart_rate_bpm",
    "temperature_c",
    "weight_kg",
    "respiratory_rate_per_min",
    "spo2_percent",
    "ascites",
    "encephalopathy",
    "on_anticoagulation",
)
LAB_FIELDS = ("value_entered", "unit_entered", "lln", "uln")
GRADED_FIELDS = ("term", "grade", "baseline_grade", "baseline_value", "baseline_date")
PLACES = Decimal("0.0001")


# Checks ----------------------------------------------------------------------------------------


def _visit_errors(visit: ClinicalVisit, patient: Patient) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    day = visit.visit_date
    if not isinstance(day, date):
        errors["visit_date"] = ["Give the date of the visit."]
    else:
        if day > timezone.localdate():
            errors["visit_date"] = ["A visit is not in the future."]
        elif day < patient.screening.consent_date:
            errors["visit_date"] = [
                f"Before the informed consent ({shown(patient.screening.consent_date)})."
            ]
        elif refused := course.refusal(patient.pk, day, what="visit"):
            errors["visit_date"] = [refused]
        elif (
            ClinicalVisit.objects.filter(patient=patient, visit_date=day)
            .exclude(pk=visit.pk)
            .exists()
        ):
            errors["visit_date"] = [f"This patient already has a visit on {shown(day)}."]
    if visit.kind not in dict(VISIT_KINDS):
        errors["kind"] = ["Screening, treatment course, study week or unscheduled."]
    elif visit.kind in NUMBERED:
        if not isinstance(visit.number, int) or isinstance(visit.number, bool) or visit.number < 1:
            errors["number"] = ["Give the course or week number (1 or more)."]
        elif visit.kind == COURSE and visit.number > 99:
            errors["number"] = ["At most 99."]
    else:
        visit.number = None
    if visit.kind == COURSE:
        allocation = getattr(patient, "allocation", None)
        if allocation is None or allocation.arm != RPI:
            errors.setdefault("kind", []).append("This patient receives no iNKT courses.")
    if visit.ascites not in dict(ASCITES):
        errors["ascites"] = ["None, mild or moderate to severe."]
    if visit.encephalopathy not in dict(ENCEPHALOPATHY):
        errors["encephalopathy"] = ["None, grade 1-2 or grade 3-4."]
    for field, problems in labs.vital_problems(
        {f: getattr(visit, f) for f in (*labs.VITAL_RANGES, "ecog")}
    ).items():
        errors.setdefault(field, []).extend(problems)
    return errors


def _checked_labs(visit: ClinicalVisit, values, errors: dict) -> list[LabValue]:
    """The visit's new values, checked; every refusal (the visit's and the values') at once."""
    entered = []
    for entry in _entries(values):
        try:
            entered.append(_lab_from(visit, entry))
        except DomainError as refused:
            for field, problems in refused.field_errors.items():
                errors.setdefault(field, []).extend(problems)
    if errors:
        raise DomainError("The visit was not saved.", field_errors=errors)
    return entered


def _set_value(lab: LabValue) -> None:
    """The canonical value of what was entered; refusals named by the test's form fields."""
    test = labs.TESTS.get(lab.test)
    if test is None:
        raise DomainError(field_errors={"test": [f"{lab.test!r} is not a laboratory test."]})
    errors: dict[str, list[str]] = {}
    try:
        entered = labs.as_decimal(lab.value_entered, test.name)
        if entered != entered.quantize(PLACES) or entered >= Decimal(10) ** 10:
            raise labs.LabError(f"{test.name}: at most 10 digits and 4 decimals.")
        lab.value_entered = entered
        lab.value = test.to_canonical(entered, lab.unit_entered).quantize(PLACES)
    except labs.LabError as error:
        errors[f"{lab.test}_{error.field}"] = [str(error)]
    for bound in ("lln", "uln"):
        given = getattr(lab, bound)
        if given is None:
            continue
        try:  # the local range is given in the unit the value was entered in
            factor = test.units.get(lab.unit_entered, Decimal(1))
            setattr(lab, bound, (labs.as_decimal(given, bound.upper()) * factor).quantize(PLACES))
        except labs.LabError as error:
            errors[f"{lab.test}_{bound}"] = [str(error)]
    if lab.lln is not None and lab.uln is not None and lab.lln >= lab.uln:
        errors[f"{lab.test}_uln"] = ["The ULN must be above the LLN."]
    if not errors and lab.uln is not None and lab.uln <= 0:
        errors[f"{lab.test}_uln"] = ["The ULN must be above zero."]
    if errors:
        raise DomainError("The laboratory values were not saved.", field_errors=errors)


def _lab_from(visit: ClinicalVisit, entry: dict) -> LabValue:
    unknown = sorted(set(entry) - {"test", "value", "unit", "lln", "uln"})
    if unknown:
        raise DomainError(field_errors={k: ["Not a field of a laboratory value."] for k in unknown})
    lab = LabValue(
        visit=visit,
        test=entry.get("test"),
        value_entered=entry.get("value"),
        unit_entered=str(entry.get("unit") or "").strip(),
        lln=entry.get("lln"),
        uln=entry.get("uln"),
    )
    if lab.test in labs.TESTS and not lab.unit_entered:
        lab.unit_entered = labs.TESTS[lab.test].unit
    _set_value(lab)
    return lab


# Grading ---------------------------------------------------------------------------------------


def _range(lab: LabValue) -> tuple[Decimal | None, Decimal | None]:
    test = labs.TESTS[lab.test]
    return (
        test.lln if lab.lln is None else lab.lln,
        test.uln if lab.uln is None else lab.uln,
    )


def _graded(lab: LabValue, on_anticoagulation: bool, baseline: LabValue | None, base_visit):
    lln, uln = _range(lab)
    try:
        grading = labs.grade(
            lab.test,
            lab.value,
            lln=lln,
            uln=uln,
            baseline=baseline.value if baseline else None,
            on_anticoagulation=on_anticoagulation,
        )
        base = None
        if baseline is not None:
            base_lln, base_uln = _range(baseline)
            base = labs.grade(
                baseline.test,
                baseline.value,
                lln=base_lln,
                uln=base_uln,
                on_anticoagulation=base_visit.on_anticoagulation,
            )
    except labs.LabError as error:
        raise DomainError(field_errors={f"{lab.test}_uln": [str(error)]}) from None
    return grading, base


def _regrade(patient_id: int, by, now, corrected: dict | None = None, fresh=()) -> None:
    """Grade every value of the patient again, and let the proposals follow. `corrected`: the
    values a correction changed (id -> (value, reason)), saved with their grades and the
    user's reason in one version. `fresh`: a new visit's values, not yet saved: each is
    saved once, graded."""
    corrected = corrected or {}
    new_of: dict[int, list[LabValue]] = {}
    for lab in fresh:
        new_of.setdefault(lab.visit_id, []).append(lab)
    visits = list(
        ClinicalVisit.objects.filter(patient_id=patient_id)
        .order_by("visit_date")
        .prefetch_related("labs")
    )
    proposals: dict[int, list[ProposedAdverseEvent]] = {}  # lab id -> its proposals
    for proposal in ProposedAdverseEvent.objects.filter(patient_id=patient_id):
        proposals.setdefault(proposal.lab_id, []).append(proposal)
    screening: dict[str, tuple[LabValue, ClinicalVisit]] = {}  # test -> latest screening value
    for visit in visits:
        current = {lab.test: corrected.get(lab.pk, (lab, ""))[0] for lab in visit.labs.all()}
        current.update({lab.test: lab for lab in new_of.get(visit.pk, [])})
        for lab in current.values():
            lab.visit = visit
            stored = [getattr(lab, f) for f in GRADED_FIELDS]  # as read (unless corrected)
            baseline, base_visit = screening.get(lab.test, (None, None))
            grading, base = _graded(lab, visit.on_anticoagulation, baseline, base_visit)
            lab.term = grading.term if grading else ""
            lab.grade = grading.grade if grading else None
            lab.baseline_grade = base.grade if base else None
            lab.baseline_value = baseline.value if baseline else None
            lab.baseline_date = base_visit.visit_date if base_visit else None
            unchanged = lab.pk not in corrected and stored == [
                getattr(lab, f) for f in GRADED_FIELDS
            ]  # read in this transaction and graded alike: nothing to save (no query)
            if lab.pk is None:  # a new value: saved once, graded
                lab._history_user = by
                lab.save()
            elif not unchanged and lab.changed_fields():
                reason = corrected.get(lab.pk, (lab, ""))[1] or "Graded again (CTCAE v5.0)"
                lab.save_with_reason(reason, by=by)
            _follow(lab, by, now, proposals.get(lab.pk, []))
        if visit.kind == SCREENING:
            screening.update({test: (lab, visit) for test, lab in current.items()})


def _follow(lab: LabValue, by, now, proposals: list[ProposedAdverseEvent]) -> None:
    """`proposals`: the value's proposals, as read in this transaction."""
    why = labs.proposal_reason(lab.grade, lab.baseline_grade)
    for proposal in [p for p in proposals if p.state == ProposedAdverseEvent.PROPOSED]:
        if why is None or proposal.grade != lab.grade:
            proposal.state = ProposedAdverseEvent.DISMISSED
            proposal.decided_by, proposal.decided_at = by, now
            proposal.dismissal_reason = (
                f"Withdrawn: the value ({lab}) is now grade {lab.grade or 0}."
            )
            proposal.save_with_reason("Withdrawn after a correction of the value", by=by)
    if why and not any(p.grade == lab.grade for p in proposals):
        proposal = ProposedAdverseEvent(
            patient_id=lab.visit.patient_id,
            lab=lab,
            term=CtcaeTerm.objects.get(term=lab.term),
            grade=lab.grade,
            why=f"{why}: {lab} on {shown(lab.visit.visit_date)}",
        )
        proposal._history_user = by
        proposal.save()


# Writes ----------------------------------------------------------------------------------------


def _patient(pk: int) -> Patient:
    Patient.objects.select_for_update().get(pk=pk)  # the patient's writes in turn
    return Patient.objects.select_related("screening", "allocation").get(pk=pk)


def _entries(values) -> list[dict]:
    if values is None:
        return []
    if not isinstance(values, list | tuple) or not all(isinstance(v, dict) for v in values):
        raise DomainError(field_errors={"labs": ["A list of laboratory values."]})
    tests = [v.get("test") for v in values]
    doubled = sorted({t for t in tests if tests.count(t) > 1}, key=str)
    if doubled:
        raise DomainError(field_errors={"labs": [f"{t} is given twice." for t in doubled]})
    return list(values)


@transaction.atomic
def visit_record(
    *, patient: Patient, by, values: list[dict] | None = None, **data
) -> ClinicalVisit:
    """A visit with its laboratory values: each graded, the proposals made."""
    patient = _patient(patient.pk)
    unknown = sorted(set(data) - set(VISIT_FIELDS))
    if unknown:
        raise DomainError(field_errors={k: ["Not a field of a visit."] for k in unknown})
    visit = ClinicalVisit(patient=patient, recorded_by=by, **data)
    entered = _checked_labs(visit, values, _visit_errors(visit, patient))
    visit._history_user = by
    visit.save()
    for lab in entered:
        lab.visit = visit  # graded with the baseline, then saved, below
    _regrade(patient.pk, by, timezone.now(), fresh=entered)
    return visit


@transaction.atomic
def visit_correct(
    *, visit: ClinicalVisit, by, reason: str, values: list[dict] | None = None, **changes
) -> ClinicalVisit:
    """A correction of the visit and/or of its values (a test not yet entered is added), with
    the reason; every value of the patient is graded again."""
    reason = check_reason(reason)
    if not reason:
        raise DomainError(field_errors={"reason": ["Say why this is changed."]})
    patient = _patient(visit.patient_id)
    visit = ClinicalVisit.objects.get(pk=visit.pk)
    apply_changes(visit, changes, VISIT_FIELDS)
    checked = _checked_labs(visit, values, _visit_errors(visit, patient))
    visit.save_with_reason(reason, by=by)
    stored = {lab.test: lab for lab in visit.labs.all()}
    corrected = {}
    for fresh in checked:
        lab = stored.get(fresh.test)
        if lab is None:
            fresh._history_user = by
            fresh.save()
            continue
        for field in (*LAB_FIELDS, "value"):
            setattr(lab, field, getattr(fresh, field))
        corrected[lab.pk] = (lab, reason)
    _regrade(patient.pk, by, timezone.now(), corrected)
    return ClinicalVisit.objects.get(pk=visit.pk)


def _correct_lab(lab: LabValue, entry: dict) -> None:
    """The entered fields changed in place; saved, graded, by _regrade."""
    fresh = _lab_from(lab.visit, {"test": lab.test, **entry})
    for field in (*LAB_FIELDS, "value"):
        setattr(lab, field, getattr(fresh, field))


@transaction.atomic
def lab_correct(*, lab: LabValue, by, reason: str, **changes) -> LabValue:
    """A correction of one value (value, unit, local range), with the reason."""
    reason = check_reason(reason)
    if not reason:
        raise DomainError(field_errors={"reason": ["Say why this is changed."]})
    lab = LabValue.objects.select_related("visit").get(pk=lab.pk)
    _patient(lab.visit.patient_id)
    unknown = sorted(set(changes) - {"value", "unit", "lln", "uln"})
    if unknown:
        raise DomainError(field_errors={k: ["Cannot be changed here."] for k in unknown})
    entry = {
        "value": lab.value_entered,
        "unit": lab.unit_entered,
        "lln": entered_bound(lab, "lln"),
        "uln": entered_bound(lab, "uln"),
        **changes,
    }
    _correct_lab(lab, entry)
    _regrade(lab.visit.patient_id, by, timezone.now(), {lab.pk: (lab, reason)})
    return LabValue.objects.get(pk=lab.pk)


def entered_bound(lab: LabValue, bound: str):
    """The stored local bound back in the unit the value was entered in."""
    value = getattr(lab, bound)
    if value is None:
        return None
    factor = labs.TESTS[lab.test].units.get(lab.unit_entered, Decimal(1))
    return (value / factor).quantize(PLACES)


@transaction.atomic
def proposal_accept(
    *, proposal: ProposedAdverseEvent, by, onset: date | None = None, grade: int | None = None
) -> AdverseEvent:
    """The coordinator accepts a proposed event: it is recorded through the adverse-event
    service, pre-filled (the term, the grade and the visit's date as onset, unless given)."""
    proposal = ProposedAdverseEvent.objects.select_for_update().get(pk=proposal.pk)
    if proposal.state != ProposedAdverseEvent.PROPOSED:
        raise DomainError(f"This proposal is already {proposal.get_state_display().lower()}.")
    lab = LabValue.objects.select_related("visit__patient").get(pk=proposal.lab_id)
    event = services.ae_record(
        patient=lab.visit.patient,
        by=by,
        term=proposal.term,
        grade=proposal.grade if grade is None else grade,
        onset=onset or lab.visit.visit_date,
    )
    proposal.state = ProposedAdverseEvent.ACCEPTED
    proposal.decided_by, proposal.decided_at = by, timezone.now()
    proposal.adverse_event = event
    proposal.save_with_reason(f"Accepted: adverse event #{event.pk} recorded", by=by)
    return event


@transaction.atomic
def proposal_dismiss(*, proposal: ProposedAdverseEvent, by, reason: str) -> ProposedAdverseEvent:
    """The coordinator dismisses a proposed event, saying why (e.g. a known lab artefact, the
    event already recorded)."""
    reason = check_reason(reason)
    if not reason:
        raise DomainError(field_errors={"reason": ["Say why the event is not recorded."]})
    proposal = ProposedAdverseEvent.objects.select_for_update().get(pk=proposal.pk)
    if proposal.state != ProposedAdverseEvent.PROPOSED:
        raise DomainError(f"This proposal is already {proposal.get_state_display().lower()}.")
    proposal.state = ProposedAdverseEvent.DISMISSED
    proposal.decided_by, proposal.decided_at = by, timezone.now()
    proposal.dismissal_reason = reason
    proposal.save_with_reason(f"Dismissed: {reason}", by=by)
    return proposal


# Reads -----------------------------------------------------------------------------------------


@dataclass
class VisitSummary:
    visit: ClinicalVisit
    label: str
    labs: list[LabValue]
    child_pugh: object | None  # eligibility.ChildPugh
    albi: labs.Albi | None
    afp: labs.AfpResponse | None
    afp_baseline_date: date | None


def study_week(visit: ClinicalVisit) -> int | None:
    """The visit's week from randomization (completed weeks): how a course visit reads to a user
    who may not see arms, as the other arm's visits by study week read (an "on treatment" label
    only the iNKT arm could carry would name the arm)."""
    day0 = day_zero(visit.patient)
    return None if day0 is None else max(0, (visit.visit_date - day0).days // 7)


def visit_label(visit: ClinicalVisit, user) -> str:
    """A course visit reveals the iNKT arm: a user who may not see arms reads its study week."""
    if visit.kind == COURSE and not can_see_arms(user):
        return f"Week {study_week(visit)}"
    return visit.label


def summarise(visit: ClinicalVisit, user) -> VisitSummary:
    """Child-Pugh, ALBI and the AFP response of a visit (derived when read, from its values)."""
    order = list(labs.TESTS)
    found = sorted(visit.labs.all(), key=lambda lab: order.index(lab.test))
    by_test = {lab.test: lab for lab in found}
    bili, alb, inr = (by_test.get(t) for t in ("bilirubin", "albumin", "inr"))
    child_pugh = albi = afp = None
    if bili and alb and inr:
        child_pugh = labs.child_pugh(
            bilirubin_umol_l=bili.value,
            albumin_g_l=alb.value,
            inr=inr.value,
            ascites=visit.ascites,
            encephalopathy=visit.encephalopathy,
        )
    if bili and alb and bili.value > 0:
        albi = labs.albi(bilirubin_umol_l=bili.value, albumin_g_l=alb.value)
    marker = by_test.get("afp")
    if marker and marker.baseline_value is not None:
        afp = labs.afp_response(baseline_ng_ml=marker.baseline_value, value_ng_ml=marker.value)
    return VisitSummary(
        visit,
        visit_label(visit, user),
        found,
        child_pugh,
        albi,
        afp,
        marker.baseline_date if afp else None,
    )


def patient_visits(patient, user) -> list[VisitSummary]:
    """A patient's visits, newest first, in a fixed number of queries."""
    visits = ClinicalVisit.objects.filter(patient=patient).order_by("-visit_date")
    visits = visits.prefetch_related(Prefetch("labs", queryset=LabValue.objects.all()))
    return [summarise(visit, user) for visit in visits]


def patient_proposals(patient, *, decisions: bool = True) -> list[ProposedAdverseEvent]:
    """The adverse events a patient's lab values propose, pending first; with the decisions'
    records (who decided, the event recorded: the casebook), or with their term only (the
    patient page's box, which links the event by its id)."""
    related = ("term", "lab__visit", "adverse_event", "decided_by") if decisions else ("term",)
    return list(
        ProposedAdverseEvent.objects.filter(patient=patient)
        .select_related(*related)
        .order_by("state", "-pk")
    )


EXPORT_HEADER = [
    "study_id", "visit_date", "visit", "ecog", "systolic_bp_mmhg", "diastolic_bp_mmhg",
    "heart_rate_bpm", "temperature_c", "weight_kg", "respiratory_rate_per_min", "spo2_percent",
    "child_pugh_class", "child_pugh_points", "albi_score", "albi_grade",
    "afp_baseline_ng_ml", "afp_baseline_date", "afp_change_percent", "afp_response",
    "test", "value_entered", "unit_entered", "value", "unit", "lln", "uln", "ctcae_term",
    "grade", "baseline_value", "baseline_date", "baseline_grade",
]  # fmt: skip


def export_rows(visits_read, user) -> list[list]:
    """One line per laboratory value (a visit without values: one line without a test), the
    visit's ECOG, vital signs, Child-Pugh, ALBI and AFP response repeated on each."""
    rows = []
    for visit in visits_read:
        s = summarise(visit, user)
        head = [
            visit.patient.study_id, visit.visit_date.isoformat(), s.label, visit.ecog,
            visit.systolic_bp_mmhg, visit.diastolic_bp_mmhg, visit.heart_rate_bpm,
            visit.temperature_c, visit.weight_kg, visit.respiratory_rate_per_min,
            visit.spo2_percent,
            s.child_pugh.child_pugh_class if s.child_pugh else None,
            s.child_pugh.points if s.child_pugh else None,
            s.albi.score if s.albi else None, s.albi.grade if s.albi else None,
            s.afp.baseline_ng_ml if s.afp else None,
            s.afp_baseline_date.isoformat() if s.afp_baseline_date else None,
            s.afp.change_percent if s.afp else None, s.afp.label if s.afp else None,
        ]  # fmt: skip
        for lab in s.labs or [None]:
            if lab is None:
                rows.append([*head, *[None] * 12])
                continue
            lln, uln = _range(lab)
            rows.append(
                [
                    *head,
                    lab.test,
                    lab.value_entered,
                    lab.unit_entered,
                    lab.value,
                    lab.unit,
                    lln,
                    uln,
                    lab.term,
                    lab.grade,
                    lab.baseline_value,
                    lab.baseline_date.isoformat() if lab.baseline_date else None,
                    lab.baseline_grade,
                ]  # fmt: skip
            )
    return [["" if v is None else v for v in row] for row in rows]
