"""Acknowledge first, handle later: order per user, bounded concurrency, drain at shut-down."""

import asyncio

from bot.channels.background import BackgroundWorker


async def test_one_users_messages_are_handled_in_order_others_in_parallel():
    worker = BackgroundWorker("test", concurrency=8)
    log = []
    running = {"now": 0, "max": 0}

    def job(user, number, delay):
        async def run():
            running["now"] += 1
            running["max"] = max(running["max"], running["now"])
            await asyncio.sleep(delay)
            log.append((user, number))
            running["now"] -= 1
        return run

    for number, delay in enumerate([0.05, 0.01, 0.03, 0.0]):
        worker.submit("alice", job("alice", number, delay))
        worker.submit("bob", job("bob", number, delay / 2))
    await worker.drain()
    assert [n for u, n in log if u == "alice"] == [0, 1, 2, 3]
    assert [n for u, n in log if u == "bob"] == [0, 1, 2, 3]
    assert running["max"] == 2  # one per user at a time, the two users together
    assert worker.pending == 0 and not worker._user_locks


async def test_concurrency_is_bounded_and_a_failure_does_not_stop_the_rest(caplog):
    worker = BackgroundWorker("test", concurrency=3, max_pending=100)
    running = {"now": 0, "max": 0}
    done = []

    def job(i):
        async def run():
            running["now"] += 1
            running["max"] = max(running["max"], running["now"])
            await asyncio.sleep(0.01)
            running["now"] -= 1
            if i == 4:
                raise RuntimeError("boom")
            done.append(i)
        return run

    for i in range(12):
        worker.submit(f"user-{i}", job(i))
    await worker.drain()
    assert running["max"] == 3 and sorted(done) == [i for i in range(12) if i != 4]
    assert "boom" in caplog.text


async def test_room_and_drain_with_timeout():
    worker = BackgroundWorker("test", max_pending=2)
    started = asyncio.Event()

    async def slow():
        started.set()
        await asyncio.sleep(30)

    worker.submit("a", slow)
    worker.submit("b", slow)
    assert not worker.has_room()
    await started.wait()
    await worker.drain(timeout=0.1)  # the rest is cancelled
    await asyncio.sleep(0)
    assert worker.pending == 0 and worker.has_room()
