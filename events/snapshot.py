"""A model's row as ``emit`` renders it, read cheaply: by primary key, one prepared
statement on PostgreSQL (the ORM elsewhere), built as the ORM builds it (``from_db``,
the fields' converters). The composition layer's renderers read through it
(``billing_site.api.event_renderers``): the payload is the row as it stands inside the
operation's transaction, the operation's own writes included."""

from django.db import connection
from django.db.models import Model

from . import prepared

_snapshots: dict[str, "Snapshot"] = {}


def of(model: type[Model]) -> "Snapshot":
    label = model._meta.label
    if label not in _snapshots:
        _snapshots[label] = Snapshot(model)
    return _snapshots[label]


class Snapshot:
    """One model's columns and its select by primary key."""

    def __init__(self, model: type[Model]):
        opts = model._meta
        self.model = model
        self.fields = list(opts.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        table = connection.ops.quote_name(opts.db_table)
        self.columns = ", ".join(f"r.{connection.ops.quote_name(f.column)}" for f in self.fields)
        self.select_sql = (
            f"SELECT {self.columns} FROM {table} r "
            f"WHERE r.{connection.ops.quote_name(opts.pk.column)} = %(pk)s"
        )
        self._converters = None

    def read(self, pk) -> Model:
        """The row as it stands now in this transaction (PostgreSQL: one prepared
        statement; elsewhere the ORM)."""
        if connection.vendor != "postgresql":
            return self.model._default_manager.get(pk=pk)
        rows = prepared.fetch(connection, self.select_sql, {"pk": pk})
        return self.from_row(rows[0] if rows else None, pk)

    def from_row(self, row, pk) -> Model:
        """The instance the ORM would build from ``row`` (its fields' converters applied)."""
        if row is None:
            raise self.model.DoesNotExist(f"events: {self.model._meta.label} {pk} not found.")
        compiler, converters = self.converters()
        if converters:
            row = next(iter(compiler.apply_converters([row], converters)))
        return self.model.from_db(connection.alias, self.attnames, row)

    def converters(self):
        if self._converters is None:
            compiler = self.model._default_manager.all().query.get_compiler(connection=connection)
            table = self.model._meta.db_table
            found = compiler.get_converters([f.get_col(table) for f in self.fields])
            self._converters = (compiler, found)
        return self._converters
