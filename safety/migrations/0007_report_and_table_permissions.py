from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    reports = ["safety.view_saereport", "safety.add_saereport", "safety.change_saereport"]
    roles.grant(apps, {
        roles.COORDINATOR: [*reports, "safety.view_safety_tables"],
        roles.INVESTIGATOR: [*reports, "safety.view_safety_tables"],
        roles.DATA_MANAGER: [*reports, "safety.view_safety_tables"],
        # The statistician gets the tables (arm codes when masked), never the events themselves.
        roles.STATISTICIAN: ["safety.view_safety_tables"],
    })


class Migration(migrations.Migration):
    dependencies = [("safety", "0006_sae_reports_and_infusion_link"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
