"""Moving clinical records from one model to another in a data migration, with their audit
trail: every historical version of a record becomes a version of its new record(s) (same time,
user, type and reason), followed by one version that says where it came from (and how many
earlier versions the new model cannot hold: they are counted in that note). The source row is
then deleted; its own history stays, closed by a deletion version that says where it went.
Moving back is refused while moved records exist: a backup restores them, a silent no-op would
lose them."""

from django.utils import timezone

HISTORY_FIELDS = ("history_date", "history_user_id", "history_type", "history_change_reason")


def move_with_history(apps, *, source: str, target: str, select: dict, convert, note: str) -> int:
    """`source`, `target`: "app_label.Model"; `select`: filter of the source rows to move;
    `convert(row)`: the target field values (a list: one source may become several records),
    for the current row and for each of its historical versions alike; None for a historical
    version the target cannot represent (it is counted in the note, `{skipped}`). Returns the
    number of records made."""
    source_label, source_name = source.split(".")
    target_label, target_name = target.split(".")
    Source = apps.get_model(source_label, source_name)
    SourceHistory = apps.get_model(source_label, f"Historical{source_name}")
    Target = apps.get_model(target_label, target_name)
    TargetHistory = apps.get_model(target_label, f"Historical{target_name}")
    made = 0
    now = timezone.now()
    for row in Source.objects.filter(**select).order_by("pk"):
        versions = list(
            SourceHistory.objects.filter(id=row.pk).order_by("history_date", "history_id")
        )
        converted = [(version, convert(version)) for version in versions]
        skipped = sum(1 for _, values in converted if values is None)
        for index, values in enumerate(convert(row)):
            record = Target.objects.create(**values)
            kept = [(v, c[index]) for v, c in converted if c is not None]
            for number, (version, old) in enumerate(kept):
                fields = {f: getattr(version, f) for f in HISTORY_FIELDS}
                if number == 0:
                    fields["history_type"] = "+"  # its first version in the new model
                TargetHistory.objects.create(id=record.pk, **fields, **old)
            TargetHistory.objects.create(
                id=record.pk,
                history_date=now,
                history_user_id=None,
                history_type="~",
                history_change_reason=note.format(source=source_name, pk=row.pk, skipped=skipped),
                **values,
            )
            made += 1
        if versions:
            last = versions[-1]
            closing = {
                f.attname: getattr(last, f.attname)
                for f in SourceHistory._meta.concrete_fields
                if f.attname not in ("history_id", "history_date", "history_type")
                and not f.attname.startswith("history_")
            }
            SourceHistory.objects.create(
                **closing,
                history_date=now,
                history_type="-",
                history_user_id=None,
                history_change_reason=f"Moved to {target_name} (migration).",
            )
        row.delete()
    return made


def refuse_to_move_back(target: str):
    """The reverse of a move: allowed on a database without moved records, refused otherwise."""

    def reverse(apps, schema_editor):
        label, name = target.split(".")
        count = apps.get_model(label, name).objects.count()
        if count:
            raise RuntimeError(
                f"Moving back would lose {count} {name} records: restore a backup instead."
            )

    return reverse
