"""Many rows written in one statement: PostgreSQL's COPY (several times faster than INSERT for
large rows, no SQL to parse), elsewhere (SQLite, the embedded default) Django's bulk_create.

Only for rows no person enters (derived results, the synthetic generator's records): no
model save(), no signals; the caller writes any history itself."""

import io
import json
from collections.abc import Iterable, Sequence

from django.db import connection, models

NULL = "\\N"  # COPY's text format


def _escaped(text: str) -> str:
    """A text as COPY's text format takes it: a backslash, tab, newline or carriage return
    escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def line(values: list, json_columns: list) -> str:
    """A row in COPY's text format, each value spelled as PostgreSQL reads what psycopg2
    would have sent: str() of a number, a date, an aware datetime (with its offset), a text
    or a choice (its value), a boolean (True/False); a JSON field's value (`json_columns`:
    (index, encoder)) through its own encoder (what Django sends). Escaped only when a text
    needs it (rare)."""
    encoders = dict(json_columns)
    texts = [
        NULL
        if value is None
        else json.dumps(value, cls=encoders[i])
        if i in encoders
        else str(value)
        for i, value in enumerate(values)
    ]
    joined = "\t".join(texts)
    if (
        joined.count("\t") == len(texts) - 1
        and joined.count("\\") == values.count(None)  # the NULLs' own
        and "\n" not in joined
        and "\r" not in joined
    ):
        return joined
    return "\t".join(
        NULL if value is None else _escaped(text) for value, text in zip(values, texts, strict=True)
    )


def copy(cursor, model, fields, rows) -> None:
    """COPY `rows` (lists of the values of `fields`) into the model's table: one statement
    whatever their number."""
    quote = connection.ops.quote_name
    json_columns = [(i, f.encoder) for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    lines = io.StringIO()
    for values in rows:
        lines.write(line(list(values), json_columns))
        lines.write("\n")
    lines.seek(0)
    columns = ", ".join(quote(f.column) for f in fields)
    cursor.copy_expert(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN", lines)


def write(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert `rows`, each the values of `columns` (the fields' attribute names: `run_id` for
    a foreign key) in that order; the number written."""
    rows = list(rows)
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create(model(**dict(zip(columns, row, strict=True))) for row in rows)
        return len(rows)
    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    with connection.cursor() as cursor:
        copy(cursor, model, [by_attname[name] for name in columns], rows)
    return len(rows)
