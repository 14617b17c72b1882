"""A model's row as ``emit`` renders it, read or verified cheaply (PostgreSQL).

``emit`` renders each object as it stands in the database at that moment. Re-reading it
costs a round trip; most callers hand ``emit`` the instance they have just written, whose
values already are the row's. ``Snapshot.stored(obj)`` builds from ``obj`` the instance
the database would return (each value prepared as a save prepares it, decimals at their
column's scale), and ``Snapshot.write_sql`` is ONE statement that, in the same
snapshot, compares that row with those values and only if every column is equal takes
the account's next ``seq`` and inserts the event; either way it returns the row as
stored. So a payload rendered from ``obj`` is written only when it is the row's; a stale
``obj`` (a balance changed by an ``UPDATE``, an ``F()`` not refreshed) costs nothing more
than the read it replaces: ``emit`` renders the returned row and writes then.

Only models whose columns are all of the plain types below (numbers, text, dates,
booleans, UUIDs) take this path; any other (JSON, files, …) is read afresh
(``Snapshot.read``)."""

from decimal import Decimal

from django.db import connection
from django.db.models import Model

# Each column is compared with its value cast to the column's base type: no length or
# scale (a cast to numeric(14, 2) would round, to varchar(32) truncate, and hide a
# difference).
_CASTS = {
    "AutoField": "bigint",
    "BigAutoField": "bigint",
    "SmallAutoField": "bigint",
    "IntegerField": "bigint",
    "BigIntegerField": "bigint",
    "SmallIntegerField": "bigint",
    "PositiveIntegerField": "bigint",
    "PositiveBigIntegerField": "bigint",
    "PositiveSmallIntegerField": "bigint",
    "CharField": "text",
    "TextField": "text",
    "EmailField": "text",
    "SlugField": "text",
    "DecimalField": "numeric",
    "DateTimeField": "timestamptz",
    "DateField": "date",
    "BooleanField": "boolean",
    "UUIDField": "uuid",
}

_snapshots: dict[str, "Snapshot"] = {}


def of(model: type[Model]) -> "Snapshot":
    label = model._meta.label
    if label not in _snapshots:
        _snapshots[label] = Snapshot(model)
    return _snapshots[label]


def _cast(field) -> str | None:
    target = field.target_field if field.is_relation else field
    return _CASTS.get(target.get_internal_type())


class Snapshot:
    """One model's columns, its select by primary key and its verified event insert."""

    def __init__(self, model: type[Model]):
        opts = model._meta
        self.model = model
        self.fields = list(opts.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.casts = [_cast(f) for f in self.fields]
        self.verifiable = all(self.casts)
        table = connection.ops.quote_name(opts.db_table)
        self.columns = ", ".join(f"r.{connection.ops.quote_name(f.column)}" for f in self.fields)
        self.select_sql = (
            f"SELECT {self.columns} FROM {table} r "
            f"WHERE r.{connection.ops.quote_name(opts.pk.column)} = %(pk)s"
        )
        self._converters = None
        self.write_sql = self._write_sql() if self.verifiable else None

    def read(self, pk) -> Model:
        """The row as it stands now in this transaction (PostgreSQL: one prepared
        statement; elsewhere the ORM)."""
        if connection.vendor != "postgresql":
            return self.model._default_manager.get(pk=pk)
        from . import prepared

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

    def stored(self, obj: Model) -> tuple[Model, list] | None:
        """``obj`` as the database would return it if its row holds ``obj``'s values,
        and those values as compared (None: not verifiable, read the row instead)."""
        if connection.vendor != "postgresql" or not self.verifiable:
            return None  # elsewhere a save prepares values as text (SQLite's datetimes)
        if obj._state.adding or obj.pk is None:
            return None
        values = []
        for field, attname in zip(self.fields, self.attnames, strict=True):
            if attname not in obj.__dict__:
                return None  # deferred: not loaded
            if hasattr(obj.__dict__[attname], "resolve_expression"):
                return None  # an F() or expression only the database has computed
            value = field.get_db_prep_save(getattr(obj, attname), connection)
            if isinstance(value, Decimal) and getattr(field, "decimal_places", None) is not None:
                value = value.quantize(Decimal(1).scaleb(-field.decimal_places))
            values.append(value)
        return self.model.from_db(connection.alias, self.attnames, values), values

    def _write_sql(self) -> str:
        """The verified insert (parameters: ``pk``, ``v0`` … ``vN``, ``account``, ``id``,
        ``type``, ``at``, ``payload``). Upsert first, as ``events.services``' insert:
        the counter row is locked until commit; no ``FOR UPDATE`` read of the object."""
        opts = self.model._meta
        table = connection.ops.quote_name(opts.db_table)
        pk = connection.ops.quote_name(opts.pk.column)
        params = ", ".join(f"%(v{i})s::{cast}" for i, cast in enumerate(self.casts))
        return (
            f"WITH r AS (SELECT {self.columns} FROM {table} r WHERE r.{pk} = %(pk)s), "
            f"ok AS (SELECT 1 FROM r WHERE ({self.columns}) "
            f"IS NOT DISTINCT FROM ({params})), "
            "c AS (INSERT INTO events_eventcounter (account_id, last_seq) "
            "SELECT %(account)s::bigint, 1 WHERE EXISTS (SELECT 1 FROM ok) "
            "ON CONFLICT (account_id) DO UPDATE "
            "SET last_seq = events_eventcounter.last_seq + 1 RETURNING last_seq), "
            "e AS (INSERT INTO events_event (id, type, account_id, seq, created_at, payload) "
            "SELECT %(id)s::uuid, %(type)s::varchar, %(account)s::bigint, c.last_seq, "
            "%(at)s::timestamptz, %(payload)s::jsonb FROM c RETURNING seq) "
            "SELECT (SELECT seq FROM e), r.* FROM r"
        )
