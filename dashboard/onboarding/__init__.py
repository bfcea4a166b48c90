"""Connecting exchanges from the desk: venues, accounts and keys, connection tests, markets."""
