"""Every write of the imaging part: keyword-only functions, one transaction each; and the
series, discordance and agreement computed from locked reads by the pure engine."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import RADIOLOGIST
from assessments import reads as read_rules
from assessments.models import Adjudication, Read, ReaderAssignment, Scan
from assessments.recist import Criterion, ReadError, SeriesResult
from enrollment.models import Patient
from inkt_trial.errors import DomainError

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
        assignment = ReaderAssignment(patient=patient, slot=slot, reader=user)
        assignment._history_user = by
        assignment.save()
        made.append(assignment)
    return made


@transaction.atomic
def scan_register(*, patient: Patient, by, scan_date, kind: str, modality: str, regions) -> Scan:
    patient = Patient.objects.select_related("screening").get(pk=patient.pk)
    errors: dict[str, list[str]] = {}
    if scan_date > timezone.localdate():
        errors.setdefault("scan_date", []).append("Cannot be in the future.")
    if scan_date < patient.screening.consent_date:
        errors.setdefault("scan_date", []).append("Cannot be before consent.")
    if not regions or any(r not in REGIONS for r in regions):
        errors.setdefault("regions", []).append(f"Choose among {', '.join(REGIONS)}.")
    baseline = Scan.objects.filter(patient=patient, kind=Scan.BASELINE).first()
    allocation = getattr(patient, "allocation", None)
    if kind == Scan.BASELINE:
        if baseline is not None:
            errors.setdefault("kind", []).append("The baseline scan is already registered.")
        if allocation is not None:
            randomized_on = timezone.localdate(allocation.randomized_at)
            if not randomized_on - timedelta(days=28) <= scan_date <= randomized_on:
                errors.setdefault("scan_date", []).append(
                    "Baseline imaging is within the 28 days before randomization."
                )
    elif baseline is None:
        errors.setdefault("kind", []).append("Register the baseline scan first.")
    elif scan_date <= baseline.scan_date:
        errors.setdefault("scan_date", []).append("Must be after the baseline scan.")
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
        [(r.scan.scan_date, r.scan.kind, r.data) for r in reads],
        key=lambda p: (p[1] != Scan.BASELINE, p[0]),
    )


def _validate(assignment: ReaderAssignment, scan: Scan, data):
    """Check the read on its own and within the reader's whole series."""
    try:
        if scan.kind == Scan.BASELINE:
            read_rules.parse_baseline(scan.scan_date, data)
        else:
            read_rules.parse_follow_up(scan.scan_date, data)
        others = [p for p in _series_reads(assignment) if p[0] != scan.scan_date]
        pairs = sorted(
            others + [(scan.scan_date, scan.kind, data)],
            key=lambda p: (p[1] != Scan.BASELINE, p[0]),
        )
        if pairs[0][1] != Scan.BASELINE:
            raise ReadError(["Read the baseline scan first."])
        for criterion in Criterion:
            read_rules.evaluate_series(
                [(d, x) for d, _, x in pairs], enrolled=_enrolled(scan.patient), criterion=criterion
            )
    except ReadError as error:
        raise DomainError("The read was refused.", field_errors={"data": error.problems}) from None


def _enrolled(patient: Patient):
    return timezone.localdate(patient.enrolled_at)


@transaction.atomic
def read_save(*, scan: Scan, reader, data, reason: str = "") -> Read:
    """Save (or correct, with a reason, until locked) a reader's read of a scan."""
    scan = Scan.objects.select_related("patient").get(pk=scan.pk)
    assignment = _assignment_for(scan, reader)
    existing = Read.objects.select_for_update().filter(scan=scan, assignment=assignment).first()
    if existing is not None and existing.locked_at:
        raise DomainError("This read is locked by your signature; it can no longer change.")
    _validate(assignment, scan, data)
    if existing is None:
        read = Read(scan=scan, assignment=assignment, data=data)
        read._history_user = reader
        read.save()
        return read
    existing.data = data
    existing.save_with_reason(reason, by=reader)
    return existing


@transaction.atomic
def read_lock(*, read: Read, reader, password: str) -> Read:
    read = Read.objects.select_for_update().select_related("assignment", "scan").get(pk=read.pk)
    if read.assignment.reader_id != reader.pk:
        raise DomainError("Only the reader locks their own read.")
    if read.locked_at:
        raise DomainError("This read is already locked.")
    if not reader.check_password(password or ""):
        raise DomainError(field_errors={"password": ["The password is not correct."]})
    read.locked_at = timezone.now()
    read.signature_meaning = (
        f"I, {reader.get_full_name() or reader.username}, sign my read of "
        f"{read.assignment.reading_label} of {read.scan.scan_date} as final."
    )
    read.save_with_reason("Read locked by electronic signature", by=reader)
    return read


def series(assignment: ReaderAssignment, criterion: Criterion, *, locked_only=False):
    """The reader's series by the engine, or None when there is no baseline read yet."""
    pairs = _series_reads(assignment, locked_only=locked_only)
    if not pairs or pairs[0][1] != Scan.BASELINE:
        return None
    return read_rules.evaluate_series(
        [(d, x) for d, _, x in pairs], enrolled=_enrolled(assignment.patient), criterion=criterion
    )


def discordance(patient: Patient) -> list[str] | None:
    """None until both readers have locked reads of the same scans; then the disagreements
    (empty: the readers agree)."""
    assignments = list(ReaderAssignment.objects.filter(patient=patient).order_by("slot"))
    if len(assignments) != 2:
        return None
    scans = [
        set(
            Read.objects.filter(assignment=a, locked_at__isnull=False).values_list(
                "scan_id", flat=True
            )
        )
        for a in assignments
    ]
    if not scans[0] or scans[0] != scans[1]:
        return None
    found = []
    for criterion in Criterion:
        one, two = (series(a, criterion, locked_only=True) for a in assignments)
        found += read_rules.disagreements(one, two)
    return found


def accepted_series(patient: Patient, criterion: Criterion) -> SeriesResult | None:
    """The series the endpoints use: the readers' when they agree, else the adjudicated one."""
    found = discordance(patient)
    if found is None:
        return None
    slot = 1
    if found:
        adjudication = Adjudication.objects.filter(patient=patient).first()
        if adjudication is None:
            return None
        slot = adjudication.accepted_slot
    assignment = ReaderAssignment.objects.get(patient=patient, slot=slot)
    return series(assignment, criterion, locked_only=True)


@transaction.atomic
def adjudicate(*, patient: Patient, by, accepted_slot: int, reason: str) -> Adjudication:
    if not (reason or "").strip():
        raise DomainError(field_errors={"reason": ["Say why this series is accepted."]})
    if accepted_slot not in (1, 2):
        raise DomainError(field_errors={"accepted_slot": ["Reader 1 or reader 2."]})
    found = discordance(patient)
    if not found:
        raise DomainError("The readers' series are not discordant; there is nothing to adjudicate.")
    if Adjudication.objects.filter(patient=patient).exists():
        raise DomainError("This case is already adjudicated.")
    adjudication = Adjudication(
        patient=patient, accepted_slot=accepted_slot, reason=reason.strip(), adjudicator=by
    )
    adjudication._history_user = by
    adjudication.save()
    return adjudication


def agreement() -> dict:
    """Per criterion: timepoints compared, agreement rate and Cohen's kappa over all patients
    whose two readers have locked the same scans."""
    out = {}
    patients = Patient.objects.filter(reader_assignments__isnull=False).distinct()
    for criterion in Criterion:
        pairs = []
        for patient in patients:
            if discordance(patient) is None:
                continue
            one, two = (
                series(a, criterion, locked_only=True)
                for a in ReaderAssignment.objects.filter(patient=patient).order_by("slot")
            )
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
