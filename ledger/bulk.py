"""Writing many rows' new values in one statement, for the billing run's batches.

Django's ``bulk_update`` builds a ``CASE WHEN id = … THEN …`` expression per field and
row; for a batch of fifty invoices that took longer to compile than the work it
wrote. ``update_rows`` sends one ``UPDATE … FROM (VALUES …)`` instead (PostgreSQL, and
SQLite ≥ 3.33), each value prepared by its field as ``save()`` would prepare it.
"""

from django.db import connection, models


def update_rows(model: type[models.Model], objs: list[models.Model], fields: list[str]) -> int:
    """Write ``fields`` of each of ``objs`` (rows of ``model``, by primary key) in one
    statement; returns how many rows it changed. The caller holds their locks."""
    if not objs:
        return 0
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    postgres = connection.vendor == "postgresql"
    quote = connection.ops.quote_name

    def slot(field) -> str:
        return f"%s::{field.db_type(connection)}" if postgres else "%s"

    row = "(" + ", ".join(slot(f) for f in (pk, *columns)) + ")"
    params = []
    for obj in objs:
        params.append(pk.get_db_prep_value(obj.pk, connection))
        for field in columns:
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    names = ["pk_", *(f"c{i}" for i in range(len(columns)))]
    sets = ", ".join(f"{quote(field.column)} = v.c{i}" for i, field in enumerate(columns))
    table = quote(meta.db_table)
    sql = (
        f"WITH v ({', '.join(names)}) AS (VALUES {', '.join([row] * len(objs))}) "
        f"UPDATE {table} SET {sets} FROM v WHERE {table}.{quote(pk.column)} = v.pk_"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
