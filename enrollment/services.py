"""Every write of the enrollment app: keyword-only functions, one transaction each."""

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.roles import INVESTIGATOR
from enrollment import eligibility as el
from enrollment import evidence
from enrollment.dates import shown_moment
from enrollment.models import EligibilityViolation, Outcome, Patient, Screening
from enrollment.validation import check_screening
from inkt_trial.audit import check_reason
from inkt_trial.errors import DomainError
from inkt_trial.numbering import create_numbered
from inkt_trial.signature import check_signature_password

# The fields a coordinator enters; everything else on Screening is derived or set by a service.
ENTERED_FIELDS = (
    "date_of_birth",
    "sex",
    "consent_date",
    "screening_date",
    "height_cm",
    "weight_kg",
    "bilirubin",
    "bilirubin_unit",
    "bilirubin_uln",
    "albumin",
    "albumin_unit",
    "inr",
    "creatinine",
    "creatinine_unit",
    "measured_gfr_ml_min",
    "ascites",
    "encephalopathy",
    "bclc_stage",
    "bclc_by_ct",
    "bclc_by_mri",
    "bclc_by_histopathology",
    "prior_regimen",
    "prior_regimen_start",
    "prior_progression",
    "prior_progression_date",
    "life_expectancy_12_weeks",
    *(c.code for c in el.ANSWERED_EXCLUSIONS),
)

log = logging.getLogger(__name__)

SIGNATURE_MEANING = (
    "I, {name}, confirm that I have reviewed screening {number} and that the patient meets "
    "every eligibility criterion of NCT05962450."
)
RESIGN_MEANING = (
    "I, {name}, confirm that I have reviewed the corrected screening {number} of {patient} and "
    "that the patient meets every eligibility criterion of NCT05962450."
)
ENROL_REASON = "Eligibility confirmed by electronic signature"
VIOLATION_MEANING = (
    "I, {name}, have reviewed the corrected screening {number} of {patient}: the patient does "
    "not meet: {failed}. Randomized before the correction, the patient stays in the trial and "
    "the analysis with an eligibility violation."
)


def _validated_assessment(values: dict) -> el.Assessment:
    errors = check_screening(values, today=timezone.localdate())
    if errors:
        raise DomainError("The screening record has errors.", field_errors=errors)
    try:
        return el.assess(el.facts_from(values))
    except KeyError as missing:
        field = missing.args[0]
        raise DomainError(field_errors={field: ["This field is required."]}) from None


def _apply(screening: Screening, values: dict, assessment: el.Assessment) -> None:
    for field in ENTERED_FIELDS:
        setattr(screening, field, values.get(field))
    screening.age_years = assessment.age_years
    screening.bilirubin_umol_l = assessment.bilirubin_umol_l.quantize(Decimal("0.01"))
    screening.albumin_g_l = assessment.albumin_g_l.quantize(Decimal("0.01"))
    screening.bilirubin_x_uln = el.floor_to(assessment.bilirubin_x_uln, 2)
    screening.egfr = None if assessment.egfr is None else el.floor_to(assessment.egfr, 1)
    screening.child_pugh_points = assessment.child_pugh.points
    screening.child_pugh_class = assessment.child_pugh.child_pugh_class
    screening.outcome = Outcome.ELIGIBLE if assessment.eligible else Outcome.SCREEN_FAILURE
    screening.failed_criteria = assessment.failed_codes


def _values(values) -> dict:
    out = {field: values.get(field) for field in ENTERED_FIELDS}
    for method in el.Confirmation:
        out[f"bclc_by_{method.value}"] = bool(out[f"bclc_by_{method.value}"])
    out["creatinine_unit"] = out["creatinine_unit"] or "umol/L"
    return out


@transaction.atomic
def screening_create(*, values, by, rescreen_of: Screening | None = None) -> Screening:
    values = _values(values)
    if rescreen_of is not None:
        rescreen_of = Screening.objects.select_for_update().get(pk=rescreen_of.pk)
        if rescreen_of.outcome != Outcome.SCREEN_FAILURE:
            raise DomainError(f"{rescreen_of} is not a screen failure; only those are re-screened.")
        if Screening.objects.filter(rescreen_of=rescreen_of).exists():
            raise DomainError(f"{rescreen_of} has already been re-screened.")
        mismatched = [
            f for f in ("date_of_birth", "sex") if values.get(f) != getattr(rescreen_of, f)
        ]
        if mismatched:
            raise DomainError(
                "A re-screening is of the same person as the earlier record.",
                field_errors={f: [f"Differs from {rescreen_of}."] for f in mismatched},
            )
    assessment = _validated_assessment(values)
    screening = Screening(created_by=by, rescreen_of=rescreen_of)
    _apply(screening, values, assessment)
    fields = {
        f.name: getattr(screening, f.name)
        for f in Screening._meta.concrete_fields
        if f.name not in ("id", "screening_number", "created_at")
    }
    screening = create_numbered(Screening, "screening_number", "S-", 4, by=by, **fields)
    _notify_if_eligible(screening)
    return screening


@transaction.atomic
def screening_update(*, screening: Screening, values, by, reason: str) -> Screening:
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    _refuse_if_rescreened(screening)
    if screening.is_confirmed:
        raise DomainError(
            f"Eligibility of {screening} was confirmed by signature on "
            f"{shown_moment(timezone.localtime(screening.confirmed_at))}; the record is locked. "
            "The investigator or the data manager may reopen it for a correction."
        )
    if not (reason or "").strip():
        raise DomainError(
            "A reason for the change is required.",
            field_errors={"reason": ["A reason for the change is required."]},
        )
    values = {
        **_values({f: getattr(screening, f) for f in ENTERED_FIELDS}),
        **{k: v for k, v in values.items() if k in ENTERED_FIELDS},
    }
    if screening.rescreen_of_id:
        for field in ("date_of_birth", "sex"):
            if values[field] != getattr(screening.rescreen_of, field):
                raise DomainError(field_errors={field: [f"Differs from {screening.rescreen_of}."]})
    was_eligible = screening.outcome == Outcome.ELIGIBLE
    assessment = _validated_assessment(values)
    _apply(screening, values, assessment)
    screening.save_with_reason(reason, by=by)
    if hasattr(screening, "patient"):
        _eligibility_after_correction(screening, by=by, reason=reason)
    if not was_eligible:
        _notify_if_eligible(screening)
    return screening


def _eligibility_after_correction(screening: Screening, *, by, reason: str) -> None:
    """A correction of an enrolled patient's screening: if it shows the patient ineligible
    after randomization, an eligibility violation is recorded (the patient stays randomized
    and analysed); a later correction that makes them eligible again resolves it."""
    patient = screening.patient
    open_violation = EligibilityViolation.objects.filter(patient=patient, resolved_on=None).first()
    today = timezone.localdate()
    if screening.outcome == Outcome.ELIGIBLE:
        if open_violation is not None:
            open_violation.resolved_on = today
            open_violation.resolution = f"A correction makes the patient eligible: {reason}"
            open_violation.save_with_reason("Resolved by a correction of the screening", by=by)
        return
    if evidence.plan(patient.pk) is None:
        return  # not randomized: the screening is a screen failure and randomization refuses
    if open_violation is not None:
        if open_violation.failed_criteria != screening.failed_criteria:
            open_violation.failed_criteria = screening.failed_criteria
            open_violation.screening_version = screening.version
            open_violation.save_with_reason(f"Another correction: {reason}", by=by)
        return
    violation = EligibilityViolation(
        patient=patient,
        failed_criteria=screening.failed_criteria,
        found_on=today,
        screening_version=screening.version,
        correction_reason=reason,
        recorded_by=by,
    )
    violation._history_user = by
    violation.save()


def screening_reopen(*, screening: Screening, by, reason: str) -> Screening:
    """Reopen a signed screening for a correction (the investigator, or the data manager):
    the signature no longer applies to the record, which the coordinator may then correct and
    the investigator sign again. The first signature, the reopening and the new signature all
    stay in the audit trail."""
    if not by.has_perm("enrollment.reopen_screening"):
        raise DomainError("Only the investigator or the data manager reopens a signed screening.")
    reason = check_reason(reason)
    if not reason:
        raise DomainError(
            "Say why the signed screening is reopened.",
            field_errors={"reason": ["Say why the signed screening is reopened."]},
        )
    with transaction.atomic():
        screening = Screening.objects.select_for_update().get(pk=screening.pk)
        _refuse_if_rescreened(screening)
        if screening.is_reopened:
            raise DomainError(f"{screening} is already reopened.")
        if not screening.is_confirmed:
            raise DomainError(f"{screening} is not signed: it can be corrected as it is.")
        signed = f"{screening.signature_name or screening.confirmed_by} on " + shown_moment(
            timezone.localtime(screening.confirmed_at)
        )
        screening.confirmed_by = None
        screening.confirmed_at = None
        screening.signature_meaning = ""
        screening.signature_name = ""
        screening.reopened_at = timezone.now()
        screening.reopened_by = by
        screening.reopen_reason = reason
        screening.save_with_reason(reason, by=by, note=f"Reopened (signed by {signed}): ")
    return screening


def _refuse_if_rescreened(screening: Screening) -> None:
    later = Screening.objects.filter(rescreen_of=screening).first()
    if later is not None:
        raise DomainError(
            f"{screening} was re-screened as {later}; only the latest screening of a person "
            "can change or be confirmed."
        )


def screening_confirm(
    *, screening: Screening, by, password: str, version: int, username: str | None = None
) -> Patient:
    """The investigator's electronic signature (21 CFR 11.200: re-entry of the password, with
    the meaning of the signature recorded) of the version of the record they reviewed
    (`version`, from `Screening.version`). A consented, eligible patient is then enrolled; an
    enrolled patient's reopened screening is signed again. `username`, when given, must be the
    signer's (the first signing of a session gives both components).
    The password is checked before the transaction: a wrong one is counted (the lockout's
    counter is in the database) although nothing else is saved."""
    check_signature_password(by, password, username)
    return _screening_confirm(screening=screening, by=by, version=version)


@transaction.atomic
def _screening_confirm(*, screening: Screening, by, version: int) -> Patient:
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    _refuse_if_rescreened(screening)
    if version != screening.version:
        raise DomainError(
            f"{screening} has changed since you opened it; review the current version before "
            "signing.",
            field_errors={"version": ["The record has changed; review it again."]},
        )
    if screening.is_confirmed:
        raise DomainError(f"Eligibility of {screening} is already confirmed.")
    if not screening.consent_date:
        raise DomainError(f"{screening} has no informed consent on file.")
    patient = getattr(screening, "patient", None)
    if patient is not None:
        return _resign(screening, patient, by)
    if screening.outcome != Outcome.ELIGIBLE:
        raise DomainError(f"{screening} is a screen failure; only eligible patients are confirmed.")
    return _enrol(screening, by)


def signature_meaning(screening: Screening, by) -> str:
    """What the investigator's signature of this screening means, as they will sign it."""
    name = by.get_full_name() or by.username
    patient = getattr(screening, "patient", None)
    if patient is None:
        return SIGNATURE_MEANING.format(name=name, number=screening.screening_number)
    if screening.outcome == Outcome.ELIGIBLE:
        return RESIGN_MEANING.format(name=name, number=screening.screening_number, patient=patient)
    failed = "; ".join(el.CRITERIA[c].failure_text for c in screening.failed_criteria)
    return VIOLATION_MEANING.format(
        name=name, number=screening.screening_number, patient=patient, failed=failed
    )


def _resign(screening: Screening, patient: Patient, by) -> Patient:
    """The investigator signs a corrected screening of an enrolled patient again."""
    if not screening.is_reopened:
        raise DomainError(f"{screening} is not reopened for a correction.")
    if (
        screening.outcome != Outcome.ELIGIBLE
        and not patient.eligibility_violations.filter(resolved_on=None).exists()
    ):
        raise DomainError(
            f"{screening} is a screen failure and {patient} is not randomized: the patient "
            "cannot be confirmed (nor randomized)."
        )
    _sign(screening, by, signature_meaning(screening, by))
    screening.reopened_at = None
    screening.reopened_by = None
    screening.reopen_reason = ""
    screening.save_with_reason("Signed again after the correction", by=by)
    return patient


def _enrol(screening: Screening, by, *, meaning: str = SIGNATURE_MEANING) -> Patient:
    """The signed confirmation and the study ID (callers have checked everything, the
    password included; the synthetic trial generator marks its meaning as synthetic)."""
    name = by.get_full_name() or by.username
    _sign(screening, by, meaning.format(name=name, number=screening.screening_number))
    screening.save_with_reason(ENROL_REASON, by=by)
    return create_numbered(
        Patient,
        "study_id",
        "INKT-",
        3,
        by=by,
        screening=screening,
        enrolled_at=screening.confirmed_at,
        enrolled_by=by,
    )


def _sign(screening: Screening, by, meaning: str) -> None:
    """The signature's three parts on the record (21 CFR 11.50): the signer's printed name,
    the date and time, and the meaning."""
    screening.confirmed_by = by
    screening.confirmed_at = timezone.now()
    screening.signature_name = by.get_full_name() or by.username
    screening.signature_meaning = meaning


def _notify_if_eligible(screening: Screening) -> None:
    if screening.outcome != Outcome.ELIGIBLE:
        return
    from enrollment.tasks import notify_awaiting_confirmation

    def send():
        try:
            notify_awaiting_confirmation.delay(screening.pk)
        except Exception:  # the broker is down: the dashboard still lists the screening
            log.exception("could not queue the confirmation notice for %s", screening)

    transaction.on_commit(send)


def screening_notify_investigators(*, screening_id: int) -> int:
    """Tell the investigators (those with an e-mail address) that a screening awaits their
    signature. Returns the number of messages sent; none once it is confirmed."""
    screening = Screening.objects.get(pk=screening_id)
    if screening.is_confirmed or screening.outcome != Outcome.ELIGIBLE:
        return 0
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=INVESTIGATOR, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return 0
    path = reverse("enrollment:screening_confirm", args=[screening.pk])
    send_mail(
        subject=f"[NCT05962450] {screening} is eligible and awaits your confirmation",
        message=(
            f"Screening {screening} (screened {screening.screening_date}) meets every "
            f"eligibility criterion as computed from the record.\n"
            f"Please review and sign: {settings.SITE_URL}{path}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)
