"""Field shapes shared by the models: money and quantities, bounded and kept exactly.

Every price, amount, cost, fee and figure in bps is an ExactDecimalField: numeric(38, 18) on
PostgreSQL, canonical text on SQLite, and within bounds its validators check (±10^15 unless the
field says tighter), so a form refuses what the database could not give back.
"""

from __future__ import annotations

from decimal import Context, Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.backends.signals import connection_created
from django.utils.functional import cached_property

SIDE_CHOICES = [("buy", "buy"), ("sell", "sell")]

LIMIT = Decimal(10) ** 15  # no price, amount or balance of any asset comes near it
COLLATION = "ballast_decimal"
_WIDE = Context(prec=80)  # sums of 38-digit values, exactly


def _grouped(value: Decimal) -> str:
    return format(value.normalize(), ",f")


def bounds(low, high) -> list:
    """Validators keeping a value within [low, high], their messages with the figures grouped."""
    low, high = Decimal(low), Decimal(high)
    return [
        MinValueValidator(low, f"Ensure this value is greater than or equal to {_grouped(low)}."),
        MaxValueValidator(high, f"Ensure this value is less than or equal to {_grouped(high)}."),
    ]


class ExactDecimalField(models.DecimalField):
    """A decimal kept exactly on every backend: numeric on PostgreSQL, text on SQLite.

    SQLite's numeric columns keep 15 significant digits (1234567890.123456789 comes back as
    1234567890.12346), and Django cannot read back one that no longer fits 18 places in 38
    digits once it went through a float. So on SQLite the column holds the fixed-point text
    under the ballast_decimal collation, which compares two texts as the numbers they spell:
    =, <, IN, ORDER BY, MIN and MAX mean in SQL what they mean on numbers. SUM and arithmetic
    in SQL would go through floats there: sum with ExactSum, add and subtract in Python.
    """

    # Bounds are checked by validators (forms, full_clean), not by the database.
    non_db_attrs = (*models.DecimalField.non_db_attrs, "low", "high")

    def __init__(self, *args, low=-LIMIT, high=LIMIT, **kwargs):
        self.low, self.high = Decimal(low), Decimal(high)
        super().__init__(*args, **kwargs)

    @cached_property
    def validators(self) -> list:
        return [*super().validators, *bounds(self.low, self.high)]

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.low != -LIMIT:
            kwargs["low"] = self.low
        if self.high != LIMIT:
            kwargs["high"] = self.high
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        # Not "DecimalField": SQLite's backend would read every value back through a float.
        return "TextField"

    def db_type(self, connection) -> str:
        if connection.vendor == "sqlite":
            return f"text COLLATE {COLLATION}"
        return f"numeric({self.max_digits}, {self.decimal_places})"

    def get_db_prep_value(self, value, connection, prepared=False):
        if hasattr(value, "as_sql"):
            return value
        value = self.to_python(value)
        if value is None:
            return None
        value = value.quantize(Decimal(1).scaleb(-self.decimal_places), context=self.context)
        if connection.vendor != "sqlite":
            return value
        return format(value.copy_abs() if value.is_zero() else value, "f")  # no "-0"

    def from_db_value(self, value, expression, connection):
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, float):  # an expression SQLite computed in floats
            return Decimal(repr(value))
        return Decimal(value)


def money(**kwargs) -> ExactDecimalField:
    """Prices, amounts, costs and fees: wide enough for any asset, exact to 18 places, and
    refused by forms and full_clean() outside [low, high] (±10^15 unless given)."""
    kwargs.setdefault("max_digits", 38)
    kwargs.setdefault("decimal_places", 18)
    return ExactDecimalField(**kwargs)


def bps(**kwargs) -> ExactDecimalField:
    """A spread or distance in basis points of a price: 0 to 10,000 (100%)."""
    return money(low=0, high=10_000, **kwargs)


class ExactSum(models.Sum):
    """SUM of an ExactDecimalField, exact on SQLite too (its own SUM adds floats)."""

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="BALLAST_SUM", **extra_context)


def _compare(left: str, right: str) -> int:
    a, b = Decimal(left), Decimal(right)
    return (a > b) - (a < b)


class _Total:
    """BALLAST_SUM: the exact sum of decimal texts, as text; NULL over no rows, like SUM."""

    def __init__(self):
        self.total = None

    def step(self, value):
        if value is not None:
            self.total = _WIDE.add(self.total or Decimal(0), Decimal(str(value)))

    def finalize(self):
        return None if self.total is None else format(self.total, "f")


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """Every SQLite connection needs the collation before it touches a money column."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(COLLATION, _compare)
        connection.connection.create_aggregate("BALLAST_SUM", 1, _Total)


# Connected when the models are imported, so before any connection is opened.
connection_created.connect(register_sqlite_functions, dispatch_uid="ballast-sqlite-decimal")
