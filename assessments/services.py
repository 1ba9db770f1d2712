"""Every write of the imaging part: keyword-only functions, one transaction each; and the
series, discordance and agreement computed from locked reads by the pure engine."""

from collections import defaultdict
from datetime import timedelta
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import RADIOLOGIST
from assessments import qlqc30, series_codec, series_store
from assessments import reads as read_rules
from assessments.models import (
    Adjudication,
    Questionnaire,
    Read,
    ReaderAssignment,
    Scan,
    new_reading_label,
)
from assessments.recist import Criterion, ReadError, SeriesResult
from dosing.selectors import first_dose
from enrollment import course, evidence
from enrollment.models import Patient
from inkt_trial import memo
from inkt_trial.audit import apply_changes
from inkt_trial.errors import DomainError
from inkt_trial.signature import check_signature_password
from randomization.selectors import day_zero

REGIONS = ("chest", "abdomen", "pelvis")


@transaction.atomic
def readers_assign(*, patient: Patient, by, reader_1, reader_2) -> list[ReaderAssignment]:
    if reader_1 == reader_2:
        raise DomainError(field_errors={"reader_2": ["The two readers must be different."]})
    for field, user in (("reader_1", reader_1), ("reader_2", reader_2)):
        if not user.groups.filter(name=RADIOLOGIST).exists():
            raise DomainError(field_errors={field: [f"{user} is not a radiologist."]})
    if ReaderAssignment.objects.filter(patient=patient).exists():
        raise DomainError(f"{patient} already has readers; each follows the patient throughout.")
    made = []
    for slot, user in ((1, reader_1), (2, reader_2)):
        label = new_reading_label()
        while ReaderAssignment.objects.filter(reading_label=label).exists():
            label = new_reading_label()  # random labels can meet (about 1 in 10^9 per pair)
        assignment = ReaderAssignment(patient=patient, slot=slot, reader=user, reading_label=label)
        assignment._history_user = by
        assignment.save()
        made.append(assignment)
    return made


def scan_errors(
    patient: Patient, *, scan_date, kind: str, modality: str, regions, baseline, today
) -> dict[str, list[str]]:
    """Why a scan of the patient (read with its screening) may not be registered, by field:
    `baseline` is the patient's baseline scan already registered (or None), `today` the day it
    is registered. Also what the synthetic trial's bulk path is checked against."""
    errors: dict[str, list[str]] = {}
    if scan_date > today:
        errors.setdefault("scan_date", []).append("Cannot be in the future.")
    if refused := course.refusal(patient.pk, scan_date, what="scan"):
        errors.setdefault("scan_date", []).append(refused)
    if scan_date < patient.screening.consent_date and kind != Scan.BASELINE:
        # Routine imaging within the 28 days before randomization may serve as the baseline
        # (spec enrollment-and-dosing.md); it is flagged as done before consent.
        errors.setdefault("scan_date", []).append("Cannot be before consent.")
    if kind not in (Scan.BASELINE, Scan.SCHEDULED, Scan.UNSCHEDULED):
        errors.setdefault("kind", []).append("Baseline, scheduled or unscheduled.")
    if modality not in ("CT", "MRI"):
        errors.setdefault("modality", []).append("CT or MRI.")
    if not regions or any(r not in REGIONS for r in regions):
        errors.setdefault("regions", []).append(f"Choose among {', '.join(REGIONS)}.")
    allocation = getattr(patient, "allocation", None)
    if kind == Scan.BASELINE:
        if baseline is not None:
            errors.setdefault("kind", []).append("The baseline scan is already registered.")
        if allocation is not None:
            randomized_on = timezone.localdate(allocation.randomized_at)
            if (
                not randomized_on - timedelta(days=read_rules.BASELINE_WINDOW_DAYS)
                <= scan_date
                <= randomized_on
            ):
                errors.setdefault("scan_date", []).append(
                    "Baseline imaging is within the 28 days before randomization."
                )
        elif scan_date < today - timedelta(days=read_rules.BASELINE_WINDOW_DAYS):
            errors.setdefault("scan_date", []).append(
                "Baseline imaging is within the 28 days before randomization."
            )
    elif baseline is None:
        errors.setdefault("kind", []).append("Register the baseline scan first.")
    elif allocation is not None and scan_date < timezone.localdate(allocation.randomized_at):
        errors.setdefault("scan_date", []).append("A follow-up scan comes after randomization.")
    elif scan_date <= baseline.scan_date:
        errors.setdefault("scan_date", []).append("Must be after the baseline scan.")
    return errors


@transaction.atomic
def scan_register(*, patient: Patient, by, scan_date, kind: str, modality: str, regions) -> Scan:
    patient = Patient.objects.select_related("screening").get(pk=patient.pk)
    errors = scan_errors(
        patient,
        scan_date=scan_date,
        kind=kind,
        modality=modality,
        regions=regions,
        baseline=Scan.objects.filter(patient=patient, kind=Scan.BASELINE).first(),
        today=timezone.localdate(),
    )
    if errors:
        raise DomainError("The scan was not registered.", field_errors=errors)
    scan = Scan(
        patient=patient,
        scan_date=scan_date,
        kind=kind,
        modality=modality,
        regions=list(regions),
        registered_by=by,
    )
    scan._history_user = by
    try:
        with transaction.atomic():
            scan.save()
    except IntegrityError:
        raise DomainError(
            field_errors={"scan_date": ["A scan of that day is registered."]}
        ) from None
    return scan


def _assignment_for(scan: Scan, reader) -> ReaderAssignment:
    assignment = ReaderAssignment.objects.filter(patient=scan.patient_id, reader=reader).first()
    if assignment is None:
        raise DomainError("This scan is not on your worklist.")
    return assignment


def _series_reads(assignment: ReaderAssignment, *, locked_only=False):
    reads = Read.objects.filter(assignment=assignment).select_related("scan")
    if locked_only:
        reads = reads.filter(locked_at__isnull=False)
    return sorted(
        [(r.scan.scan_date, r.scan.kind, r.data, r.scan_id) for r in reads],
        key=lambda p: (p[1] != Scan.BASELINE, p[0]),
    )


def _validate(assignment: ReaderAssignment, scan: Scan, data) -> dict:
    """Check the read on its own and within the reader's whole series; return it as the rules
    understood it (what is stored)."""
    try:
        cleaned = read_rules.cleaned(scan.scan_date, data, baseline=scan.kind == Scan.BASELINE)
        others = [p for p in _series_reads(assignment) if p[3] != scan.pk]
        pairs = sorted(
            others + [(scan.scan_date, scan.kind, cleaned, scan.pk)],
            key=lambda p: (p[1] != Scan.BASELINE, p[0]),
        )
        if pairs[0][1] != Scan.BASELINE:
            raise ReadError(["Read the baseline scan first."])
        read_rules.check_series([(d, x) for d, _, x, _ in pairs], enrolled=_enrolled(scan.patient))
    except ReadError as error:
        raise DomainError("The read was refused.", field_errors={"data": error.problems}) from None
    return cleaned


def _enrolled(patient: Patient):
    """Day 0 of the response rules (SD from day 42): randomization. Before it only a baseline
    read exists, which no day count touches: the enrolment date stands in."""
    return day_zero(patient) or timezone.localdate(patient.enrolled_at)


def _later_locked(assignment: ReaderAssignment, scan: Scan) -> bool:
    return Read.objects.filter(
        assignment=assignment, locked_at__isnull=False, scan__scan_date__gt=scan.scan_date
    ).exists()


@transaction.atomic
def read_save(*, scan: Scan, reader, data, reason: str = "") -> Read:
    """Save (or correct, with a reason, until locked) a reader's read of a scan. What is stored
    is the read as the rules understood it. A read before a signed one cannot change (it would
    change the signed responses)."""
    scan = Scan.objects.select_related("patient").get(pk=scan.pk)
    assignment = _assignment_for(scan, reader)
    existing = Read.objects.select_for_update().filter(scan=scan, assignment=assignment).first()
    if existing is not None and existing.locked_at:
        raise DomainError("This read is locked by your signature; it can no longer change.")
    if _later_locked(assignment, scan):
        raise DomainError(
            "A later read of this case is signed: earlier reads can no longer be added or changed."
        )
    data = _validate(assignment, scan, data)
    if existing is None:
        read = Read(scan=scan, assignment=assignment, data=data)
        read._history_user = reader
        read.save()
        return read
    if existing.data == data:
        return existing  # nothing changed: nothing to audit
    existing.data = data
    existing.save_with_reason(reason, by=reader)
    return existing


def read_lock(*, read: Read, reader, password: str, username: str | None = None) -> Read:
    """Sign a read as final. Reads are signed in date order, the baseline first, so that a
    signed response can never change afterwards. The password is checked before the
    transaction: a wrong one is counted (in the database) although nothing else is saved."""
    check_signature_password(reader, password, username)
    return _read_lock(read=read, reader=reader)


@transaction.atomic
def _read_lock(*, read: Read, reader) -> Read:
    read = Read.objects.select_for_update().select_related("assignment", "scan").get(pk=read.pk)
    if read.assignment.reader_id != reader.pk:
        raise DomainError("Only the reader locks their own read.")
    if read.locked_at:
        raise DomainError("This read is already locked.")
    earlier = Scan.objects.filter(patient=read.scan.patient_id, scan_date__lt=read.scan.scan_date)
    signed = set(
        Read.objects.filter(assignment=read.assignment, locked_at__isnull=False).values_list(
            "scan_id", flat=True
        )
    )
    if any(scan.pk not in signed for scan in earlier):
        raise DomainError("Sign the reads of the earlier scans of this case first.")
    read = _sign(read, reader)
    if Read.objects.filter(scan=read.scan, locked_at__isnull=False).count() == 2:
        series_refresh(read.scan.patient)  # both readers have now signed this scan
    return read


SIGNED_READ_REASON = "Read locked by electronic signature"


def signature_apply(read: Read, reader, *, note: str = "") -> None:
    """The signature's three parts on the read (21 CFR 11.50), now; unsaved."""
    read.locked_at = timezone.now()
    read.signature_name = reader.get_full_name() or reader.username
    read.signature_meaning = (
        f"I, {read.signature_name}, sign my read of "
        f"{read.assignment.reading_label} of {read.scan.scan_date} as final.{note}"
    )


def _sign(read: Read, reader, *, note: str = "") -> Read:
    """Lock a checked read (the password included; the synthetic trial generator adds a note
    that its reads are synthetic)."""
    signature_apply(read, reader, note=note)
    read.save_with_reason(SIGNED_READ_REASON, by=reader)
    return read


def series(assignment: ReaderAssignment, criterion: Criterion, *, locked_only=False, scan_ids=None):
    """The reader's series by the engine (limited to `scan_ids` when given), or None when
    there is no baseline read."""
    pairs = _series_reads(assignment, locked_only=locked_only)
    if scan_ids is not None:
        pairs = [p for p in pairs if p[3] in scan_ids]
    if not pairs or pairs[0][1] != Scan.BASELINE:
        return None
    return read_rules.evaluate_series(
        [(d, x) for d, _, x, _ in pairs],
        enrolled=_enrolled(assignment.patient),
        criterion=criterion,
    )


def _comparison(patient: Patient):
    """The two readers and the scans both have signed (from the baseline on, in date order),
    or None while there is no follow-up signed by both."""
    assignments = list(ReaderAssignment.objects.filter(patient=patient).order_by("slot"))
    if len(assignments) != 2:
        return None
    signed = [
        dict(
            Read.objects.filter(assignment=a, locked_at__isnull=False).values_list(
                "scan_id", "scan__scan_date"
            )
        )
        for a in assignments
    ]
    shared = set(signed[0]) & set(signed[1])
    if len(shared) < 2:
        return None
    return assignments, shared, max(signed[0][s] for s in shared)


def _compared(patient: Patient) -> read_rules.Comparison | None:
    """Both readers' series over the scans both signed, once per request."""
    case = cases([patient.pk]).get(patient.pk)
    if case is None:
        return None
    return memo.remember(
        ("assessments.compared", patient.pk),
        lambda: read_rules.compare(
            *case.reads, enrolled=case.day0, evaluate=_stored(patient.pk).evaluate_criteria
        ),
    )


def discordance(patient: Patient) -> list[str] | None:
    """None until both readers have signed a follow-up; then where their series differ over
    the scans both have signed (empty: they agree)."""
    compared = _compared(patient)
    return None if compared is None else compared.disagreements()


def pending_adjudication(patient: Patient) -> bool:
    compared = _compared(patient)
    if compared is None or not compared.disagreements():
        return False
    covered = {until for until, _ in cases([patient.pk])[patient.pk].adjudications}
    return compared.until not in covered


def imaging_status(patient: Patient) -> str:
    found = discordance(patient)
    if found is None:
        return "not yet read by both readers"
    if not found:
        return "agreed"
    return "awaiting adjudication" if pending_adjudication(patient) else "adjudicated"


def accepted_series(patient: Patient, criterion: Criterion) -> SeriesResult | None:
    """The series the endpoints use: the readers' when they agree, else the one the
    adjudicator accepted for the same extent of scans (read_rules.accepted)."""
    found = accepted_by_criterion(patient)
    return None if found is None else found[criterion]


def progression_stop(patient: Patient):
    """Where progression stops imaging and treatment (read_rules.progression_stop)."""
    try:
        return read_rules.progression_stop(accepted_by_criterion(patient))
    except ReadError:
        return None


class Case(NamedTuple):
    """A patient's double read as the rules take it: each reader's signed reads (slot 1's
    first), the adjudications (covering until, the accepted slot) and day 0 of the response
    rules (randomization, else the enrolment date: _enrolled)."""

    reads: tuple[list[read_rules.SignedRead], list[read_rules.SignedRead]]
    adjudications: tuple[tuple, ...]
    day0: object


@memo.per_id
def cases(patient_ids) -> dict[int, Case]:
    """The case of each patient with both readers assigned, in five queries whatever their
    number (four when all are randomized); once per request."""
    pairs = defaultdict(list)
    for pk, pid in (
        ReaderAssignment.objects.filter(patient_id__in=list(patient_ids))
        .order_by("patient_id", "slot")
        .values_list("pk", "patient_id")
    ):
        pairs[pid].append(pk)
    pairs = {pid: pks for pid, pks in pairs.items() if len(pks) == 2}
    if not pairs:
        return {}
    reads = signed_reads([pk for pks in pairs.values() for pk in pks])
    adjudications = defaultdict(list)
    for pid, until, slot in Adjudication.objects.filter(patient_id__in=pairs).values_list(
        "patient_id", "covers_until", "accepted_slot"
    ):
        adjudications[pid].append((until, slot))
    day0 = {pid: randomized for pid, (randomized, _drugs) in evidence.plans_of(list(pairs)).items()}
    unrandomized = [pid for pid in pairs if pid not in day0]  # once a request, the plans
    if unrandomized:  # the enrolment date, read only for those not randomized
        for pid, moment in Patient.objects.filter(pk__in=unrandomized).values_list(
            "pk", "enrolled_at"
        ):
            day0[pid] = timezone.localdate(moment)
    return {
        pid: Case((reads[first], reads[second]), tuple(adjudications[pid]), day0[pid])
        for pid, (first, second) in pairs.items()
    }


@memo.per_id
def signed_reads(assignment_ids) -> dict[int, list[read_rules.SignedRead]]:
    """Assignment id -> its signed reads, for any number of assignments in one query."""
    found: dict[int, list[read_rules.SignedRead]] = {a: [] for a in assignment_ids}
    for assignment_id, scan_id, scan_date, kind, data in Read.objects.filter(
        assignment_id__in=list(assignment_ids), locked_at__isnull=False
    ).values_list("assignment_id", "scan_id", "scan__scan_date", "scan__kind", "data"):
        found[assignment_id].append(
            read_rules.SignedRead(scan_id, scan_date, kind == Scan.BASELINE, data)
        )
    return found


def accepted_by_criterion(patient: Patient, *, cutoff=None):
    case = cases([patient.pk]).get(patient.pk)
    return None if case is None else accepted_in(patient.pk, case, cutoff=cutoff)


def accepted_in(patient_id: int, case: "Case", *, cutoff=None, stored=None):
    """read_rules.accepted of the patient's case, once per request, the readers' series taken
    from the stored evaluations where they are (`stored`: loaded for many patients; else this
    patient's)."""
    return memo.remember(
        ("assessments.accepted", patient_id, cutoff),
        lambda: read_rules.accepted(
            *case.reads,
            case.adjudications,
            enrolled=case.day0,
            cutoff=cutoff,
            evaluate=(stored or _stored(patient_id)).evaluate_criteria,
        ),
    )


def _stored(patient_id: int) -> series_codec.Evaluations:
    found = series_store.evaluations([patient_id])
    found.owner = patient_id
    return found


def series_refresh(patient: Patient, *, case: Case | None = None) -> int:
    """Evaluate and store this patient's series over the scans both readers signed (the
    accepted one, or both readers' while a discordance awaits adjudication): what runs and
    pages then reuse. The number of series stored (0: all were already). `case`: the
    patient's, read already (cases() of many patients at once)."""
    if case is None:
        case = cases([patient.pk]).get(patient.pk)
    if case is None:
        return 0
    stored = _stored(patient.pk)
    try:
        read_rules.accepted(
            *case.reads, case.adjudications, enrolled=case.day0, evaluate=stored.evaluate_criteria
        )
    except ReadError:
        return 0
    return series_store.save(stored)


@transaction.atomic
def adjudicate(*, patient: Patient, by, accepted_slot: int, reason: str) -> Adjudication:
    if not (reason or "").strip():
        raise DomainError(field_errors={"reason": ["Say why this series is accepted."]})
    if accepted_slot not in (1, 2):
        raise DomainError(field_errors={"accepted_slot": ["Reader 1 or reader 2."]})
    if ReaderAssignment.objects.filter(patient=patient, reader=by).exists():
        raise DomainError("A reader of this case cannot adjudicate it.")
    if not pending_adjudication(patient):
        raise DomainError("There is no discordance awaiting adjudication in this case.")
    adjudication = Adjudication(
        patient=patient,
        accepted_slot=accepted_slot,
        reason=reason.strip(),
        adjudicator=by,
        covers_until=_comparison(patient)[2],
    )
    adjudication._history_user = by
    adjudication.save()
    series_refresh(patient)
    return adjudication


def agreement() -> dict:
    """Per criterion: timepoints compared, agreement rate and Cohen's kappa, over every
    patient's scans signed by both readers."""
    out = {}
    comparisons = [
        c
        for c in (
            _comparison(p)
            for p in Patient.objects.filter(reader_assignments__isnull=False).distinct()
        )
        if c is not None
    ]
    for criterion in Criterion:
        pairs = []
        for assignments, shared, _ in comparisons:
            one, two = (
                series(a, criterion, locked_only=True, scan_ids=shared) for a in assignments
            )
            if one is None or two is None:
                continue
            pairs += [
                (a.overall, b.overall) for a, b in zip(one.timepoints, two.timepoints, strict=False)
            ]
        agreed = sum(1 for a, b in pairs if a == b)
        out[criterion.value] = {
            "timepoints": len(pairs),
            "agreement": round(agreed / len(pairs), 3) if pairs else None,
            "kappa": read_rules.cohen_kappa(pairs),
        }
    return out


# QLQ-C30 questionnaires ------------------------------------------------------------------------


def _questionnaire_check(questionnaire: Questionnaire) -> None:
    """Visit, date and answers checked by the pure rules; the scores derived from the answers."""
    patient = Patient.objects.select_related("screening", "allocation").get(
        pk=questionnaire.patient_id
    )
    errors: dict[str, list[str]] = {}
    try:
        qlqc30.visit_order(questionnaire.visit)
    except ValueError as error:
        errors["visit"] = [str(error)]
    answers = questionnaire.answers
    if not isinstance(answers, dict):
        errors["answers"] = ["Give the answers as item number -> answer (null when blank)."]
    else:
        try:
            clean = qlqc30.check_answers(answers)
        except qlqc30.AnswerError as error:
            errors["answers"] = [f"Item {k}: {v}" for k, v in error.problems.items()]
        else:
            if qlqc30.all_blank(clean):
                errors["answers"] = [qlqc30.ALL_BLANK]
    if "visit" not in errors and questionnaire.completed_on is not None:
        allocation = getattr(patient, "allocation", None)
        problems = qlqc30.check_date(
            questionnaire.visit,
            questionnaire.completed_on,
            consent=patient.screening.consent_date,
            today=timezone.localdate(),
            randomized=allocation and timezone.localdate(allocation.randomized_at),
            first_dose=first_dose(patient),
            end_of_treatment=course.treatment_ended_on(patient),
            others=Questionnaire.objects.filter(patient=patient)
            .exclude(pk=questionnaire.pk)
            .values_list("visit", "completed_on"),
        )
        if refused := course.refusal(patient.pk, questionnaire.completed_on, what="questionnaire"):
            problems.append(refused)
        if problems:
            errors["completed_on"] = problems
    clash = Questionnaire.objects.filter(
        patient_id=questionnaire.patient_id, visit=questionnaire.visit
    ).exclude(pk=questionnaire.pk)
    if clash.exists():
        errors.setdefault("visit", []).append("This visit's questionnaire is already recorded.")
    if errors:
        raise DomainError("The questionnaire was not saved.", field_errors=errors)
    questionnaire.answers = {str(item): value for item, value in clean.items()}
    questionnaire.scores = qlqc30.score(clean)


@transaction.atomic
def questionnaire_record(*, patient: Patient, by, visit: str, completed_on, answers):
    Patient.objects.select_for_update().get(pk=patient.pk)  # one questionnaire per visit
    questionnaire = Questionnaire(
        patient=patient, visit=visit, completed_on=completed_on, answers=answers, recorded_by=by
    )
    _questionnaire_check(questionnaire)
    questionnaire._history_user = by
    questionnaire.save()
    return questionnaire


@transaction.atomic
def questionnaire_correct(*, questionnaire: Questionnaire, by, reason: str, **changes):
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    apply_changes(questionnaire, changes, ("visit", "completed_on", "answers"))
    _questionnaire_check(questionnaire)
    questionnaire.save_with_reason(reason, by=by)
    return questionnaire
