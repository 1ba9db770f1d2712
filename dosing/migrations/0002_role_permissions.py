from django.db import migrations

from accounts import roles

MODELS = ("infusionschedule", "infusion", "endoftreatment", "drugexposure")


def grant(apps, schema_editor):
    view = [f"dosing.view_{m}" for m in MODELS] + ["dosing.view_infusionreminder"]
    write = [f"dosing.{action}_{m}" for m in MODELS for action in ("add", "change")]
    roles.grant(apps, {
        roles.COORDINATOR: [*view, *write],
        roles.INVESTIGATOR: view,
        roles.DATA_MANAGER: [*view, *write],
        # The statistician may be masked: infusions reveal the arm. Radiologists and
        # adjudicators: nothing.
    })


class Migration(migrations.Migration):
    dependencies = [("dosing", "0001_initial"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
