"""Every write of the data-management app: keyword-only functions, one transaction each, each
step of a query saved as a version with its reason."""

import logging

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import DATA_MANAGER, roles_of
from datamanagement import locks, queries, selectors
from datamanagement.models import DataLock, DataQuery, DataUnfreeze, SourceVerification
from datamanagement.selectors import current_version
from datamanagement.targets import target_of
from enrollment.dates import shown
from enrollment.models import Patient
from inkt_trial import freezing, memo
from inkt_trial.audit import check_reason
from inkt_trial.errors import DomainError
from inkt_trial.numbering import create_numbered


def _required(text: str, field: str, message: str) -> str:
    text = check_reason(text)
    if not text:
        raise DomainError(message, field_errors={field: [message]})
    return text


def _save(query: DataQuery, by, reason: str) -> DataQuery:
    query._history_user = by
    query._change_reason = reason
    query.save()
    return query


def query_raise(*, record, field: str, question: str, by, check: str = "") -> DataQuery:
    """Raise a query on `field` of `record` (the data manager, or a monitor; or an edit check,
    `check`, in the name of the edit-check account)."""
    if not check and not by.has_perm("datamanagement.raise_query"):
        raise DomainError("Only the data manager or a monitor raises a data query.")
    target = target_of(record)
    if target is None:
        raise DomainError(f"No data query can be raised on a {record._meta.verbose_name}.")
    if not target.accepts(field):
        raise DomainError(
            field_errors={"field": [f"Not a field of the {record._meta.verbose_name}."]}
        )
    question = _required(question, "question", "Ask the question.")
    lock = selectors.frozen_by(record, field)
    if lock is not None:
        if check:
            return None  # an edit check leaves locked data alone
        raise DomainError(
            f"The data up to {shown(lock.cutoff)} are locked (database lock {lock.number}): "
            "unfreeze them before querying them."
        )
    content_type = ContentType.objects.get_for_model(record)
    try:
        return create_numbered(
            DataQuery,
            "number",
            "Q-",
            4,
            by=by,
            history_reason=f"Raised by the edit check {check}" if check else "Raised",
            content_type=content_type,
            object_id=record.pk,
            field=field,
            patient=target.patient(record),
            question=question,
            state=queries.OPEN,
            raised_by=by,
            raised_at=timezone.now(),
            edit_check=check,
        )
    except IntegrityError:
        if (
            check
            and DataQuery.objects.filter(
                edit_check=check, content_type=content_type, object_id=record.pk, field=field
            ).exists()
        ):
            return None  # raised meanwhile by the same check
        raise


def _locked(query: DataQuery, action: str) -> DataQuery:
    query = DataQuery.objects.select_for_update().get(pk=query.pk)
    try:
        query.state = queries.next_state(query.state, action)
    except queries.QueryError as error:
        raise DomainError(str(error)) from None
    return query


def query_answer(*, query: DataQuery, by, answer: str, value=None, correct: bool = False):
    """The coordinator answers; with `correct`, the queried field becomes `value` through the
    record's own service, whose audit trail gives the query as the reason."""
    if not by.has_perm("datamanagement.answer_query"):
        raise DomainError("Only the coordinator answers a data query.")
    answer = _required(answer, "answer", "Give the answer.")
    with transaction.atomic():
        query = _locked(query, queries.ANSWER)
        if correct:
            record = query.record
            target = target_of(record)
            if target is None or not target.corrects(query.field):
                raise DomainError(
                    f"A {record._meta.verbose_name} is not corrected here: answer, and correct "
                    "it on its own page.",
                    field_errors={"value": ["Not corrected here."]},
                )
            try:
                target.correct(record, by, f"Query {query.number}: {answer}", {query.field: value})
            except DomainError as error:
                messages = error.field_errors.pop(query.field, [])
                if messages:
                    error.field_errors["value"] = messages
                raise
        query.answer, query.answered_by, query.answered_at = answer, by, timezone.now()
        query.corrected = correct
        return _save(query, by, "Answered with a correction" if correct else "Answered")


def _by_raiser(query: DataQuery, by, what: str) -> None:
    """The one who raised it, or a data manager; an edit check's query, any who raise them."""
    if not by.has_perm("datamanagement.raise_query"):
        raise DomainError(f"Only the data manager or a monitor {what} a data query.")
    if query.raised_by_id == by.pk or query.edit_check or DATA_MANAGER in roles_of(by):
        return
    raise DomainError(f"Only the one who raised {query} or a data manager {what} it.")


def query_close(*, query: DataQuery, by) -> DataQuery:
    _by_raiser(query, by, "closes")
    with transaction.atomic():
        query = _locked(query, queries.CLOSE)
        query.closed_by, query.closed_at = by, timezone.now()
        return _save(query, by, "Closed")


def query_reopen(*, query: DataQuery, by, reason: str) -> DataQuery:
    _by_raiser(query, by, "reopens")
    reason = _required(reason, "reason", "Say why the answer does not settle it.")
    with transaction.atomic():
        query = _locked(query, queries.REOPEN)
        query.closed_by = query.closed_at = None
        return _save(query, by, f"Reopened: {reason}")


def query_cancel(*, query: DataQuery, by, reason: str) -> DataQuery:
    _by_raiser(query, by, "cancels")
    reason = _required(reason, "reason", "Say why the query is cancelled.")
    with transaction.atomic():
        query = _locked(query, queries.CANCEL)
        query.cancel_reason = reason
        return _save(query, by, f"Cancelled: {reason}")


def source_verify(*, record, by, version: int | None = None) -> SourceVerification:
    """The monitor marks the record's current version as verified against the source;
    `version`, the one they looked at, must still be the current one."""
    if not by.has_perm("datamanagement.verify_source"):
        raise DomainError("Only a monitor verifies records against the source.")
    target = target_of(record)
    if target is None:
        raise DomainError(f"A {record._meta.verbose_name} is not source-data verified.")
    current = current_version(record)
    if current is None:
        raise DomainError("The record has no audit trail to verify.")
    if version is not None and version != current:
        raise DomainError(
            "The record has changed since you opened it: look at it again before verifying.",
            field_errors={"version": ["The record has changed."]},
        )
    version = current
    content_type = ContentType.objects.get_for_model(record)
    try:
        with transaction.atomic():
            return _save(
                SourceVerification(
                    content_type=content_type,
                    object_id=record.pk,
                    patient=target.patient(record),
                    version=version,
                    verified_by=by,
                    verified_at=timezone.now(),
                ),
                by,
                "Source-data verified",
            )
    except IntegrityError:
        raise DomainError("This version of the record is already verified.") from None


log = logging.getLogger(__name__)

CHECKER = "edit-checks"  # the account the automatic edit checks raise their queries in


def checker():
    user, made = get_user_model().objects.get_or_create(
        username=CHECKER,
        defaults={"first_name": "Edit", "last_name": "checks", "is_active": False},
    )
    if made:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def checks_run(*, patient_ids=None, today=None, saved=None) -> list[DataQuery]:
    """Run the edit checks (those that `saved`, a model, triggers; all without it) for the
    patients given (all without them) and raise each finding's query once: a check never
    raises the same query twice, whatever became of the first."""
    from datamanagement.checks import CHECKS
    from enrollment.models import Patient

    today = today or timezone.localdate()
    ids = (
        list(patient_ids)
        if patient_ids is not None
        else list(Patient.objects.values_list("pk", flat=True))
    )
    found = []
    with memo.request_scope():  # the checks read the same facts (the imaging schedules) once
        for check in CHECKS:
            if saved is not None and saved not in check.on_save_of:
                continue
            try:
                found.append((check, list(check.find(ids, today))))
            except Exception:  # one failing check must not stop the others, nor a save
                log.exception("edit check %s failed", check.code)
    raised = []
    by = None
    for check, findings in found:  # the queries raised once every check has read
        for finding in findings:
            record = finding.record
            content_type = ContentType.objects.get_for_model(record)
            if DataQuery.objects.filter(
                edit_check=check.code,
                content_type=content_type,
                object_id=record.pk,
                field=finding.field,
            ).exists():
                continue
            by = by or checker()
            query = query_raise(
                record=record,
                field=finding.field,
                question=finding.question,
                by=by,
                check=check.code,
            )
            if query is not None:
                raised.append(query)
    return raised


# Database lock ---------------------------------------------------------------------------------


def _lock_permitted(by) -> None:
    if not by.has_perm("datamanagement.lock_data"):
        raise DomainError("Only the data manager locks and unfreezes the data.")


def data_lock(*, by, cutoff, reason: str, patient=None) -> DataLock:
    """Freeze the records of `patient` (every patient and screening without one) dated up to
    `cutoff`, once nothing is left to settle there (selectors.lock_blockers)."""
    _lock_permitted(by)
    reason = _required(reason, "reason", "Say why the data are locked.")
    if cutoff > timezone.localdate():
        raise DomainError(field_errors={"cutoff": ["A lock's cut-off cannot be in the future."]})
    with transaction.atomic():
        # The writes in flight commit first; those that come after see the lock.
        freezing.hold_for_locking()
        patients = (
            Patient.objects.all() if patient is None else Patient.objects.filter(pk=patient.pk)
        )
        ids = list(patients.values_list("pk", flat=True))
        if patient is not None:
            in_force = selectors.frozen_until([patient.pk]).get(patient.pk)
        else:
            in_force = locks.frozen_until(selectors.lock_rows([]), None)
        if in_force is not None and in_force >= cutoff:
            raise DomainError(
                field_errors={"cutoff": [f"The data are already locked up to {shown(in_force)}."]}
            )
        blockers = selectors.lock_blockers(
            cutoff=cutoff, patient_ids=None if patient is None else ids
        )
        if blockers:
            raise DomainError(
                f"The data cannot be locked up to {shown(cutoff)} yet: " + " ".join(blockers),
                field_errors={"cutoff": blockers},
            )
        return create_numbered(
            DataLock,
            "number",
            "L-",
            4,
            by=by,
            history_reason="Locked",
            patient=patient,
            cutoff=cutoff,
            reason=reason,
            locked_by=by,
            locked_at=timezone.now(),
            summary={"patients": len(ids)},
        )


def data_unfreeze(*, lock: DataLock, by, reason: str, patient=None) -> DataUnfreeze:
    """End `lock` (for every patient it froze, or for `patient` only out of a lock of every
    patient), with the reason: the records it froze may change again."""
    _lock_permitted(by)
    reason = _required(reason, "reason", "Say why the data are unfrozen.")
    with transaction.atomic():
        lock = DataLock.objects.select_for_update().get(pk=lock.pk)
        done = DataUnfreeze.objects.filter(lock=lock)
        if done.filter(patient__isnull=True).exists():
            raise DomainError(f"{lock} is already unfrozen.")
        if patient is not None:
            if lock.patient_id is not None and lock.patient_id != patient.pk:
                raise DomainError(
                    field_errors={"patient": [f"{lock} does not lock {patient}'s data."]}
                )
            if lock.patient_id is None and done.filter(patient=patient).exists():
                raise DomainError(f"{patient} is already unfrozen from {lock}.")
            if lock.patient_id is not None:
                patient = None  # the lock of one patient: unfrozen whole
        return _save(
            DataUnfreeze(
                lock=lock,
                patient=patient,
                reason=reason,
                unfrozen_by=by,
                unfrozen_at=timezone.now(),
            ),
            by,
            f"Unfrozen: {reason}",
        )
