"""The conversation lock between replicas (real Redis): the race of Rasa's RedisLockStore, measured,
and the atomic lock store that replaces it (mutual exclusion, arrival order, dead holders, Redis down)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from tests.integration import harness as h
from tests.integration.lockrace import measure

pytestmark = [pytest.mark.integration]


def _store(prefix: str, port=None, **options):
    from rasa.utils.endpoints import EndpointConfig

    from bot.resilience.lock_store import AtomicRedisLockStore

    redis = h.redis_parts()
    return AtomicRedisLockStore(EndpointConfig(url=redis["host"], port=str(port or redis["port"]), db=redis["db"],
                                               key_prefix=prefix, **options))


def test_two_replicas_never_hold_one_conversation_at_once():
    h.need_services("redis")
    ours = measure("atomic", h.redis_parts(), rounds=30)
    rasa = measure("rasa", h.redis_parts(), rounds=30)
    print("\n" + ours.line() + "\n" + rasa.line())  # the finding in deploy/README.md
    assert ours.overlaps == 0 and ours.errors == 0


def test_lock_serves_one_conversation_in_arrival_order():
    h.need_services("redis")
    prefix = f"order{uuid.uuid4().hex[:8]}"
    replicas = [_store(prefix), _store(prefix)]  # two instances, as two processes would have
    entered = []
    inside = 0

    async def message(number: int):
        nonlocal inside
        await asyncio.sleep(number * 0.002)  # messages arrive while earlier ones are inside
        async with replicas[number % 2].lock("citizen") as ticket:
            inside += 1
            assert inside == 1
            entered.append(ticket)
            await asyncio.sleep(0.01)
            inside -= 1

    async def main():
        await asyncio.gather(*(message(n) for n in range(20)))

    asyncio.run(main())
    # First come (the ticket Redis issued on arrival), first served, on both replicas; the
    # tickets themselves say the arrival order, so a busy machine cannot make this flaky.
    assert len(entered) == 20 and entered == sorted(entered)


def test_a_dead_holder_does_not_block_forever():
    h.need_services("redis")
    prefix = f"dead{uuid.uuid4().hex[:8]}"
    crashed, alive = _store(prefix, lock_lifetime="1"), _store(prefix)

    async def main():
        holder = crashed.lock("citizen")
        await holder.__aenter__()  # never released: the replica "crashed"
        started = time.monotonic()
        async with alive.lock("citizen"):
            return time.monotonic() - started

    waited = asyncio.run(main())
    assert 0.5 < waited < 3


def test_redis_down_fails_fast():
    from bot.resilience.errors import LockUnavailable

    store = _store("down", port=h.free_port())  # nothing listens there

    async def main():
        started = time.monotonic()
        with pytest.raises(LockUnavailable):
            async with store.lock("citizen"):
                pass
        return time.monotonic() - started

    assert asyncio.run(main()) < 2
