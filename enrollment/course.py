"""The patient's course as the other apps use it: status changes and ends of treatment written
through the rules of enrollment/status.py, and the questions every domain asks before it
records something (is this date after a withdrawal of consent, a death, an end of study? may
this drug still be given?).

Writes are keyword-only functions, one transaction each, under the patient's row lock so that
two simultaneous records are checked in turn."""

from datetime import date
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from enrollment import evidence, status
from enrollment.dates import shown
from enrollment.models import CourseState, Patient, StatusChange, TreatmentEnd
from inkt_trial import memo
from inkt_trial.audit import apply_changes
from inkt_trial.errors import DomainError

CHANGE_FIELDS = (
    "kind",
    "date",
    "cause",
    "details",
    "public_records_allowed",
    "from_public_records",
)
END_FIELDS = ("drug", "date", "reason", "details")


def changes_of(patient_id: int) -> list[status.Change]:
    return [c.as_rule() for c in StatusChange.objects.filter(patient_id=patient_id)]


def ends_of(patient_id: int) -> list[status.DrugEnd]:
    return [e.as_rule() for e in TreatmentEnd.objects.filter(patient_id=patient_id)]


def _lock(patient_id: int) -> Patient:
    return Patient.objects.select_for_update().get(pk=patient_id)


# Questions the other apps ask -----------------------------------------------------------------


def refusal(patient_id: int, day: date | None, *, what: str, **kw) -> str | None:
    """Why a record of `what` dated `day` may not be accepted for this patient (a death, a
    withdrawal of consent, an end of study before it), or None. Keywords: status.refusal's."""
    if day is None:
        return None
    return status.refusal(changes_of(patient_id), day, what=what, **kw)


def death_date(patient_id: int) -> date | None:
    return (
        StatusChange.objects.filter(patient_id=patient_id, kind=status.DEATH)
        .values_list("date", flat=True)
        .first()
    )


def all_ends(patient_id: int) -> list[status.DrugEnd]:
    """The recorded ends of treatment and those the other apps derive (progression on the
    accepted reads, a drug withdrawn for an adverse event, the last iNKT course)."""
    return ends_of(patient_id) + evidence.stops(patient_id)


def treatment_stops(patient_id: int) -> dict[str, tuple[date, str] | None]:
    """Drug -> the last day it may be given and why, or None while it may go on."""
    return treatment_stops_of([patient_id])[patient_id]


@memo.per_id
def _records_of(patient_ids) -> dict[int, tuple[list[StatusChange], list[TreatmentEnd]]]:
    """Each patient's status changes and recorded ends of treatment, in two queries whatever
    their number; once per request (read them, never change them)."""
    ids = list(patient_ids)
    found: dict[int, tuple[list, list]] = {pid: ([], []) for pid in ids}
    # each patient's in the models' order, without joining the patients to sort by study ID
    for record in StatusChange.objects.filter(patient_id__in=ids).order_by("date", "id"):
        found[record.patient_id][0].append(record)
    for record in TreatmentEnd.objects.filter(patient_id__in=ids).order_by("date", "drug"):
        found[record.patient_id][1].append(record)
    return found


def off_study_of(patient_ids) -> dict[int, date]:
    """The first day each patient went off study (a death, a withdrawal of consent to further
    data, a loss to follow-up, any other end of study), for those who did; from the status
    changes the other boxes of a page read (once per request)."""
    found = {}
    for pid, (changes, _ends) in _records_of(list(patient_ids)).items():
        days = [c.date for c in changes if c.kind in status.OFF_STUDY]
        if days:
            found[pid] = min(days)
    return found


@memo.per_id
def treatment_stops_of(patient_ids) -> dict[int, dict[str, tuple[date, str] | None]]:
    """The same for many patients, in a fixed number of queries whatever their number."""
    ids = list(patient_ids)
    records = _records_of(ids)
    ends = evidence.stops_of(ids)
    found = {}
    for pid in ids:
        changes = [c.as_rule() for c in records[pid][0]]
        every_end = ends[pid] + [e.as_rule() for e in records[pid][1]]
        found[pid] = {d: status.treatment_stop(changes, every_end, d) for d in status.DRUGS}
    return found


class Course(NamedTuple):
    """One patient's course as the rules read it: day 0 and the drugs of the arm (none before
    randomization), the status changes, the ends of treatment recorded and those the other
    records imply (`derived`), and the transitions (the last is the current state)."""

    randomized: date | None
    drugs: tuple[str, ...]
    changes: list[status.Change]
    ends: list[status.DrugEnd]
    derived: list[status.DrugEnd]
    path: list[status.Transition]


def courses_of(patients) -> dict[int, Course]:
    """The course of each patient (Patient rows: their enrolment dates are read from them), in
    a fixed number of queries whatever their number: the patient list, the casebook matrix."""
    patients = list(patients)
    ids = [p.pk for p in patients]
    plans = evidence.plans_of(ids)
    records = _records_of(ids)
    changes = {pid: [c.as_rule() for c in records[pid][0]] for pid in ids}
    ends = {pid: [e.as_rule() for e in records[pid][1]] for pid in ids}
    derived = evidence.stops_of(ids)
    found = {}
    for patient in patients:
        randomized, drugs = plans.get(patient.pk, (None, ()))
        path = status.course(
            enrolled=timezone.localdate(patient.enrolled_at),
            randomized=randomized,
            drugs=drugs,
            ends=ends[patient.pk] + derived[patient.pk],
            changes=changes[patient.pk],
        )
        found[patient.pk] = Course(
            randomized,
            tuple(drugs),
            changes[patient.pk],
            ends[patient.pk],
            derived[patient.pk],
            path,
        )
    return found


def derived_states(patients) -> dict[int, str]:
    """Each patient's current state derived from the records (Patient rows), in a fixed
    number of queries (courses_of)."""
    return {pid: found.path[-1].state for pid, found in courses_of(patients).items()}


def current_states(patients) -> dict[int, str]:
    """Each patient's current state (Patient rows): as stored, else derived (a patient whose
    state was never stored, is outdated, or was stored under other rules)."""
    patients = list(patients)
    found = stored_states([p.pk for p in patients])
    missing = [p for p in patients if p.pk not in found]
    if missing:
        found.update(derived_states(missing))
    return found


def stored_states(patient_ids) -> dict[int, str]:
    """The states stored under the current rules and not outdated, in one query (the others
    are absent)."""
    found = valid_states().filter(patient_id__in=list(patient_ids))
    return dict(found.values_list("patient_id", "state"))


def valid_states():
    """The stored states one may read: derived under the current rules, not outdated since."""
    return CourseState.objects.filter(rules=evidence.rules()).exclude(state=OUTDATED)


OUTDATED = ""  # a stored state whose records changed since it was derived: read as missing


def states_outdated(patient_ids) -> None:
    """Mark these patients' stored states outdated, in the caller's transaction (the one that
    writes their records: the mark commits with them, or not at all), and derive them again
    once it commits, each patient once however many records it wrote (states_refresh). Until
    then, and if that fails, readers derive the state themselves."""
    ids = sorted(set(patient_ids))
    if not ids:
        return
    CourseState.objects.bulk_create(
        [CourseState(patient_id=pid, state=OUTDATED) for pid in ids],
        update_conflicts=True,
        unique_fields=["patient"],
        update_fields=["state"],
    )
    connection = transaction.get_connection()
    pending = connection.__dict__.setdefault("inkt_outdated_states", set())
    pending.update(ids)
    transaction.on_commit(lambda: _refresh_pending(pending), robust=True)


def _refresh_pending(pending: set) -> None:
    ids = sorted(pending)
    pending.clear()  # the first callback after a commit refreshes them all; the others, none
    for start in range(0, len(ids), REFRESHED_AT_ONCE):
        states_refresh(ids[start : start + REFRESHED_AT_ONCE])


REFRESHED_AT_ONCE = 500  # patients derived at a time: memory bounded after a bulk write


def states_refresh(patient_ids) -> dict[int, str]:
    """Derive and store the current state of these patients. Each stored row is locked before
    the records are read, so that a transaction writing records of the same patient meanwhile
    marks it outdated only after this one stores it (and it is derived again)."""
    with transaction.atomic(), memo.suspended():
        # those that exist (a patient whose enrolment was rolled back may still be pending)
        ids = list(Patient.objects.filter(pk__in=set(patient_ids)).values_list("pk", flat=True))
        if not ids:
            return {}
        CourseState.objects.bulk_create(
            [CourseState(patient_id=pid, state=OUTDATED) for pid in ids], ignore_conflicts=True
        )
        list(CourseState.objects.select_for_update().filter(patient_id__in=ids).order_by("pk"))
        patients = Patient.objects.filter(pk__in=ids).only("pk", "enrolled_at")
        found = derived_states(patients)
        rules = evidence.rules()
        CourseState.objects.bulk_update(
            [CourseState(patient_id=pid, state=state, rules=rules) for pid, state in found.items()],
            ["state", "rules"],
        )
    return found


def states_compared(patient_ids) -> list[tuple[int, str | None, str]]:
    """(patient id, stored state or None, derived state) of each patient among these whose
    stored state is missing, stored under other rules or not the one derived now."""
    ids = list(patient_ids)
    stored = stored_states(ids)
    with memo.suspended():
        derived = derived_states(Patient.objects.filter(pk__in=ids).only("pk", "enrolled_at"))
    return [
        (pid, stored.get(pid), state)
        for pid, state in sorted(derived.items())
        if stored.get(pid) != state
    ]


def treatment_stop(patient_id: int, drug: str) -> tuple[date, str] | None:
    return status.treatment_stop(changes_of(patient_id), all_ends(patient_id), drug)


def refuse_after_stop(patient_id: int, drug: str, day: date | None, field: str) -> None:
    stop = treatment_stop(patient_id, drug) if day is not None else None
    if stop is not None and day > stop[0]:
        message = f"{status.DRUGS[drug]} may not be given after {shown(stop[0])}: {stop[1]}."
        raise DomainError(message, field_errors={field: [message]})


def state(patient: Patient) -> dict:
    """The current state, the transitions that led to it, and each drug's end (or None)."""
    plan = evidence.plan(patient.pk)
    randomized, drugs = plan if plan else (None, ())
    recorded_changes, recorded_ends = _records_of([patient.pk])[patient.pk]
    changes = list(recorded_changes)
    ends = {e.drug: e for e in recorded_ends}
    rules = [c.as_rule() for c in changes]
    every_end = [e.as_rule() for e in ends.values()] + evidence.stops(patient.pk)
    path = status.course(
        enrolled=timezone.localdate(patient.enrolled_at),
        randomized=randomized,
        drugs=drugs,
        ends=every_end,
        changes=rules,
    )
    return {
        "state": path[-1].state,
        "state_label": status.STATES[path[-1].state],
        "transitions": [
            {"date": t.date, "state": t.state, "label": status.STATES[t.state], "reason": t.reason}
            for t in path
        ],
        "drugs": [
            {
                "drug": d,
                "label": status.DRUGS[d],
                "end": ends.get(d),
                "stop": status.treatment_stop(rules, every_end, d),
            }
            for d in drugs
        ],
        "changes": changes,
    }


def treatment_ended_on(patient: Patient) -> date | None:
    """The day the patient's study treatment ended (every drug stopped, or the patient went off
    study while on treatment), or None while on treatment or before it."""
    path = state(patient)["transitions"]
    if not any(t["state"] == status.ON_TREATMENT for t in path):
        return None
    ended = [t["date"] for t in path if t["state"] in (status.IN_FOLLOW_UP, status.OFF_STUDY_STATE)]
    return ended[0] if ended else None


# Writes ---------------------------------------------------------------------------------------


def _check_change(record: StatusChange) -> None:
    patient = Patient.objects.get(pk=record.patient_id)
    others = [
        c.as_rule() for c in StatusChange.objects.filter(patient=patient).exclude(pk=record.pk)
    ]
    errors = status.check_change(
        record.as_rule(),
        others,
        enrolled=timezone.localdate(patient.enrolled_at),
        today=timezone.localdate(),
        evidence=evidence.evidence(patient.pk),
        fatal_event_dates=evidence.fatal_dates(patient.pk),
    )
    if errors:
        raise DomainError("The status change was not saved.", field_errors=errors)


@transaction.atomic
def status_change_record(*, patient: Patient, by, **data) -> StatusChange:
    _lock(patient.pk)
    record = StatusChange(
        patient=patient, recorded_by=by, **{k: v for k, v in data.items() if k in CHANGE_FIELDS}
    )
    _check_change(record)
    record._history_user = by
    record.save()
    return record


@transaction.atomic
def status_change_correct(*, record: StatusChange, by, reason: str, **changes) -> StatusChange:
    _lock(record.patient_id)
    record = StatusChange.objects.get(pk=record.pk)
    apply_changes(record, changes, CHANGE_FIELDS)
    _check_change(record)
    record.save_with_reason(reason, by=by)
    return record


def _check_end(record: TreatmentEnd) -> None:
    plan = evidence.plan(record.patient_id)
    randomized, drugs = plan if plan else (None, ())
    errors = status.check_drug_end(
        record.as_rule(),
        [
            e.as_rule()
            for e in TreatmentEnd.objects.filter(patient_id=record.patient_id).exclude(pk=record.pk)
        ],
        drugs=drugs,
        randomized=randomized,
        today=timezone.localdate(),
        changes=changes_of(record.patient_id),
        evidence=evidence.evidence(record.patient_id),
        derived=evidence.stops(record.patient_id),
    )
    if errors:
        raise DomainError("The end of treatment was not saved.", field_errors=errors)


@transaction.atomic
def treatment_end_record(*, patient: Patient, by, **data) -> TreatmentEnd:
    _lock(patient.pk)
    record = TreatmentEnd(
        patient=patient, recorded_by=by, **{k: v for k, v in data.items() if k in END_FIELDS}
    )
    _check_end(record)
    record._history_user = by
    record.save()
    return record


@transaction.atomic
def treatment_end_correct(
    *, record: TreatmentEnd, by, correction_reason: str, **changes
) -> TreatmentEnd:
    """Correct an end of treatment; `reason` among the changes is why the drug ended, and
    `correction_reason` why the record changes (the audit trail's)."""
    _lock(record.patient_id)
    record = TreatmentEnd.objects.get(pk=record.pk)
    apply_changes(record, changes, END_FIELDS)
    _check_end(record)
    if record.changed_fields() and not (correction_reason or "").strip():
        raise DomainError(
            "A reason for the correction is required.",
            field_errors={"correction_reason": ["Say why the record changes."]},
        )
    record.save_with_reason(correction_reason, by=by)
    return record
