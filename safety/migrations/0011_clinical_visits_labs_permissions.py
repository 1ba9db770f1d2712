from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    visits = [
        f"safety.{action}_{model}"
        for model in ("clinicalvisit", "labvalue")
        for action in ("view", "add", "change")
    ]
    proposals = [
        "safety.view_proposedadverseevent",
        "safety.change_proposedadverseevent",
        "safety.decide_proposedadverseevent",
    ]
    read = ["safety.view_clinicalvisit", "safety.view_labvalue"]
    roles.grant(apps, {
        roles.COORDINATOR: [*visits, *proposals],
        roles.INVESTIGATOR: [*visits, *proposals],
        roles.DATA_MANAGER: [*visits, *proposals],
        roles.MONITOR: [*read, "safety.view_proposedadverseevent"],
        # visits and labs name no arm (a course visit is masked for a masked statistician);
        # the proposed adverse events, like the events, are not the statistician's
        roles.STATISTICIAN: read,
        # radiologists and adjudicators: nothing
    })


class Migration(migrations.Migration):
    dependencies = [("safety", "0010_clinical_visits_labs"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
