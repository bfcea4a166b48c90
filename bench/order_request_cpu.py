"""What one order request costs the process that sends it, through the kept clients' transport
(bots/venues/transport.py) and through requests' Session: a limit order placed and cancelled on
the binance stub through ccxt, as a tick does, the stub in a process of its own so that only the
client's CPU is counted.

    .venv/bin/python bench/order_request_cpu.py [--pairs 300] [--rounds 2]

Prints, for each transport and round, the CPU (this process's, all threads) and the wall time of
one request, the mean over `--pairs` place-and-cancel pairs after 20 to warm up. The transports
take turns, so a machine that slows down meanwhile weighs on both.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUB = """
import json, sys
from bots.simulation.stub_exchanges.binance import BinanceStub
stub = BinanceStub(balances={"BTC": "100", "USDT": "10000000"})
print(json.dumps(stub.ccxt_config()), flush=True)
sys.stdin.read()  # until the bench closes it
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import requests

    from bots.simulation.stub_exchanges.binance import BinanceStub
    from bots.venues.clients import build_client

    stub = subprocess.Popen([sys.executable, "-c", STUB], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        config = json.loads(stub.stdout.readline())
        options = {**config, "apiKey": BinanceStub.API_KEY, "secret": BinanceStub.SECRET}
        for _ in range(args.rounds):
            for kind in ("requests", "transport"):
                client = build_client("stub", "binance", options, None)  # the transport's
                if kind == "requests":
                    client.session = requests.Session()
                client.load_markets()
                cpu, wall = measure(client, args.pairs)
                print(f"order request through {kind}: cpu {cpu:.3f} ms, wall {wall:.3f} ms")
    finally:
        stub.stdin.close()
        stub.wait(10)


def measure(client, pairs: int) -> tuple[float, float]:
    """Mean CPU and wall ms of one request, over `pairs` places with their cancels."""

    def pair(i: int) -> None:
        order = client.create_order("BTC/USDT", "limit", "buy", 0.001, 60_000 + i % 50)
        client.cancel_order(order["id"], "BTC/USDT")

    for i in range(20):
        pair(i)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(pairs):
        pair(i)
    requests_sent = 2 * pairs
    return ((time.process_time() - cpu) / requests_sent * 1000,
            (time.perf_counter() - wall) / requests_sent * 1000)


if __name__ == "__main__":
    main()
