from django.db import migrations

from accounts import roles

# The end of treatment moved to enrollment (one per drug, dosing 0004); its permissions are
# granted there, so that this grant also runs against today's models (conftest replays it).
MODELS = ("infusionschedule", "infusion", "drugexposure")


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
