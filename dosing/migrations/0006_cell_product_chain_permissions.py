from django.db import migrations

from accounts import roles

MODELS = ("apheresis", "manufacturingbatch", "releasetest")


def grant(apps, schema_editor):
    """The coordinator records the apheresis, the batches and their release tests; the
    investigator releases a batch; the data manager corrects; the monitor views. These records
    exist only for the RPI arm: the statistician, who may be masked, gets none of them, nor do
    the blinded radiologists and adjudicators."""
    view = [f"dosing.view_{m}" for m in MODELS]
    write = [f"dosing.{action}_{m}" for m in MODELS for action in ("add", "change")]
    roles.grant(apps, {
        roles.COORDINATOR: [*view, *write],
        roles.INVESTIGATOR: [*view, "dosing.release_manufacturingbatch"],
        roles.DATA_MANAGER: [*view, *write],
        roles.MONITOR: view,
    })


class Migration(migrations.Migration):
    dependencies = [("dosing", "0005_cell_product_chain"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
