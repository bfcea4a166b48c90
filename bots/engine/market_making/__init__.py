"""Quoting decisions: levels, settings, refresh, protection, skew, volatility, the hedge floor."""
