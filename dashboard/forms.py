"""The desk's forms: what every one of them refuses, and the market page's user trade."""

from decimal import Decimal

from django import forms

from bots.engine.market_making.quote_config import Param
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


def param_bounds_text(param: Param) -> str:
    """A parameter's bounds as its form shows them, e.g. "0 to 5000 bps; 0 turns it off"."""
    if param.minimum is None:
        return ""
    unit = f" {param.unit}" if param.unit else ""
    text = f"{param.minimum:f} to {param.maximum:f}{unit}" if param.kind is Decimal else (
        f"{param.minimum} to {param.maximum}{unit}"
    )
    return text + ("; 0 turns it off" if param.off_at_zero else "")


def param_field(param: Param) -> forms.Field:
    """The form field of one entry of a parameters' table (the quote settings', the intervention
    settings'), with its bounds and its messages."""
    messages_ = {
        "required": f"{param.label} is required",
        "invalid": f"{param.label} must be a number",
        "min_value": f"{param.label} must be at least %(limit_value)s",
        "max_value": f"{param.label} must be at most %(limit_value)s",
    }
    common = {"label": param.label, "help_text": param.help}
    if param.kind is bool:
        return forms.BooleanField(required=False, **common)
    if param.kind is str:
        return forms.ChoiceField(choices=[(c, c) for c in param.choices], **common)
    bounds_ = {"min_value": param.minimum, "max_value": param.maximum}
    if param.kind is int:
        messages_["invalid"] = f"{param.label} must be a whole number"
        return forms.IntegerField(error_messages=messages_, **bounds_, **common)
    return forms.DecimalField(
        max_digits=38, decimal_places=18, error_messages=messages_,
        widget=forms.NumberInput(attrs={"step": "any"}), **bounds_, **common,
    )
