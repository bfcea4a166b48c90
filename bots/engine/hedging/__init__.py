"""Hedging decisions: the hedge order, where it goes, netting small fills, P&L of a hedged fill."""
