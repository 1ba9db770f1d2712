from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    roles.grant(apps, {
        roles.COORDINATOR: ["safety.view_ctcaeterm"],
        roles.INVESTIGATOR: ["safety.view_ctcaeterm"],
        roles.DATA_MANAGER: ["safety.view_ctcaeterm"],
        # Radiologists and adjudicators: nothing of safety.
    })


class Migration(migrations.Migration):
    dependencies = [("safety", "0002_load_ctcae"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
