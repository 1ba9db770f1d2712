from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    """The monitor sees what the coordinator sees (the sequence never), raises queries and
    verifies records against the source; they write no clinical record."""
    Group = apps.get_model("auth", "Group")
    coordinator = Group.objects.filter(name=roles.COORDINATOR).first()
    seen = [
        f"{p.content_type.app_label}.{p.codename}"
        for p in (coordinator.permissions.select_related("content_type") if coordinator else [])
        if p.codename.startswith("view_") and p.codename != "view_sequence"
    ]
    roles.grant(apps, {
        roles.MONITOR: [*seen, "datamanagement.view_dataquery", "datamanagement.raise_query",
                        "datamanagement.verify_source",
                        "datamanagement.view_sourceverification"],
        roles.DATA_MANAGER: ["datamanagement.view_sourceverification"],
    })


class Migration(migrations.Migration):
    # after every app's grants to the coordinator (not after the data moves: a migration test
    # goes back to just before them)
    dependencies = [
        ("datamanagement", "0003_source_verification"),
        ("accounts", "0001_roles"),
        ("enrollment", "0005_course_permissions"),
        ("randomization", "0005_enrolment_limit"),
        ("dosing", "0003_history_reason_as_text"),
        ("assessments", "0006_read_signature_name"),
        ("safety", "0009_history_reason_as_text"),
        ("outcomes", "0006_history_reason_as_text"),
    ]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
