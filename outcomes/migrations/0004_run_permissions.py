from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    runs = ["outcomes.view_endpointrun", "outcomes.add_endpointrun"]
    roles.grant(apps, {
        roles.STATISTICIAN: runs,  # through the API; arm codes when masked
        roles.INVESTIGATOR: runs,  # through the browser
        roles.DATA_MANAGER: runs,
    })


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0003_endpoint_runs"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
