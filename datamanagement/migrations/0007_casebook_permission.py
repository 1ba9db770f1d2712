from django.db import migrations

from accounts import roles


def grant(apps, schema_editor):
    """The casebook PDF: the investigator's archive; the data manager, the coordinator and the
    monitor may download it too. Never the statistician (it shows the arm and the treatment),
    the radiologists or the adjudicators."""
    roles.grant(apps, {
        role: ["datamanagement.download_casebook"]
        for role in (roles.INVESTIGATOR, roles.DATA_MANAGER, roles.COORDINATOR, roles.MONITOR)
    })


class Migration(migrations.Migration):

    dependencies = [
        ("datamanagement", "0006_data_lock"),
        ('accounts', '0001_roles'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='dataquery',
            options={'ordering': ['raised_at', 'id'], 'permissions': [('raise_query', 'Can raise, close, reopen and cancel data queries'), ('answer_query', 'Can answer data queries (and correct the value)'), ('verify_source', 'Can mark records source-data verified (SDV)'), ('download_casebook', "Can download a patient's casebook PDF")], 'verbose_name': 'data query', 'verbose_name_plural': 'data queries'},
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
