"""Server time of one step of the public simulation widget (/demo): the engine's step alone, the
step with its state loaded from and saved to Redis, and the whole request through Django
(session, the hand-over to the demo's worker through Redis, its lock, step, save and panel, the
answer back, JSON). A step is one simulated second, as the
buttons take; the Play button's default step of 5 s is measured too. Then the worst request a
visitor can make: opening a shared link that replays a run of the longest length.

    .venv/bin/python bench/demo_step.py [--steps 400]

Prints p50 and p99 in milliseconds of each; the target for a step is < 20 ms.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = {
    "steady, 12 users/min (default)": ("steady", {}),
    "whale, 120 users/min": ("whale", {"rate": "120"}),
}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def line(label: str, samples: list[float]) -> None:
    ms = [s * 1000 for s in samples]
    print(f"  {label:<44} p50 {statistics.median(ms):7.2f} ms   p99 {pct(ms, 0.99):7.2f} ms"
          f"   max {max(ms):7.2f} ms   (n={len(ms)})")


def engine_only(name: str, settings: dict, steps: int) -> list[float]:
    from bots.engine.simulation.demo import Simulation
    from bots.engine.simulation.sim_inputs import MAX_RUN_SECONDS

    sim, samples = Simulation(name, 1, settings), []
    for _ in range(steps):
        if sim.second >= MAX_RUN_SECONDS:
            sim = Simulation(name, 1, settings)
        started = time.perf_counter()
        sim.act(("play", 1))
        samples.append(time.perf_counter() - started)
    return samples


def load_step_save(name: str, settings: dict, steps: int) -> tuple[list[float], int]:
    from django.core.cache import cache

    from bots.engine.simulation.demo import Simulation

    key = "demo:bench"
    cache.set(key, pickle.dumps(Simulation(name, 2, settings), pickle.HIGHEST_PROTOCOL), 60)
    samples, size = [], 0
    for _ in range(steps):
        started = time.perf_counter()
        sim = pickle.loads(cache.get(key))  # noqa: S301 - written just above
        sim.act(("play", 1))
        blob = pickle.dumps(sim, pickle.HIGHEST_PROTOCOL)
        cache.set(key, blob, 60)
        samples.append(time.perf_counter() - started)
        size = len(blob)
    return samples, size


def whole_request(name: str, settings: dict, steps: int, seconds: int) -> list[float]:
    from urllib.parse import urlencode

    from django.test import Client

    client = Client()
    client.get("/demo?" + urlencode({"scenario": name, "seed": 3, **settings}))
    samples, count = [], 1
    for i in range(steps):
        if i and i % 150 == 0:  # stay well inside the longest run
            client.post("/demo/reset", {"scenario": name, "seed": 3, **settings})
            count = 1
        started = time.perf_counter()
        response = client.post(
            "/demo/act", {"action": "play", "seconds": seconds, "since": count},
            HTTP_ACCEPT="application/json",
        )
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:200]
        count = response.json()["series_count"]
    return samples


def longest_replay() -> list[float]:
    from django.test import Client

    from bots.engine.simulation.sim_inputs import MAX_PLAY_SECONDS, MAX_RUN_SECONDS

    actions = ",".join(f"p{MAX_PLAY_SECONDS}" for _ in range(MAX_RUN_SECONDS // MAX_PLAY_SECONDS))
    samples = []
    for _ in range(3):
        client = Client()
        started = time.perf_counter()
        response = client.get(f"/demo?scenario=whale&seed=4&rate=120&actions={actions}")
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="ballast-demo-bench-"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "ballast.settings", "BALLAST_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'bench.sqlite3'}", "LOG_LEVEL": "WARNING",
        "DEBUG": "false", "ALLOWED_HOSTS": "testserver", "CREDENTIALS_KEY": "bench credentials key",
    })
    redis_server = None
    if not os.environ.get("REDIS_URL"):
        from ballast.embedded_redis import EmbeddedRedis

        redis_server = EmbeddedRedis(var / "redis.sock").start()
        os.environ["REDIS_URL"] = redis_server.url
    demo_worker = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test.utils import override_settings
        from hedge_latency import start_worker

        call_command("migrate", verbosity=0)
        # The views hand each step to the demo's own worker, as in production; one address
        # makes every request here, so the per-address limits are off.
        demo_worker = start_worker(dict(os.environ), var, "demo", "demo")
        override_settings(DEMO_STEPS_PER_MINUTE=0, DEMO_RUNS_PER_MINUTE=0).enable()
        print(f"Widget step, server time (load average {os.getloadavg()[0]:.1f}; 2 shared cores)")
        for label, (name, settings) in CASES.items():
            print(label)
            line("engine step alone (1 simulated s)", engine_only(name, settings, args.steps))
            samples, size = load_step_save(name, settings, args.steps)
            line("load from Redis + step + save", samples)
            line("whole request, 1 s step (Django, JSON)", whole_request(name, settings, args.steps, 1))
            line("whole request, 5 s step (Play's default)",
                 whole_request(name, settings, args.steps // 2, 5))
            print(f"  pickled state: {size / 1024:.1f} KB")
        print("Opening a shared link of the longest run (whale, 120 users/min), 3 times")
        line("replay + save + page", longest_replay())
    finally:
        if demo_worker is not None:
            demo_worker.terminate()
            demo_worker.wait(10)
        if redis_server is not None:
            redis_server.stop()


if __name__ == "__main__":
    main()
