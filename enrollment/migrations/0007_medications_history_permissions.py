from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    models = ("concomitantmedication", "medicalhistory")
    enter = [f"enrollment.{a}_{m}" for m in models for a in ("add", "change", "view")]
    view = [f"enrollment.view_{m}" for m in models]
    roles.grant(apps, {
        # the coordinator and the investigator take the history and the medications
        roles.COORDINATOR: enter,
        roles.INVESTIGATOR: enter,
        roles.DATA_MANAGER: [*view, *(f"enrollment.view_historical{m}" for m in models)],
        roles.MONITOR: view,
        # no arm in a medication list: the statistician (masked or not) reads it through the API
        roles.STATISTICIAN: view,
        # radiologists and adjudicators: nothing clinical
    })


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0006_medications_history"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
