"""The table of Django's database cache (settings.CACHES): the login throttle and the
signature lockout counters, shared by every web process and independent of Redis."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    alias = schema_editor.connection.alias if schema_editor is not None else "default"
    call_command("createcachetable", database=alias, verbosity=0)  # kept when it exists


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_roles")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
