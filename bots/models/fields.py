"""Field shapes shared by the models."""

from decimal import Decimal

from django.db import models


def money(**kwargs) -> models.DecimalField:
    """Prices, amounts, costs and fees: wide enough for any asset, exact to 18 places."""
    kwargs.setdefault("max_digits", 38)
    kwargs.setdefault("decimal_places", 18)
    return models.DecimalField(**kwargs)


SIDE_CHOICES = [("buy", "buy"), ("sell", "sell")]


class ExactDecimalField(models.DecimalField):
    """A decimal SQLite keeps exactly: stored as text there, numeric on PostgreSQL.

    SQLite's numeric columns keep 15 significant digits, so a balance of 100,000,000.123456789012
    would come back rounded. Only for values read and written by key, never compared, ordered or
    summed in SQL (on SQLite that would compare text).
    """

    def get_internal_type(self) -> str:
        # Not "DecimalField": SQLite's backend would read every value back through a float.
        return "TextField"

    def db_type(self, connection) -> str:
        if connection.vendor == "sqlite":
            return "text"
        return f"numeric({self.max_digits}, {self.decimal_places})"

    def get_db_prep_value(self, value, connection, prepared=False):
        value = self.to_python(value)
        if value is None:
            return None
        value = value.quantize(Decimal(1).scaleb(-self.decimal_places), context=self.context)
        return format(value, "f") if connection.vendor == "sqlite" else value

    def from_db_value(self, value, expression, connection):
        return None if value is None else Decimal(value)


def exact_money(**kwargs) -> ExactDecimalField:
    kwargs.setdefault("max_digits", 38)
    kwargs.setdefault("decimal_places", 18)
    return ExactDecimalField(**kwargs)
