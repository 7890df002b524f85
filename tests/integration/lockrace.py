"""Do two replicas ever hold one conversation's lock at the same time? (measurement)

Two processes (two "replicas"), each with its own lock store on the same Redis, take the lock of
the same conversation at the same moment, round after round (a fresh conversation each round, as
when a citizen's first messages reach two replicas at once). Inside the lock each increments a
shared counter, works for ``hold`` seconds and decrements it: a counter above 1 means both were
inside. Used by tests/integration/test_lock_race.py and scripts/measure_lock_race.py.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from dataclasses import dataclass
from typing import Dict, List


@dataclass
class RaceResult:
    store: str
    rounds: int
    overlaps: int  # rounds in which both replicas were inside at once
    errors: int  # lock attempts that raised (LockError, ...)
    seconds: float

    def line(self) -> str:
        return (f"{self.store:<22} rounds {self.rounds:>4}  both inside {self.overlaps:>4} "
                f"({100.0 * self.overlaps / max(1, self.rounds):.0f}%)  lock errors {self.errors:>3}  "
                f"{self.seconds:.1f} s")


def _make_store(kind: str, redis: Dict[str, str], prefix: str):
    if kind == "rasa":
        from rasa.core.lock_store import RedisLockStore

        return RedisLockStore(host=redis["host"], port=int(redis["port"]), db=int(redis["db"]), key_prefix=prefix)
    from rasa.utils.endpoints import EndpointConfig

    from bot.resilience.lock_store import AtomicRedisLockStore

    return AtomicRedisLockStore(EndpointConfig(url=redis["host"], port=redis["port"], db=redis["db"],
                                               key_prefix=prefix))


def _replica(kind: str, redis: Dict[str, str], prefix: str, start: float, rounds: int, period: float,
             hold: float, results) -> None:
    import redis.asyncio as aioredis

    async def main():
        store = _make_store(kind, redis, prefix)
        counter = aioredis.Redis(host=redis["host"], port=int(redis["port"]), db=int(redis["db"]))
        overlaps: List[int] = []
        errors = 0
        for number in range(rounds):
            delay = start + number * period - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            key = f"{prefix}:inside:{number}"
            try:
                async with store.lock(f"race-{prefix}-{number}"):
                    if await counter.incr(key) > 1:
                        overlaps.append(number)
                    await asyncio.sleep(hold)
                    await counter.decr(key)
            except Exception:  # noqa: BLE001 - LockError and friends
                errors += 1
        await counter.close()
        results.put((overlaps, errors))

    asyncio.run(main())


def measure(kind: str, redis: Dict[str, str], rounds: int = 30, hold: float = 0.05,
            period: float = 0.25) -> RaceResult:
    """Run the two replicas; ``kind`` is "rasa" (RedisLockStore) or "atomic" (ours)."""
    prefix = f"race{uuid.uuid4().hex[:8]}"
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = time.time() + 4.0  # both processes import Rasa first
    processes = [
        context.Process(target=_replica, args=(kind, redis, prefix, start, rounds, period, hold, results))
        for _ in range(2)
    ]
    began = time.monotonic()
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120 + rounds * 2) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    both = set(outcomes[0][0]) | set(outcomes[1][0])
    _cleanup(redis, prefix)
    return RaceResult("RedisLockStore (Rasa)" if kind == "rasa" else "AtomicRedisLockStore",
                      rounds, len(both), outcomes[0][1] + outcomes[1][1], time.monotonic() - began - 4.0)


def _cleanup(redis: Dict[str, str], prefix: str) -> None:
    import redis as redis_lib

    client = redis_lib.Redis(host=redis["host"], port=int(redis["port"]), db=int(redis["db"]))
    keys = list(client.scan_iter(f"*{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
