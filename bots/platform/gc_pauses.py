"""Keep the garbage collector's full collections short in the processes on the quote path.

A worker or the stream process holds about 300,000 objects the garbage collector tracks once
Django, Celery and ccxt (every exchange's class) are imported, nearly all of them kept for the
life of the process. Python's full collection walks every one of them: 80-260 ms, measured in
bench/quote_latency.py's worker, stream and stub processes (docs/performance.md, "The quote
stream path"), a pause that lands in a tick or a book's hand-over now and then. Frozen once the
process has started, they are left out of every later collection; what the process makes
afterwards (its ccxt clients' markets, the ORM's rows) is still collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup() -> int:
    """Collect what start-up left for garbage, then move every object still tracked to the
    permanent generation, out of the collector's walks; answers how many are frozen. Called
    once a process has imported its code and before it does its work."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
