from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    write = [
        "assessments.view_questionnaire",
        "assessments.add_questionnaire",
        "assessments.change_questionnaire",
    ]
    roles.grant(apps, {
        roles.COORDINATOR: write,
        roles.INVESTIGATOR: ["assessments.view_questionnaire"],
        roles.DATA_MANAGER: write,
        roles.STATISTICIAN: ["assessments.view_questionnaire"],
        # Radiologists and adjudicators: nothing clinical.
    })


class Migration(migrations.Migration):
    dependencies = [("assessments", "0003_questionnaire"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
