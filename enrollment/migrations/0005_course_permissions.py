from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    course = [f"enrollment.{a}_{m}" for m in ("statuschange", "treatmentend") for a in ("add", "change", "view")]
    seen = ["enrollment.view_statuschange", "enrollment.view_treatmentend",
            "enrollment.view_eligibilityviolation"]
    roles.grant(apps, {
        roles.COORDINATOR: [*course, "enrollment.view_eligibilityviolation"],
        roles.INVESTIGATOR: [*seen, "enrollment.reopen_screening"],
        roles.DATA_MANAGER: [*course, "enrollment.view_eligibilityviolation",
                             "enrollment.reopen_screening",
                             "enrollment.view_historicalstatuschange",
                             "enrollment.view_historicaltreatmentend",
                             "enrollment.view_historicaleligibilityviolation"],
        # The statistician may be masked: an end of iNKT treatment reveals the arm; deaths and
        # withdrawals do not. Radiologists and adjudicators: nothing clinical.
        roles.STATISTICIAN: ["enrollment.view_statuschange"],
    })


class Migration(migrations.Migration):
    dependencies = [("enrollment", "0004_patient_course"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
