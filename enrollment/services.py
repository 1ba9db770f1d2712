"""Every write of the enrollment app: keyword-only functions, one transaction each."""

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.urls import reverse
from django.utils import timezone

from accounts.roles import INVESTIGATOR
from enrollment import eligibility as el
from enrollment.models import Outcome, Patient, Screening
from enrollment.validation import check_screening
from inkt_trial.errors import DomainError
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


def _create_numbered(model, number_field: str, prefix: str, width: int, *, by, **fields):
    """Create a row with the next free number (PREFIX0001...). The unique constraint decides
    between simultaneous requests; the loser retries with the following number."""
    for _ in range(20):
        last = (
            model._base_manager.filter(**{f"{number_field}__startswith": prefix})
            .order_by(Length(number_field).desc(), f"-{number_field}")  # S-10000 after S-9999
            .values_list(number_field, flat=True)
            .first()
        )
        number = f"{prefix}{(int(last[len(prefix) :]) + 1 if last else 1):0{width}d}"
        try:
            with transaction.atomic():
                record = model(**{number_field: number}, **fields)
                record._history_user = by
                record.save()
                return record
        except IntegrityError:
            if not model._base_manager.filter(**{number_field: number}).exists():
                raise  # another constraint than the number's uniqueness
            continue
    raise DomainError("Could not allocate a number; please try again.")


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
    screening = _create_numbered(Screening, "screening_number", "S-", 4, by=by, **fields)
    _notify_if_eligible(screening)
    return screening


@transaction.atomic
def screening_update(*, screening: Screening, values, by, reason: str) -> Screening:
    screening = Screening.objects.select_for_update().get(pk=screening.pk)
    _refuse_if_rescreened(screening)
    if screening.is_confirmed:
        raise DomainError(
            f"Eligibility of {screening} was confirmed by signature on "
            f"{timezone.localtime(screening.confirmed_at):%Y-%m-%d %H:%M}; the record is locked."
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
    if not was_eligible:
        _notify_if_eligible(screening)
    return screening


def _refuse_if_rescreened(screening: Screening) -> None:
    later = Screening.objects.filter(rescreen_of=screening).first()
    if later is not None:
        raise DomainError(
            f"{screening} was re-screened as {later}; only the latest screening of a person "
            "can change or be confirmed."
        )


def screening_confirm(*, screening: Screening, by, password: str, version: int) -> Patient:
    """The investigator's electronic signature (21 CFR 11.200: re-entry of the password, with
    the meaning of the signature recorded) of the version of the record they reviewed
    (`version`, from `Screening.version`). A consented, eligible patient is then enrolled.
    The password is checked before the transaction: a wrong one is counted (the lockout's
    counter is in the database) although nothing else is saved."""
    check_signature_password(by, password)
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
    if screening.outcome != Outcome.ELIGIBLE:
        raise DomainError(f"{screening} is a screen failure; only eligible patients are confirmed.")
    if screening.is_confirmed:
        raise DomainError(f"Eligibility of {screening} is already confirmed.")
    if not screening.consent_date:
        raise DomainError(f"{screening} has no informed consent on file.")
    return _enrol(screening, by)


def _enrol(screening: Screening, by, *, meaning: str = SIGNATURE_MEANING) -> Patient:
    """The signed confirmation and the study ID (callers have checked everything, the
    password included; the synthetic trial generator marks its meaning as synthetic)."""
    now = timezone.now()
    screening.confirmed_by = by
    screening.confirmed_at = now
    screening.signature_meaning = meaning.format(
        name=by.get_full_name() or by.username, number=screening.screening_number
    )
    screening.save_with_reason("Eligibility confirmed by electronic signature", by=by)
    return _create_numbered(
        Patient, "study_id", "INKT-", 3, by=by, screening=screening, enrolled_at=now, enrolled_by=by
    )


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
