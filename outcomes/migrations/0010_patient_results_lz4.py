"""The per-patient results' JSON compressed with LZ4 rather than PostgreSQL's default pglz:
several times faster to write for a few per cent more space (PostgreSQL 14 and later, built
with LZ4, as Debian's and the official images are). Elsewhere, or without LZ4, nothing changes:
the values are the same either way, only how PostgreSQL keeps them on disk."""

from django.db import migrations

COLUMNS = ("adtte", "responses", "subject", "qol")


def storage_lz4(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        found = cursor.fetchone()
        if not found or not found[0]:
            return  # before PostgreSQL 14, or built without LZ4
        table = schema_editor.quote_name("outcomes_patientresult")
        for column in COLUMNS:
            cursor.execute(
                f"ALTER TABLE {table} ALTER COLUMN {schema_editor.quote_name(column)} "
                "SET COMPRESSION lz4"
            )


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0009_patient_results")]

    operations = [migrations.RunPython(storage_lz4, migrations.RunPython.noop)]
