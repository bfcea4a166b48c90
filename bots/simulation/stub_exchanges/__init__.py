"""Local stand-ins for real exchanges, spoken to by the real ccxt and ccxt.pro classes over
loopback: binance's REST API and websockets, a HollaEx Kit's REST API and websocket, all on one shared exchange
engine (exchange.py). The tests drive them in process; `manage.py stubs` serves them for
`make demo VENUES=stub` (docs/operations.md)."""
