"""Simulated flow and scenarios, the public simulation, sizing and research."""
