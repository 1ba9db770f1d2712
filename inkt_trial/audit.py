"""Audit trail for clinical records: django-simple-history keeps every version (who, when, every
field's old and new value); this base adds the GCP rules the library leaves to us: a reason for
every change after the first save, no hard deletes, and no change of a record a database lock
has frozen (inkt_trial/freezing.py)."""

from datetime import date

from django.db import models, transaction
from simple_history.models import HistoricalRecords

from inkt_trial import freezing
from inkt_trial.errors import DomainError


class AuditReasonRequired(DomainError):
    pass


class DeletionRefused(DomainError):
    pass


class NoDeleteQuerySet(models.QuerySet):
    """Bulk writes would bypass the history: refused."""

    def delete(self):
        raise DeletionRefused("Clinical records are never deleted.")

    def update(self, **kwargs):
        raise AuditReasonRequired("Change clinical records one at a time, with a reason.")


MAX_REASON_CHARS = 1000  # room for a real explanation; the history stores it as text


def check_reason(reason: str) -> str:
    """The reason for a change, stripped; refused (never cut) beyond MAX_REASON_CHARS."""
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_CHARS:
        raise AuditReasonRequired(
            f"A reason for a change is at most {MAX_REASON_CHARS:,} characters "
            f"({len(reason):,} given).",
            field_errors={
                "reason": [f"At most {MAX_REASON_CHARS:,} characters ({len(reason):,})."]
            },
        )
    return reason


class ClinicalRecord(models.Model):
    """Base of every clinical record. Change a saved one only through `save_with_reason`."""

    history = HistoricalRecords(inherit=True)
    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not (getattr(self, "_change_reason", "") or "").strip():
            raise AuditReasonRequired(
                "A reason for the change is required.", field_errors={"reason": ["Required."]}
            )
        with transaction.atomic():
            freezing.hold_for_writing()  # until the transaction ends: no lock made meanwhile
            freezing.refuse_frozen(self)  # a database lock: nothing dated up to its cut-off
            super().save(*args, **kwargs)

    def freeze_key(self) -> tuple[int | None, date] | None:
        """(the patient's id, the record's clinical date) by which a database lock freezes it:
        a lock freezes every record of its patients dated up to its cut-off. None: a record a
        lock never freezes (a plan, a fixed assignment, a trial-wide setting). Each model
        decides (tests/test_data_lock.py checks that every clinical record does)."""
        return None

    def save_with_reason(self, reason: str, *, by, note: str = "", **kwargs) -> None:
        """Save with the user's `reason` (at most MAX_REASON_CHARS), after a `note` the
        product itself adds."""
        reason = check_reason(reason)
        self._change_reason = f"{note}{reason}" if reason else ""
        self._history_user = by
        try:
            if self.pk is not None and self._change_reason and not self.changed_fields():
                return  # nothing changed: nothing to audit
            self.save(**kwargs)
        finally:
            del self._change_reason

    def changed_fields(self) -> list[str]:
        """The fields whose value differs from the stored row."""
        names = [f.attname for f in self._meta.concrete_fields]
        stored = type(self).objects.filter(pk=self.pk).values(*names).first()
        if stored is None:
            return names
        return [name for name in names if stored[name] != getattr(self, name)]

    def delete(self, *args, **kwargs):
        raise DeletionRefused("Clinical records are never deleted.")


def apply_changes(record: ClinicalRecord, changes: dict, allowed) -> None:
    """Set the fields a correction changes, refusing the ones it may not touch (the caller
    then checks the record and saves it with the reason)."""
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise DomainError(field_errors={f: ["Cannot be changed here."] for f in unknown})
    for field, value in changes.items():
        setattr(record, field, value)


def _shown(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return format(round(value, 2), "g")  # 66.67, not 66.66666666666667
    return str(value)


def shown_change(before, after) -> list[str]:
    """A change as a person reads it: for a structured value (answers, scores, a read) only
    the entries that changed, "30: 7 → 1"; otherwise "old → new"."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after), key=lambda k: (len(str(k)), str(k)))
        return [
            f"{key}: {_shown(before.get(key))} → {_shown(after.get(key))}"
            for key in keys
            if before.get(key) != after.get(key)
        ]
    return [f"{_shown(before)} → {_shown(after)}"]


def history_of(record) -> list[dict]:
    """Every version of a record, newest first, with the fields that changed (old -> new)."""
    versions = record.history.select_related("history_user").order_by("-history_date", "-pk")
    return versions_shown(list(versions))


def histories_of(model, ids) -> dict[int, list[dict]]:
    """The audit trails of many records of one model (record id -> its history_of rows), in one
    query whatever their number."""
    versions: dict[int, list] = {pk: [] for pk in ids}
    for version in (
        model.history.filter(id__in=list(versions))
        .select_related("history_user")
        .order_by("-history_date", "-pk")
    ):
        versions[version.id].append(version)
    return {pk: versions_shown(found) for pk, found in versions.items()}


def versions_shown(versions: list) -> list[dict]:
    """A record's historical versions (newest first) as a person reads them: when, who, what,
    the reason and every field that changed (old -> new)."""
    rows = []
    for newer, older in zip(versions, [*versions[1:], None], strict=True):
        changes = []
        if older is not None:
            # Every tracked field, derived ones too (simple-history's diff skips non-editable
            # fields, and a changed outcome must show).
            for field in older.tracked_fields:
                before, after = getattr(older, field.attname), getattr(newer, field.attname)
                if field.name != "id" and before != after:
                    changes.append(
                        {
                            "field": field.verbose_name,
                            "old": before,
                            "new": after,
                            "shown": shown_change(before, after),
                        }
                    )
        rows.append(
            {
                "version": newer.history_id,
                "when": newer.history_date,
                "who": newer.history_user.username if newer.history_user else "(system)",
                "type": {"+": "Created", "~": "Changed", "-": "Deleted"}[newer.history_type],
                "reason": newer.history_change_reason or "",
                "changes": changes,
            }
        )
    return rows
