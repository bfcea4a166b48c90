"""Ballast's records: venues and accounts, markets and their settings, the bots' orders, fills,
hedges and balances, and the paper venues' own exchange state."""

from .alerts import Alert, Delivery, NotificationChannel
from .audit import AuditEntry
from .changes import ChangeRequest, UserOrigin
from .checks import CheckItem, MorningCheck
from .health import Breach, HealthSample, Heartbeat
from .interventions import (
    Intervention,
    InterventionApproval,
    InterventionOrder,
    InterventionSettings,
    InterventionSettingsVersion,
)
from .markets import KillSwitch, Market, QuoteSettings, QuoteSettingsVersion
from .network_terms import NetworkClosure, NetworkTermsChange, NetworkTermsReading
from .otc import ApiClient, BrokerQuote, BrokerSettings
from .paper import PaperBalance, PaperCancelDeadline, PaperMarket, PaperOrder, PaperTrade
from .sizing import SizingRun
from .targets import MarketTargets, TargetChange
from .trading import (
    BalanceSnapshot,
    Fill,
    Hedge,
    HedgeCover,
    HedgeMismatch,
    HedgeOrder,
    HedgeSettings,
    Order,
)
from .transfers import (
    InventoryBand,
    PaperTransfer,
    RebalancePolicy,
    TransferApproval,
    TransferProposal,
    WhitelistAddress,
    WithdrawalNetwork,
)
from .venues import Account, Venue

__all__ = [
    "Account",
    "Alert",
    "ApiClient",
    "AuditEntry",
    "BalanceSnapshot",
    "BrokerQuote",
    "BrokerSettings",
    "ChangeRequest",
    "Breach",
    "CheckItem",
    "Delivery",
    "Fill",
    "HealthSample",
    "Heartbeat",
    "Hedge",
    "HedgeCover",
    "HedgeMismatch",
    "HedgeOrder",
    "HedgeSettings",
    "Intervention",
    "InterventionApproval",
    "InterventionOrder",
    "InterventionSettings",
    "InterventionSettingsVersion",
    "InventoryBand",
    "KillSwitch",
    "Market",
    "MarketTargets",
    "MorningCheck",
    "NetworkClosure",
    "NetworkTermsChange",
    "NetworkTermsReading",
    "NotificationChannel",
    "Order",
    "PaperBalance",
    "PaperCancelDeadline",
    "PaperMarket",
    "PaperOrder",
    "PaperTrade",
    "PaperTransfer",
    "QuoteSettings",
    "QuoteSettingsVersion",
    "RebalancePolicy",
    "SizingRun",
    "TargetChange",
    "TransferApproval",
    "TransferProposal",
    "UserOrigin",
    "Venue",
    "WhitelistAddress",
    "WithdrawalNetwork",
]
