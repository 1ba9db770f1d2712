"""Every write of the randomization app: keyword-only functions, one transaction each."""

import hashlib
import logging
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import mail_admins, send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import DATA_MANAGER
from enrollment.dates import shown
from enrollment.models import Patient, StatusChange
from inkt_trial.audit import check_reason
from inkt_trial.errors import DomainError
from randomization import prerequisites, protocol
from randomization import sequence as seq
from randomization.models import (
    Allocation,
    AllocationSequence,
    EnrolmentLimit,
    SequenceAlert,
    Slot,
)

log = logging.getLogger(__name__)


def _require_reason_to_replace(*, by, reason: str) -> AllocationSequence | None:
    """The active sequence, which only the administrator may replace, with a reason."""
    active = AllocationSequence.objects.select_for_update().filter(is_active=True).first()
    if active is None:
        return None
    if not by.has_perm("randomization.replace_sequence"):
        raise DomainError(
            f"{active} is in force; only the administrator can replace it by a new version."
        )
    if not (reason or "").strip():
        raise DomainError(
            "A reason is required to replace the sequence in force.",
            field_errors={"reason": ["A reason is required to replace the sequence in force."]},
        )
    return active


def _require_masking_or_a_reason(*, by, uses_codes: bool, uncoded_reason: str) -> str:
    """The protocol's statistician is independent and masked, so a sequence holds codes A/B;
    arm names instead only by the administrator's choice, with a reason."""
    if uses_codes:
        return ""
    if not by.has_perm("randomization.set_arm_codes"):
        raise DomainError(
            "A sequence holds the arms as codes A/B (the statistician is masked); only the "
            "administrator may choose arm names instead, with a reason.",
            field_errors={"uses_codes": ["Only the administrator may choose arm names."]},
        )
    if not (uncoded_reason or "").strip():
        raise DomainError(
            field_errors={"uncoded_reason": ["Give the reason for arm names instead of codes."]}
        )
    return uncoded_reason.strip()


def _store(*, by, slots_by_stratum, reason, previous, **fields) -> AllocationSequence:
    if previous is not None:
        unused = Slot.objects.filter(sequence=previous, allocation__isnull=True).count()
        previous.is_active = False
        previous.save_with_reason(
            reason, note=f"Replaced by a new version ({unused} unused slots left behind): ", by=by
        )
    last = AllocationSequence.objects.order_by("-version").values_list("version", flat=True).first()
    sequence = AllocationSequence(
        version=(last or 0) + 1, created_by=by, reason=(reason or "").strip(), **fields
    )
    sequence._history_user = by
    try:
        with transaction.atomic():
            sequence.save()
    except IntegrityError:
        raise DomainError("Another sequence was put in force at the same moment; reload.") from None
    Slot.objects.bulk_create(
        Slot(
            sequence=sequence,
            stratum=stratum,
            position=s.position,
            block=s.block,
            block_size=s.block_size,
            arm=s.arm,
        )
        for stratum, slots in slots_by_stratum.items()
        for s in slots
    )
    return sequence


def _check_stratifier(stratify_by: str) -> None:
    if stratify_by and stratify_by not in protocol.STRATIFIERS:
        raise DomainError(
            field_errors={"stratify_by": [f"Unknown stratification {stratify_by!r}."]}
        )


@transaction.atomic
def sequence_generate(
    *,
    by,
    length: int,
    block_sizes,
    seed: int | None = None,
    stratify_by: str = "",
    uses_codes: bool = True,
    uncoded_reason: str = "",
    reason: str = "",
) -> AllocationSequence:
    """Generate and store a sequence of permuted blocks from a recorded seed (a fresh random
    seed when none is given). Each stratum has its own sequence from its own derived seed."""
    _check_stratifier(stratify_by)
    uncoded_reason = _require_masking_or_a_reason(
        by=by, uses_codes=uses_codes, uncoded_reason=uncoded_reason
    )
    previous = _require_reason_to_replace(by=by, reason=reason)
    seed = secrets.randbelow(2**53) if seed is None else seed
    if not 0 <= seed < 2**63:
        raise DomainError(
            field_errors={"seed": ["The seed must be a whole number from 0 to 2^63-1."]}
        )
    arms = protocol.ARM_CODES if uses_codes else (protocol.RPI, protocol.RP)
    strata = protocol.STRATIFIERS[stratify_by][1] if stratify_by else ("",)
    try:
        slots = {
            stratum: seq.generate(
                seed=seq.stratum_seed(seed, stratum),
                length=length,
                block_sizes=list(block_sizes),
                arms=arms,
            )
            for stratum in strata
        }
    except seq.SequenceError as error:
        raise DomainError(
            "The sequence parameters were refused.", field_errors={"parameters": error.problems}
        ) from None
    return _store(
        by=by,
        slots_by_stratum=slots,
        reason=reason,
        previous=previous,
        method="generated",
        seed=seed,
        block_sizes=sorted(set(block_sizes)),
        length=length,
        stratify_by=stratify_by,
        uses_codes=uses_codes,
        uncoded_reason=uncoded_reason,
    )


@transaction.atomic
def sequence_upload(
    *,
    by,
    csv_text: str,
    stratify_by: str = "",
    uses_codes: bool = True,
    uncoded_reason: str = "",
    reason: str = "",
) -> AllocationSequence:
    """Store a sequence prepared elsewhere, after checking it line by line."""
    _check_stratifier(stratify_by)
    uncoded_reason = _require_masking_or_a_reason(
        by=by, uses_codes=uses_codes, uncoded_reason=uncoded_reason
    )
    previous = _require_reason_to_replace(by=by, reason=reason)
    arms = protocol.ARM_CODES if uses_codes else (protocol.RPI, protocol.RP)
    strata = protocol.STRATIFIERS[stratify_by][1] if stratify_by else ("",)
    slots, problems = seq.parse_csv(csv_text, arms=arms, strata=strata)
    if problems:
        raise DomainError(
            f"The file was refused: {len(problems)} problem(s).",
            field_errors={"file": [f"Line {line}: {message}" for line, message in problems]},
        )
    return _store(
        by=by,
        slots_by_stratum=slots,
        reason=reason,
        previous=previous,
        method="uploaded",
        length=min(len(s) for s in slots.values()),
        stratify_by=stratify_by,
        uses_codes=uses_codes,
        uncoded_reason=uncoded_reason,
        file_sha256=hashlib.sha256(csv_text.encode()).hexdigest(),
    )


@transaction.atomic
def arm_codes_set(*, sequence: AllocationSequence, by, code_a_arm: str, reason: str) -> None:
    """The administrator maps code A to an arm (code B is the other). Once a patient has been
    randomized with the sequence, the mapping can no longer change."""
    sequence = AllocationSequence.objects.select_for_update().get(pk=sequence.pk)
    if not sequence.uses_codes:
        raise DomainError(f"{sequence} holds the arms themselves, not codes.")
    if code_a_arm not in protocol.ARMS:
        raise DomainError(field_errors={"code_a_arm": [f"Choose {' or '.join(protocol.ARMS)}."]})
    if code_a_arm == sequence.code_a_arm:
        return
    if Allocation.objects.filter(slot__sequence=sequence).exists():
        raise DomainError(f"Patients have been randomized with {sequence}; its codes are fixed.")
    sequence.code_a_arm = code_a_arm
    sequence.save_with_reason(reason or "Arm codes mapped", by=by)


class SequenceExhausted(Exception):
    pass


def patient_randomize(*, patient: Patient, by) -> Allocation:
    """Take the next unused slot of the patient's stratum. The active sequence's row is locked
    for the duration, so simultaneous requests take slots one after the other: never the same
    slot twice, never a slot skipped. Beyond the protocol's 84 patients only as far as the
    administrator has allowed (over-enrolment, with a reason)."""
    try:
        return _take_next_slot(patient=patient, by=by)
    except OverEnrolment as over:
        (limit,) = over.args
        _alert_administrators(
            subject="[NCT05962450] Randomization beyond the protocol's patients refused",
            body=f"{patient} could not be randomized: {limit} patients are randomized, as many "
            "as the protocol (or your last decision) allows. To over-enrol, record the decision "
            f"with its reason: {settings.SITE_URL}/randomization/reports/\n",
        )
        raise DomainError(
            f"{limit} patients are randomized, as many as the protocol ({protocol.TARGET_PATIENTS}"
            ") or the administrator's last decision allows. Randomizing more is over-enrolment: "
            "the administrator decides, with a reason, and has been alerted. The patient was not "
            "randomized."
        ) from None
    except SequenceExhausted as exhausted:
        sequence, stratum = exhausted.args
        _alert_exhausted(sequence=sequence, stratum=stratum, patient=patient)
        raise DomainError(
            "No allocation is available for this patient; the administrator has been alerted. "
            "The patient was not randomized."
        ) from None


@transaction.atomic
def _take_next_slot(*, patient: Patient, by) -> Allocation:
    patient = Patient.objects.select_related("screening").get(pk=patient.pk)
    screening = patient.screening
    if not screening.is_confirmed:
        raise DomainError(f"Eligibility of {patient} has not been confirmed by an investigator.")
    if not screening.consent_date:
        raise DomainError(f"{patient} has no informed consent on file.")
    for refusal in prerequisites.refusals(patient):
        raise DomainError(refusal)
    change = StatusChange.objects.filter(patient=patient).order_by("date").first()
    if change is not None:  # every status change ends or forbids the study treatment
        raise DomainError(
            f"{change.get_kind_display()} is recorded for {patient} ({shown(change.date)}): "
            "the patient cannot be randomized."
        )
    active = AllocationSequence.objects.select_for_update().filter(is_active=True)
    # A replacement committed while this request waited for the lock: the old row no longer
    # matches, so look again (and lock the new version).
    sequence = active.first() or active.first()
    if sequence is None:
        raise DomainError("No allocation sequence has been prepared yet; ask the statistician.")
    # Checked under the lock: a double click cannot randomize the same patient twice.
    if Allocation.objects.filter(patient=patient).exists():
        raise DomainError(f"{patient} is already randomized; a patient is randomized once.")
    if sequence.uses_codes and not sequence.code_a_arm:
        raise DomainError("The administrator has not yet mapped the arm codes; ask them to.")
    try:
        stratum = seq.stratum_of(
            sequence.stratify_by, {"child_pugh_class": screening.child_pugh_class}
        )
    except ValueError as error:
        raise DomainError(str(error)) from None
    slot = (
        Slot.objects.filter(sequence=sequence, stratum=stratum, allocation__isnull=True)
        .order_by("position")
        .first()
    )
    if slot is None:
        raise SequenceExhausted(sequence, stratum)
    limit = enrolment_limit()
    if Allocation.objects.count() >= limit:  # counted under the sequence's lock
        raise OverEnrolment(limit)
    allocation = Allocation(
        patient=patient,
        slot=slot,
        arm=sequence.arm_of(slot.arm),
        stratum=stratum,
        randomized_at=timezone.now(),
        randomized_by=by,
    )
    allocation._history_user = by
    allocation.save()
    return allocation


class OverEnrolment(Exception):
    pass


def enrolment_limit() -> int:
    """Patients who may be randomized: the protocol's 84, or the administrator's latest
    decision to over-enrol."""
    decided = EnrolmentLimit.objects.values_list("patients", flat=True).first()
    return decided if decided is not None else protocol.TARGET_PATIENTS


@transaction.atomic
def enrolment_limit_set(*, by, patients: int, reason: str) -> EnrolmentLimit:
    """The administrator allows randomizing up to `patients` in all (over-enrolment), with the
    reason; never below those already randomized, nor below the protocol's 84."""
    if not by.has_perm("randomization.replace_sequence"):
        raise DomainError("Only the administrator decides on over-enrolment.")
    errors = {}
    randomized = Allocation.objects.count()
    if patients < max(protocol.TARGET_PATIENTS, randomized):
        errors["patients"] = [
            f"At least {max(protocol.TARGET_PATIENTS, randomized)} (the protocol's "
            f"{protocol.TARGET_PATIENTS}, and the {randomized} randomized)."
        ]
    if not (reason or "").strip():
        errors["reason"] = ["Give the reason for over-enrolment."]
    if errors:
        raise DomainError("The decision was not recorded.", field_errors=errors)
    decision = EnrolmentLimit(patients=patients, reason=check_reason(reason), decided_by=by)
    decision._history_user = by
    decision.save()
    return decision


def _alert_administrators(*, subject: str, body: str) -> None:
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=DATA_MANAGER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    try:
        if recipients:
            send_mail(subject, body, None, recipients)
    except Exception:  # the refusal stands; the e-mail is a courtesy
        log.exception("could not e-mail the administrators: %s", subject)


def _alert_exhausted(*, sequence, stratum, patient) -> None:
    _, created = SequenceAlert.objects.get_or_create(
        sequence=sequence, stratum=stratum, patient=patient, resolved=False
    )
    if not created:  # already alerted for this patient: no second e-mail
        return
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=DATA_MANAGER, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    where = f" (stratum {stratum})" if stratum else ""
    subject = f"[NCT05962450] Allocation sequence exhausted{where}"
    body = (
        f"{patient} could not be randomized: {sequence}{where} has no unused slot left.\n"
        f"Prepare a new version: {settings.SITE_URL}/randomization/sequence/\n"
    )
    try:
        if recipients:
            send_mail(subject, body, None, recipients)
        else:
            mail_admins(subject, body)
    except OSError:
        log.exception("could not e-mail the sequence alert; it is on the administrator's dashboard")
