"""Every write of the data-management app: keyword-only functions, one transaction each, each
step of a query saved as a version with its reason."""

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from datamanagement import queries
from datamanagement.models import DataQuery, SourceVerification
from datamanagement.targets import target_of
from inkt_trial.audit import check_reason
from inkt_trial.errors import DomainError


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


def query_raise(*, record, field: str, question: str, by) -> DataQuery:
    """Raise a query on `field` of `record` (the data manager, or a monitor)."""
    if not by.has_perm("datamanagement.raise_query"):
        raise DomainError("Only the data manager or a monitor raises a data query.")
    target = target_of(record)
    if target is None:
        raise DomainError(f"No data query can be raised on a {record._meta.verbose_name}.")
    if field not in target.fields:
        raise DomainError(
            field_errors={"field": [f"Not a field of the {record._meta.verbose_name}."]}
        )
    question = _required(question, "question", "Ask the question.")
    content_type = ContentType.objects.get_for_model(record)
    for _ in range(20):
        last = DataQuery.objects.order_by("-id").values_list("number", flat=True).first()
        sequence = int(last[2:]) + 1 if last else 1
        try:
            with transaction.atomic():
                return _save(
                    DataQuery(
                        number=queries.number(sequence),
                        content_type=content_type,
                        object_id=record.pk,
                        field=field,
                        patient=target.patient(record),
                        question=question,
                        state=queries.OPEN,
                        raised_by=by,
                        raised_at=timezone.now(),
                    ),
                    by,
                    "Raised",
                )
        except IntegrityError:
            continue  # another query took the number meanwhile
    raise DomainError("Could not number the query; please try again.")


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
            if target is None or target.correct is None:
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
    if not by.has_perm("datamanagement.raise_query"):
        raise DomainError(f"Only the data manager or a monitor {what} a data query.")


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


def current_version(record) -> int | None:
    """The audit trail's id of the record's current version."""
    return record.history.order_by("-history_id").values_list("history_id", flat=True).first()


def source_verify(*, record, by) -> SourceVerification:
    """The monitor marks the record's current version as verified against the source."""
    if not by.has_perm("datamanagement.verify_source"):
        raise DomainError("Only a monitor verifies records against the source.")
    target = target_of(record)
    if target is None:
        raise DomainError(f"A {record._meta.verbose_name} is not source-data verified.")
    version = current_version(record)
    if version is None:
        raise DomainError("The record has no audit trail to verify.")
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
