from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    view = ["datamanagement.view_dataquery"]
    roles.grant(apps, {
        roles.COORDINATOR: [*view, "datamanagement.answer_query"],
        roles.INVESTIGATOR: view,
        roles.DATA_MANAGER: [*view, "datamanagement.raise_query",
                             "datamanagement.view_historicaldataquery"],
        # The statistician (who may be masked: a query on an infusion reveals the arm),
        # radiologists and adjudicators: nothing.
    })


class Migration(migrations.Migration):
    dependencies = [("datamanagement", "0001_data_queries"), ("accounts", "0001_roles")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
