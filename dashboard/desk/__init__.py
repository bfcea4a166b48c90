"""The desk around the markets: overview, alerts, targets, morning check, audit, log-in."""
