"""What this machine charges for waking a process: one message from one process to another through
Redis, the hop every paper fill makes from the paper venue to the stream process
(bots/venues/paper_stream.py), timed with the cores idle and with every core kept awake.

    .venv/bin/python bench/wakeups.py [--messages 500] [--gap 0.01]

A publisher process sends its clock through a private embedded Redis (unix socket, as the
demo's) every `gap` seconds; this process, subscribed as the stream process is (redis-py's
asyncio pub/sub), takes the time each message arrives. Between messages both processes sleep, as
they do between fills, so their cores may idle. The second round runs the same with one busy
loop per core at the lowest priority (bench/paper_markets.py:busy_cores), which yields to every
other process but keeps each core from idling. Prints, in this form:

    redis hop, cores idle: p50 X ms p90 Y ms p99 Z ms
    redis hop, cores awake: p50 X ms p90 Y ms p99 Z ms

The difference is the machine's wake-up: on a virtual machine whose idle cores halt, waking one
costs the host's scheduling of it. A paper fill wakes three sleepers before its hedge is
accepted (Redis, the stream process, the stream's database thread); `hedge_latency.py
--busy-cores` measures that whole path with the cores kept awake. Run it on a host before choosing it
for the desk (docs/performance.md, "An eighth machine").

Nothing outside the temporary folder is touched; REDIS_URL is ignored.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paper_markets import busy_cores, percentile

CHANNEL = "ballast:bench:wakeups"


def publish(url: str, messages: int, gap: float) -> None:
    import redis

    client = redis.Redis.from_url(url)
    while client.pubsub_numsub(CHANNEL)[0][1] == 0:
        time.sleep(0.01)  # the subscriber is not listening yet
    for _ in range(messages):
        time.sleep(gap)
        client.publish(CHANNEL, repr(time.time()))


async def receive(url: str, messages: int, gap: float) -> list[float]:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    publisher = subprocess.Popen([sys.executable, __file__, "--publish", url, str(messages), str(gap)])
    hops: list[float] = []
    try:
        while len(hops) < messages:
            message = await pubsub.get_message(timeout=None)
            if message is not None and message["type"] == "message":
                hops.append((time.time() - float(message["data"])) * 1000)
    finally:
        publisher.wait(10)
        await pubsub.aclose()
        await client.aclose()
    return hops


def line(label: str, hops: list[float]) -> str:
    return (f"redis hop, {label}: p50 {percentile(hops, 0.5):.2f} ms p90 {percentile(hops, 0.9):.2f} ms "
            f"p99 {percentile(hops, 0.99):.2f} ms")


def main() -> None:
    if sys.argv[1:2] == ["--publish"]:
        publish(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--gap", type=float, default=0.01, help="seconds between messages")
    args = parser.parse_args()

    from ballast.embedded_redis import EmbeddedRedis

    folder = Path(tempfile.mkdtemp(prefix="ballast-bench-"))
    server = EmbeddedRedis(folder / "redis.sock").start()
    try:
        idle = asyncio.run(receive(server.url, args.messages, args.gap))
        with busy_cores():
            awake = asyncio.run(receive(server.url, args.messages, args.gap))
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{args.messages} messages a round, one every {args.gap * 1000:g} ms, through an embedded Redis "
          "on a unix socket; from the publisher's clock before sending to the subscriber's on arrival")
    print(line("cores idle", idle))
    print(line("cores awake", awake))


if __name__ == "__main__":
    main()
