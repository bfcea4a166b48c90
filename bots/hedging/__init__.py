"""Hedging: capturing each fill once, placing its hedge, the books of hedge intents,
reconciliation with the venues, and the figures the pages show."""
