from django.db import migrations

from safety import ctcae


def load(apps, schema_editor):
    CtcaeTerm = apps.get_model("safety", "CtcaeTerm")
    CtcaeTerm.objects.bulk_create(
        CtcaeTerm(
            meddra_code=t.meddra_code, soc=t.soc, term=t.term, definition=t.definition,
            **{f"grade{g}": t.grades.get(g, "") for g in ctcae.GRADES},
        )
        for t in ctcae.read_terms()
    )


def unload(apps, schema_editor):
    apps.get_model("safety", "CtcaeTerm").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("safety", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
