from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    ae = ["safety.view_adverseevent", "safety.add_adverseevent", "safety.change_adverseevent"]
    roles.grant(apps, {
        roles.COORDINATOR: ae,
        roles.INVESTIGATOR: [*ae, "safety.assess_causality"],
        roles.DATA_MANAGER: ae,
        # Statistician (may be masked), radiologists and adjudicators: no adverse events.
    })


class Migration(migrations.Migration):
    dependencies = [("safety", "0004_adverse_event"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
