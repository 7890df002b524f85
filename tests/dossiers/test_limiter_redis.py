"""The failed-verification limit on Redis (REDIS_URL): shared by replicas, survives restarts."""

import uuid

import pytest

from bot.dossiers.importer import import_text
from bot.dossiers.limiter import RedisFailureLimiter, build_limiter
from bot.dossiers.service import DossierService
from tests.dossiers.conftest import REDIS_TEST_URL, csv_text, make_settings, row, unavailable

CODE = "000.00.22.H39-261118-0007"


@pytest.fixture
async def redis_prefix():
    import redis.asyncio as redis_asyncio

    client = redis_asyncio.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as error:  # noqa: BLE001
        await client.close()
        unavailable("Redis", error)
    prefix = f"test:verify:{uuid.uuid4().hex}:"
    yield prefix
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.close()


def limiter(prefix, clock, max_failures=5, window=3600):
    import redis.asyncio as redis_asyncio

    return RedisFailureLimiter(redis_asyncio.from_url(REDIS_TEST_URL), max_failures, window,
                               clock, prefix=prefix)


async def test_redis_limit_survives_a_restart_until_the_window_passes(
        db_url, engine, clock, redis_prefix):
    settings = make_settings(db_url, redis_url=REDIS_TEST_URL)
    first = DossierService(engine, settings, limiter(redis_prefix, clock), clock)
    assert not (await import_text(first, csv_text(row()))).errors
    for _ in range(5):
        assert (await first.lookup(CODE, "1111", "conv-a")).state == "not_found"
        clock.advance(seconds=10)
    assert (await first.lookup(CODE, "5678", "conv-a")).state == "locked"
    await first.close()

    second = DossierService(engine, settings, limiter(redis_prefix, clock), clock)  # a new replica
    try:
        assert (await second.lookup(CODE, "5678", "conv-b")).state == "locked"
        result = await second.lookup(CODE, "5678", "conv-b")
        assert result.retry_after_seconds == 3600 - 50
        clock.advance(seconds=3600 - 50 + 1)
        assert (await second.lookup(CODE, "5678", "conv-b")).state == "processing"
    finally:
        await second.close()


async def test_redis_limit_per_conversation(clock, redis_prefix):
    redis_limiter = limiter(redis_prefix, clock, max_failures=2, window=60)
    try:
        keys = [("conversation", "c1"), ("code", "A")]
        assert await redis_limiter.retry_after(keys) is None
        await redis_limiter.record_failure(keys)
        await redis_limiter.record_failure([("conversation", "c1"), ("code", "B")])
        assert await redis_limiter.retry_after([("conversation", "c1"), ("code", "C")]) == 60
        assert await redis_limiter.retry_after([("conversation", "c2"), ("code", "A")]) is None
        clock.advance(seconds=61)
        assert await redis_limiter.retry_after(keys) is None
    finally:
        await redis_limiter.close()


def test_build_limiter_picks_redis_when_configured(dossier_sqlite_url):
    settings = make_settings(dossier_sqlite_url, redis_url="redis://127.0.0.1:6379/15")
    chosen = build_limiter(engine=None, settings=settings)
    assert isinstance(chosen, RedisFailureLimiter)
