"""Field shapes shared by the models."""

from django.db import models


def money(**kwargs) -> models.DecimalField:
    """Prices, amounts, costs and fees: wide enough for any asset, exact to 18 places."""
    kwargs.setdefault("max_digits", 38)
    kwargs.setdefault("decimal_places", 18)
    return models.DecimalField(**kwargs)


SIDE_CHOICES = [("buy", "buy"), ("sell", "sell")]
