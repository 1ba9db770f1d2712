from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    sequence_read = [
        "randomization.view_allocation", "randomization.view_allocationsequence",
        "randomization.view_sequence", "randomization.add_allocationsequence",
    ]
    roles.grant(apps, {
        roles.COORDINATOR: [
            "randomization.add_allocation", "randomization.view_allocation",
            "randomization.view_arm",
        ],
        roles.INVESTIGATOR: ["randomization.view_allocation", "randomization.view_arm"],
        # The statistician prepares the sequence and may stay masked (codes A/B, no view_arm).
        roles.STATISTICIAN: sequence_read,
        roles.DATA_MANAGER: [
            *sequence_read, "randomization.view_arm", "randomization.replace_sequence",
            "randomization.set_arm_codes", "randomization.view_sequencealert",
        ],
        # Radiologists and adjudicators: nothing, never an arm.
    })


class Migration(migrations.Migration):
    dependencies = [("randomization", "0001_initial"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
