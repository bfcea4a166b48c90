"""Ballast's records: venues and accounts, markets and their settings, the bots' orders, fills,
hedges and balances, and the paper venues' own exchange state."""

from .audit import AuditEntry
from .markets import Market, QuoteSettings
from .paper import PaperBalance, PaperMarket, PaperOrder, PaperTrade
from .trading import BalanceSnapshot, Fill, Hedge, Order
from .venues import Account, Venue

__all__ = [
    "Account",
    "AuditEntry",
    "BalanceSnapshot",
    "Fill",
    "Hedge",
    "Market",
    "Order",
    "PaperBalance",
    "PaperMarket",
    "PaperOrder",
    "PaperTrade",
    "QuoteSettings",
    "Venue",
]
