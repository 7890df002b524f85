"""The shared store and deduplication, in memory and in Redis (two stores = two replicas)."""

import asyncio
import uuid

import pytest

from bot.channels.dedup import Deduplicator
from bot.channels.store import MemoryStore, RedisStore, open_store


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


async def test_memory_store_expiry_and_bounds():
    clock = Clock()
    store = MemoryStore(max_entries=3, clock=clock)
    assert await store.add("a", "1", ttl=10)
    assert not await store.add("a", "2", ttl=10)
    assert await store.get("a") == "1"
    clock.now = 11
    assert await store.get("a") is None
    assert await store.add("a", "3", ttl=10)
    for key in "bcd":
        await store.set(key, key, ttl=100)
    assert await store.get("a") is None  # the oldest went first
    assert [await store.get(k) for k in "bcd"] == ["b", "c", "d"]
    await store.delete("b")
    assert await store.get("b") is None


def test_open_store_picks_redis_only_with_a_url():
    assert isinstance(open_store(None), MemoryStore) and isinstance(open_store(""), MemoryStore)
    store = open_store("redis://127.0.0.1:6379/15")
    assert isinstance(store, RedisStore) and store._client is None  # nothing opened yet


async def test_dedup_in_memory():
    dedup = Deduplicator(MemoryStore(), "zalo")
    results = await asyncio.gather(*[dedup.first_delivery("m1") for _ in range(5)])
    assert sorted(results) == [False, False, False, False, True]
    assert await dedup.first_delivery("m2")


class Broken(MemoryStore):
    async def add(self, key, value, ttl):
        raise ConnectionError("down")


async def test_dedup_fails_open_when_the_store_is_down(caplog):
    assert await Deduplicator(Broken(), "zalo").first_delivery("m1")
    assert "dedup store unavailable" in caplog.text


async def test_dedup_across_replicas_in_redis(redis_url):
    prefix = f"test:{uuid.uuid4().hex}:"
    replicas = [Deduplicator(RedisStore(redis_url, prefix), "zalo", ttl_seconds=30) for _ in range(2)]
    try:
        results = await asyncio.gather(*[replicas[i % 2].first_delivery("msg-1") for i in range(10)])
        assert results.count(True) == 1
        assert await replicas[1].first_delivery("msg-2")
        assert not await replicas[0].first_delivery("msg-2")
        ttl = await replicas[0].store.client.pttl(prefix + "zalo:seen:msg-1")
        assert 0 < ttl <= 30_000
    finally:
        for replica in replicas:
            await replica.store.client.delete(prefix + "zalo:seen:msg-1", prefix + "zalo:seen:msg-2")
            await replica.close()
