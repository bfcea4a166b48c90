"""The desk: liquidity health, alerts and their notifications, the audit log, roles."""
