"""Moving clinical records from one model to another in a data migration, with their audit
trail: every historical version of a record becomes a version of its new record(s) (same time,
user, type and reason), followed by one version that says where it came from. The source rows
and their history are then deleted (they live on in the new model)."""

from django.utils import timezone

HISTORY_FIELDS = ("history_date", "history_user_id", "history_type", "history_change_reason")


def move_with_history(apps, *, source: str, target: str, select: dict, convert, note: str) -> int:
    """`source`, `target`: "app_label.Model"; `select`: filter of the source rows to move;
    `convert(row)`: the target field values (a list: one source may become several records),
    for the current row and for each of its historical versions alike. Returns records made."""
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
        for index, values in enumerate(convert(row)):
            record = Target.objects.create(**values)
            for version in versions:
                TargetHistory.objects.create(
                    id=record.pk,
                    **{f: getattr(version, f) for f in HISTORY_FIELDS},
                    **convert(version)[index],
                )
            TargetHistory.objects.create(
                id=record.pk,
                history_date=now,
                history_user_id=None,
                history_type="~",
                history_change_reason=note.format(source=source_name, pk=row.pk),
                **values,
            )
            made += 1
        SourceHistory.objects.filter(id=row.pk).delete()
        row.delete()
    return made
