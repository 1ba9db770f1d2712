from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    roles.grant(apps, {
        roles.COORDINATOR: [
            "assessments.add_scan", "assessments.view_scan", "assessments.add_readerassignment",
            "assessments.view_readerassignment", "assessments.view_response",
        ],
        roles.INVESTIGATOR: ["assessments.view_scan", "assessments.view_response"],
        roles.STATISTICIAN: ["assessments.view_response"],
        # Blinded: their own reads (radiologists) or discordant series (adjudicators) only,
        # under reading labels; never a patient, an arm or clinical data.
        roles.RADIOLOGIST: ["assessments.read_images"],
        roles.ADJUDICATOR: ["assessments.adjudicate"],
        roles.DATA_MANAGER: [
            "assessments.add_scan", "assessments.view_scan", "assessments.change_scan",
            "assessments.add_readerassignment", "assessments.view_readerassignment",
            "assessments.view_response", "assessments.view_agreement",
            "assessments.view_adjudication",
        ],
    })


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
