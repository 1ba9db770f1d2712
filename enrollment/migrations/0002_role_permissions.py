from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    view = ["enrollment.view_screening", "enrollment.view_patient"]
    roles.grant(apps, {
        roles.COORDINATOR: [*view, "enrollment.add_screening", "enrollment.change_screening"],
        roles.INVESTIGATOR: [*view, "enrollment.confirm_eligibility"],
        roles.STATISTICIAN: view,
        roles.DATA_MANAGER: [*view, "enrollment.add_screening", "enrollment.change_screening",
                             "enrollment.view_historicalscreening",
                             "enrollment.view_historicalpatient"],
        # Radiologists and adjudicators: nothing in enrolment (no clinical data).
    })


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0001_initial"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
