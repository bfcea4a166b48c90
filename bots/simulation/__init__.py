"""Simulation: the make-believe world around the paper venues, and liquidity sizing runs."""
