"""The desk's forms: what every one of them refuses, and the market page's user trade."""

from decimal import Decimal

from django import forms

from bots.models.fields import LIMIT, bounds
from bots.platform.text import problem


def amount_field(low: str = "0", **kwargs) -> forms.DecimalField:
    """A price, amount or fee a person types: 18 places at most, and refused outside
    [low, 10^15] as the model fields that keep such values refuse it."""
    return forms.DecimalField(
        max_digits=38, decimal_places=18, validators=bounds(Decimal(low), LIMIT), **kwargs
    )


# Reasons and comments may span lines (a tab or a line break in them is kept); every other text
# field is one line.
MULTILINE_FIELDS = frozenset({"reason", "comment"})


class RefusesControlCharacters:
    """Mixed into every form of the desk, before forms.Form or forms.ModelForm: a text field
    holding a control character (bots.platform.text) is refused with its own error, so nothing is saved."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if not isinstance(value, str):
                continue
            widget = self.fields[name].widget
            why = problem(
                value, multiline=name in MULTILINE_FIELDS or isinstance(widget, forms.Textarea)
            )
            if why:
                self.add_error(name, f"It {why}, which is not accepted: remove it and send again.")
        return cleaned


class UserTradeForm(RefusesControlCharacters, forms.Form):
    """A simulated user's market order against the MM bot (paper markets only)."""

    side = forms.ChoiceField(choices=[("buy", "user buys"), ("sell", "user sells")])
    amount = forms.DecimalField(
        min_value=Decimal("0.00001"), max_value=Decimal("100"), max_digits=20, decimal_places=8
    )


def errors_text(form: forms.BaseForm) -> str:
    """Every error of a form on one line, field names first: what a message banner shows."""
    parts = []
    for field, errors in form.errors.items():
        label = "" if field == "__all__" else f"{form.fields[field].label or field}: "
        parts.append(label + " ".join(errors))
    return "; ".join(parts)
