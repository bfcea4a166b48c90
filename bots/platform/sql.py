"""The one plain-SQL module: names, values and rows for the hot paths, exactly as the ORM has them.

Building a query costs the ORM 0.3 to 1 ms here; running the SQL it builds costs 0.05 ms. The
hot paths (the hedge, bench/hedge_latency; the market-making tick, bench/mm_ticks) make a handful
of statements each, so those are written out as plain SQL beside their capability
(bots/market_making/tick_reads.py, bots/hedging/hedge_context.py, bots/venues/paper_store.py...)
and built from what this module gives:

- names: `table(Model)` and `column(Model, "field")` (or `columns(...)`), quoted from the model's
  own `_meta`, so a statement never spells a table or column by hand, and `@statement` to build
  a hot statement's text once per backend;
- values: `prepared(Model, "field", value)` as the column holds it, and back from the database
  `num` (a Decimal, exactly, on every backend) and `moment` (an aware datetime);
- rows: `fetchall`, a `Reader` that builds model instances through the converters the ORM would
  apply (SQLite's text, datetimes...), `instance`, and `insert` / `update` as save() would write;
  `insert_rows_statement` and `update_rows_statement` write several rows in one statement (the
  paper venue's save: a statement per table, not per row).

Instances built here behave as if the ORM had loaded them: save(), refresh_from_db() and so on
work. tests/platform/test_plain_sql_matches_the_orm.py holds every plain-SQL read to the answer
of the ORM query it stands for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models.expressions import Col
from django.utils.dateparse import parse_datetime

# ruff: noqa: S608 - only model table/column names and placeholders are formatted into the SQL

# Quoted names per (backend, model, field), and statements per backend: asking the connection
# for its backend costs about as much as quoting a name (1.5 us), so a hot statement is built once.
_names: dict[tuple, str] = {}


def statement(build: Callable[..., str]) -> Callable[..., str]:
    """Decorate a function that builds a statement's text from names (and small arguments such
    as a count of placeholders): the text is built once per backend and those arguments."""
    built: dict[tuple, str] = {}

    def text(*args) -> str:
        key = (connection.vendor, *args)
        found = built.get(key)
        if found is None:
            found = built[key] = build(*args)
        return found

    text.__doc__, text.__name__, text.__wrapped__ = build.__doc__, build.__name__, build
    return text


def table(model) -> str:
    """The model's table name, quoted for the connection's backend."""
    key = (connection.vendor, model, None)
    if key not in _names:
        _names[key] = connection.ops.quote_name(model._meta.db_table)
    return _names[key]


def column(model, field: str, alias: str = "") -> str:
    """The column of `field` (its name or attname, "market" or "market_id"), quoted, after
    `alias.` when given."""
    key = (connection.vendor, model, field)
    if key not in _names:
        _names[key] = connection.ops.quote_name(model._meta.get_field(field).column)
    return f"{alias}.{_names[key]}" if alias else _names[key]


def columns(model, fields: Iterable[str], alias: str = "") -> str:
    """The columns of `fields`, comma separated, as `column` names each."""
    return ", ".join(column(model, field, alias) for field in fields)


def marks(count: int | Sequence) -> str:
    """One "%s" placeholder per value (or `count` of them), comma separated."""
    return ", ".join(["%s"] * (count if isinstance(count, int) else len(count)))


def _db():
    """The connection itself, not the `connection` proxy: each attribute read through the proxy
    looks the connection up again in asgiref's context-local storage (about 2 us), and a hot
    statement's values read the backend's vendor once each."""
    return connections[DEFAULT_DB_ALIAS]


def prepared(model, field: str, value):
    """`value` as the column of `field` holds it (money on SQLite: its canonical text)."""
    return model._meta.get_field(field).get_db_prep_value(value, _db())


def prepared_values(model, fields: Iterable[str], values: Iterable) -> list:
    """Each of `values` as the column of its field in `fields` holds it, as `prepared` gives it."""
    db, get_field = _db(), model._meta.get_field
    return [get_field(f).get_db_prep_value(v, db) for f, v in zip(fields, values, strict=True)]


def num(value) -> Decimal | None:
    """A money column's value as a Decimal: numeric on PostgreSQL, text on SQLite."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(value)


def moment(value) -> datetime:
    """A datetime column's value, aware: PostgreSQL gives one, SQLite keeps UTC as naive text."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_datetime(value).replace(tzinfo=UTC)


# SQLite's text of each statement: "%s" placeholders become "?" as Django's SQLite backend
# rewrites them (its cursor does it again at every execute). psycopg takes "%s" as it is.
_sqlite_texts: dict[str, str] = {}
_FORMAT_MARK = re.compile(r"(?<!%)%s")


def _native_text(vendor: str, statement: str) -> str:
    if vendor != "sqlite":
        return statement
    found = _sqlite_texts.get(statement)
    if found is None:
        found = _sqlite_texts[statement] = _FORMAT_MARK.sub("?", statement).replace("%%", "%")
    return found


class DriverCursor:
    """The database driver's cursor for this module's statements, with Django's error classes.

    Through Django's cursor each execute cost about 10 us more than the driver's own on this
    machine (a cursor wrapper, the broken-transaction check, the error wrapper and, on SQLite,
    the placeholders rewritten by a regular expression every time), and a paper fill's way to
    its hedge runs about 35 statements (docs/performance.md). This keeps what matters of that
    way: a statement inside a failed atomic block is refused, a driver's error arrives as
    Django's (`IntegrityError`: the capture's once-only key relies on it), and while anything
    observes the queries (a test's CaptureQueriesContext, DEBUG's log, an execute wrapper)
    Django's own cursor is used, so they see every statement.

    Use as `with sql.cursor() as cursor:` with `execute(statement, params)`, `fetchone`,
    `fetchall` and `rowcount`, the statement in Django's "%s" style.
    """

    __slots__ = ("_db", "_cursor", "_vendor")

    def __init__(self, db):
        self._db, self._vendor = db, db.vendor
        db.close_if_health_check_failed()
        db.ensure_connection()
        with db.wrap_database_errors:
            # SQLite's own cursor: Django's factory would rewrite each statement's placeholders.
            self._cursor = db.connection.cursor() if self._vendor == "sqlite" else db.create_cursor()

    def execute(self, statement: str, params: Sequence = ()):
        self._db.validate_no_broken_transaction()
        with self._db.wrap_database_errors:
            self._cursor.execute(_native_text(self._vendor, statement), params)

    def fetchone(self):
        with self._db.wrap_database_errors:
            return self._cursor.fetchone()

    def fetchall(self) -> list[tuple]:
        with self._db.wrap_database_errors:
            return self._cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._cursor.close()


def cursor():
    """A cursor for plain statements in Django's "%s" style: the driver's own (`DriverCursor`),
    or Django's while something observes the queries. Use it in a with block."""
    db = _db()
    if db.queries_logged or db.execute_wrappers:
        return db.cursor()
    return DriverCursor(db)


def fetchall(statement: str, params: Sequence) -> list[tuple]:
    """The rows one statement answers, as the database driver gives them."""
    with cursor() as found:
        found.execute(statement, params)
        return found.fetchall()


class Reader:
    """One model's columns in a SELECT, and its instances built from the values read back."""

    def __init__(self, model, alias: str):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.columns = columns(model, (f.attname for f in self.fields), alias)
        self.width = len(self.fields)
        self._converters: dict[str, list] = {}

    def _converters_for(self, db) -> list:
        if db.vendor not in self._converters:
            found = []
            for field in self.fields:
                col = Col(self.model._meta.db_table, field)
                found.append((col, db.ops.get_db_converters(col) + field.get_db_converters(db)))
            self._converters[db.vendor] = found
        return self._converters[db.vendor]

    def build(self, values):
        db = _db()
        converted = []
        for value, (col, converters) in zip(values, self._converters_for(db), strict=True):
            for converter in converters:
                value = converter(value, col, db)
            converted.append(value)
        return self.model.from_db(db.alias, [f.attname for f in self.fields], converted)


def instance(model, values: dict):
    """An instance of `model` as loaded from the database, from already converted values by
    attname; fields not given are deferred (loaded on access)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


@statement
def insert_statement(model, fields: tuple[str, ...], returning: str = "") -> str:
    """INSERT INTO the model's table the columns of `fields` (RETURNING the column of
    `returning` when given), one placeholder each."""
    sql = f"INSERT INTO {table(model)} ({columns(model, fields)}) VALUES ({marks(fields)})"
    return f"{sql} RETURNING {column(model, returning)}" if returning else sql


@statement
def insert_rows_statement(model, fields: tuple[str, ...], rows: int) -> str:
    """INSERT INTO the model's table `rows` rows of the columns of `fields` in one statement,
    the values row after row."""
    row = f"({marks(fields)})"
    return f"INSERT INTO {table(model)} ({columns(model, fields)}) VALUES {', '.join([row] * rows)}"


@statement
def update_rows_statement(model, fields: tuple[str, ...], where: tuple[str, ...], rows: int) -> str:
    """UPDATE `rows` rows of the model's table in one statement, each found by its values of
    `where` and given its own values of `fields`. The parameters: for each field, for each row,
    its `where` values then its value; then for each row its `where` values (`rows_params`)."""
    found = " AND ".join(f"{column(model, n)} = %s" for n in where)
    cases = ", ".join(
        f"{column(model, n)} = CASE {' '.join([f'WHEN {found} THEN %s'] * rows)} END" for n in fields
    )
    return f"UPDATE {table(model)} SET {cases} WHERE {' OR '.join([f'({found})'] * rows)}"


def rows_params(rows: Sequence[tuple[Sequence, Sequence]]) -> list:
    """The parameters of `update_rows_statement` for rows of (their `where` values, their
    values of the fields), already as the columns hold them."""
    params: list = []
    for index in range(len(rows[0][1])):
        for keys, values in rows:
            params += [*keys, values[index]]
    for keys, _ in rows:
        params += keys
    return params


@statement
def update_statement(model, fields: tuple[str, ...], where: tuple[str, ...]) -> str:
    """UPDATE the model's table SET the columns of `fields` WHERE each of `where` equals its
    value, one placeholder each, in that order."""
    return (
        f"UPDATE {table(model)} SET {', '.join(f'{column(model, n)} = %s' for n in fields)} "
        f"WHERE {' AND '.join(f'{column(model, n)} = %s' for n in where)}"
    )


def insert(obj):
    """INSERT one new instance as Model.save() would, and set its primary key."""
    model, meta = type(obj), obj._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    db = _db()
    values = [f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields]
    sql = insert_statement(model, tuple(f.attname for f in fields), meta.pk.attname)
    with cursor() as found:
        found.execute(sql, values)
        obj.pk = found.fetchone()[0]
    obj._state.adding = False
    return obj


def update(model, where: dict, **values) -> int:
    """UPDATE ... SET values WHERE every `where` column equals its value; the rows changed."""
    get_field = model._meta.get_field
    db = _db()
    params = [get_field(n).get_db_prep_save(v, db) for n, v in values.items()]
    params += [get_field(n).get_db_prep_save(v, db) for n, v in where.items()]
    with cursor() as found:
        found.execute(update_statement(model, tuple(values), tuple(where)), params)
        return found.rowcount
