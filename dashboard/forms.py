from decimal import Decimal

from django import forms


class UserTradeForm(forms.Form):
    """A simulated user's market order against the MM bot (paper markets only)."""

    side = forms.ChoiceField(choices=[("buy", "user buys"), ("sell", "user sells")])
    amount = forms.DecimalField(
        min_value=Decimal("0.00001"), max_value=Decimal("100"), max_digits=20, decimal_places=8
    )
