from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    write = ["outcomes.view_followup", "outcomes.add_followup", "outcomes.change_followup"]
    roles.grant(apps, {
        roles.COORDINATOR: write,
        roles.INVESTIGATOR: ["outcomes.view_followup"],
        roles.DATA_MANAGER: write,
        # Radiologists and adjudicators: nothing clinical. The statistician: the endpoint runs.
    })


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
