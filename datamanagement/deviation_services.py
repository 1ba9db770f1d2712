"""Every write of the protocol deviation log, one transaction each: a deviation recorded by
hand, its correction with a reason, and the review of any deviation (its classification and
follow-up), derived or recorded. The rules are datamanagement/deviations.py's."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from datamanagement import deviation_log, deviations
from datamanagement import deviation_selectors as selectors
from datamanagement.models import DeviationReview, ProtocolDeviation
from inkt_trial.audit import apply_changes, check_reason
from inkt_trial.errors import DomainError
from inkt_trial.numbering import create_numbered

FOLLOW_FIELDS = (
    "classification",
    "corrective_action",
    "preventive_action",
    "reported_to_ec_on",
    "status",
)
ENTERED = ("occurred_on", "identified_on", "category", "description", *FOLLOW_FIELDS)
TEXTS = ("description", "corrective_action", "preventive_action")
CLASSIFY = "datamanagement.classify_deviation"


def _require(by, permission: str, message: str) -> None:
    if not by.has_perm(f"datamanagement.{permission}"):
        raise DomainError(message)


def _stripped(values: dict) -> dict:
    return {k: (v or "").strip() if k in TEXTS else v for k, v in values.items()}


def _check(record: ProtocolDeviation) -> None:
    errors = deviation_log.record_problems(
        occurred_on=record.occurred_on,
        identified_on=record.identified_on,
        reported_to_ec_on=record.reported_to_ec_on,
        category=record.category,
        classification=record.classification,
        status=record.status,
        description=record.description,
        corrective_action=record.corrective_action,
        today=timezone.localdate(),
    )
    if errors:
        raise DomainError("The deviation was not saved.", field_errors=errors)


def deviation_record(*, patient, by, **values) -> ProtocolDeviation:
    """A deviation recorded by hand (the coordinator or the data manager), numbered DV-0001...
    The classification a data manager gives is theirs; a coordinator's waits for the review."""
    _require(
        by,
        "add_protocoldeviation",
        "Only the coordinator or the data manager records a protocol deviation.",
    )
    unknown = sorted(set(values) - set(ENTERED))
    if unknown:
        raise DomainError(
            field_errors={f: ["Not a field of a protocol deviation."] for f in unknown}
        )
    values = {"status": deviations.OPEN, **_stripped(values)}
    for text in TEXTS:
        values.setdefault(text, "")
    _check(ProtocolDeviation(patient=patient, **values))
    classifier = by.has_perm(CLASSIFY)
    return create_numbered(
        ProtocolDeviation,
        "number",
        "DV-",
        4,
        by=by,
        history_reason="Recorded",
        patient=patient,
        recorded_by=by,
        classified_by=by if classifier else None,
        classified_at=timezone.now() if classifier else None,
        **values,
    )


@transaction.atomic
def deviation_correct(*, deviation: ProtocolDeviation, by, reason: str, **changes):
    """Correct a deviation recorded by hand, with the reason. Only a data manager or an
    investigator changes its classification (and then it is theirs)."""
    _require(
        by,
        "change_protocoldeviation",
        "Only the coordinator or the data manager corrects a protocol deviation.",
    )
    record = ProtocolDeviation.objects.select_for_update().get(pk=deviation.pk)
    changes = _stripped(changes)
    if changes.get("classification", record.classification) != record.classification:
        if not by.has_perm(CLASSIFY):
            raise DomainError(
                field_errors={
                    "classification": [
                        "Only the data manager or an investigator changes the classification."
                    ]
                }
            )
        record.classified_by, record.classified_at = by, timezone.now()
    apply_changes(record, changes, ENTERED)
    _check(record)
    record.save_with_reason(reason, by=by)
    return record


def deviation_review(
    *,
    key: str,
    by,
    classification: str,
    corrective_action: str = "",
    preventive_action: str = "",
    reported_to_ec_on=None,
    status: str = deviations.OPEN,
    reason: str = "",
) -> deviation_log.Entry:
    """The data manager's or investigator's review of a deviation of the log (by its key): the
    classification confirmed or changed, the corrective and preventive actions, the report to
    the ethics committee, the status. A derived deviation's review is stored under its key; a
    deviation recorded by hand is updated. Reasons: deviation_log.review_refusal."""
    _require(
        by,
        "classify_deviation",
        "Only the data manager or an investigator reviews a protocol deviation.",
    )
    reason = check_reason(reason)
    new = deviation_log.Follow(
        classification,
        (corrective_action or "").strip(),
        (preventive_action or "").strip(),
        reported_to_ec_on,
        status,
    )
    with transaction.atomic():
        recorded = ProtocolDeviation.objects.select_for_update().filter(number=key).first()
        if recorded is not None:
            _review_recorded(recorded, by, new, reason)
        else:
            _review_derived(key, by, new, reason)
    return selectors.entry(key)


def _refuse(entry_date, current, default, new, reason) -> None:
    errors = deviation_log.follow_problems(
        classification=new.classification,
        status=new.status,
        corrective_action=new.corrective_action,
        reported_to_ec_on=new.reported_to_ec_on,
        occurred_on=entry_date,
        today=timezone.localdate(),
    )
    if errors:
        raise DomainError("The review was not saved.", field_errors=errors)
    refusal = deviation_log.review_refusal(current=current, default=default, new=new, reason=reason)
    if refusal:
        raise DomainError(refusal, field_errors={"reason": [refusal]})


def _set_follow(record, new: deviation_log.Follow) -> None:
    for name in FOLLOW_FIELDS:
        setattr(record, name, getattr(new, name))


def _review_recorded(record: ProtocolDeviation, by, new, reason: str) -> None:
    current = selectors.follow_of(record, confirmed=record.classified_by_id is not None)
    _refuse(record.occurred_on, current, record.classification, new, reason)
    if deviation_log.review_changes_nothing(
        current=current, default=record.classification, new=new
    ):
        return
    steps = deviation_log.review_steps(current=current, new=new)
    _set_follow(record, new)
    record.classified_by, record.classified_at = by, timezone.now()
    record.save_with_reason(deviation_log.review_reason(reason=reason, steps=steps), by=by)


def _review_derived(key: str, by, new, reason: str) -> None:
    entry = selectors.entry(key)
    if entry is None:
        raise DomainError(f"No deviation {key} in the log.")
    review = DeviationReview.objects.select_for_update().filter(key=key).first()
    current = None if review is None else selectors.follow_of(review, confirmed=True)
    default = entry.default_classification
    _refuse(entry.occurred_on, current, default, new, reason)
    if deviation_log.review_changes_nothing(current=current, default=default, new=new):
        return
    steps = deviation_log.review_steps(current=current, new=new)
    if review is None:
        review = DeviationReview(key=key, patient_id=entry.patient_id, rule=entry.rule)
    if entry.shown:  # the deviation as the records show it now
        review.occurred_on, review.identified_on = entry.occurred_on, entry.identified_on
        review.description = entry.description
    _set_follow(review, new)
    review.reviewed_by, review.reviewed_at = by, timezone.now()
    why = deviation_log.review_reason(reason=reason, steps=steps)
    if review.pk is None:
        review._history_user = by
        review._change_reason = why
        try:
            with transaction.atomic():
                review.save()
        except IntegrityError:
            raise DomainError(f"{key} was reviewed meanwhile: reload it.") from None
        return
    review.save_with_reason(why, by=by)
