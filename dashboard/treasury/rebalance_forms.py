"""Forms of the rebalance panel: an operator's own proposal and the record of a withdrawal, and
the admin's bands, policies, withdrawal networks and whitelist entries."""

from __future__ import annotations

from django import forms

from bots.desk.four_eyes import POLICY_FIELDS
from bots.models import Account, InventoryBand, RebalancePolicy, WithdrawalNetwork
from dashboard.forms import RefusesControlCharacters, amount_field


def bot_accounts():
    return Account.objects.filter(role__in=[Account.MARKET_MAKING, Account.HEDGING]).select_related(
        "venue"
    )


class AccountChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Account) -> str:
        return f"{obj.name} @ {obj.venue.label}"


class ProposeForm(RefusesControlCharacters, forms.Form):
    source = AccountChoice(queryset=Account.objects.none())
    destination = AccountChoice(queryset=Account.objects.none())
    asset = forms.CharField(max_length=20)
    network = forms.CharField(max_length=30)
    amount = amount_field("0.00000001")
    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("source", "destination"):
            self.fields[name].queryset = bot_accounts()
            # The panel refreshes itself while someone may be filling this in.
            self.fields[name].widget.attrs["hx-preserve"] = "true"

    def clean_asset(self):
        return self.cleaned_data["asset"].strip().upper()

    def clean_network(self):
        return self.cleaned_data["network"].strip().upper()


class SentForm(RefusesControlCharacters, forms.Form):
    amount = amount_field("0.00000001")
    fee = amount_field()
    txid = forms.CharField(max_length=200, label="Transaction id or hash")


class BandForm(RefusesControlCharacters, forms.ModelForm):
    account = AccountChoice(queryset=Account.objects.none())

    class Meta:
        model = InventoryBand
        fields = ["account", "asset", "unit", "market", "minimum", "target", "maximum", "reserve"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = bot_accounts()

    def clean_asset(self):
        return self.cleaned_data["asset"].strip().upper()


class PolicyForm(RefusesControlCharacters, forms.ModelForm):
    class Meta:
        model = RebalancePolicy
        # The fields a policy change request carries: the form edits exactly what four-eyes checks.
        fields = ["asset", *POLICY_FIELDS]
        labels = {
            "two_approvers_above": "Two approvers above (amount)",
            "auto_execute": "Automatic execution",
            "velocity_window_minutes": "Velocity window (minutes)",
            "velocity_amount": "Velocity limit (amount per window)",
            "velocity_count": "Velocity limit (transfers per window)",
            "runway_alert_hours": "Runway alert (hours)",
            "flow_window_minutes": "Flow window (minutes)",
            "proposal_ttl_minutes": "Proposal lifetime (minutes)",
            "max_fee_share": "Max fee share (fraction)",
            "arrival_tolerance": "Arrival tolerance (fraction)",
        }

    def clean_asset(self):
        return self.cleaned_data["asset"].strip().upper()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["velocity_window_minutes"].required = False

    def clean_velocity_window_minutes(self):
        # Left empty: the model's default window (a day).
        value = self.cleaned_data["velocity_window_minutes"]
        return value if value is not None else RebalancePolicy.velocity_window_minutes.field.default


class NetworkForm(RefusesControlCharacters, forms.ModelForm):
    class Meta:
        model = WithdrawalNetwork
        fields = [
            "venue",
            "asset",
            "network",
            "fee",
            "minimum",
            "step",
            "arrival_minutes",
            "enabled",
        ]
        labels = {"arrival_minutes": "Arrives in (minutes)", "enabled": "Open"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].initial = "0.00000001"  # as people write it, not 1E-8

    def clean_asset(self):
        return self.cleaned_data["asset"].strip().upper()

    def clean_network(self):
        return self.cleaned_data["network"].strip().upper()


class WhitelistForm(RefusesControlCharacters, forms.Form):
    account = AccountChoice(queryset=Account.objects.none(), label="Deposit address of")
    asset = forms.CharField(max_length=20)
    network = forms.CharField(max_length=30)
    address = forms.CharField(max_length=200)
    tag = forms.CharField(max_length=100, required=False, label="Memo or tag")
    label = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = bot_accounts()
