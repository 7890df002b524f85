"""Failed-verification limits, shared by every replica and surviving restarts.

A failure is counted under several keys at once (the conversation, the dossier code); a lookup is
refused while any key has ``max_failures`` failures within the sliding window, even with the right
digits. Keys are stored as SHA-256 hashes. Storage: the ``verification_failures`` table, or Redis
sorted sets when ``REDIS_URL`` is set.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, List, Optional, Protocol, Sequence, Tuple

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.dossiers.tables import verification_failures

Clock = Callable[[], datetime]
Key = Tuple[str, str]  # (scope, value), e.g. ("conversation", sender_id), ("code", code)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def key_hash(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\x1f{value}".encode("utf-8")).hexdigest()


def _retry_after(times: Sequence[datetime], max_failures: int, window: timedelta,
                 now: datetime) -> int:
    """Seconds until fewer than ``max_failures`` of these (sorted) failure times are in the window."""
    freeing = times[len(times) - max_failures]
    return max(1, math.ceil((freeing + window - now).total_seconds()))


class FailureLimiter(Protocol):
    max_failures: int
    window_seconds: int

    async def retry_after(self, keys: Iterable[Key], conn=None) -> Optional[int]:
        """Seconds to wait if any key is locked, else None (``conn``: an open connection to use)."""

    async def record_failure(self, keys: Iterable[Key]) -> None:
        """Count one failed verification under every key."""

    async def close(self) -> None:
        """Release connections."""


class SqlFailureLimiter:
    """Failures as rows of ``verification_failures`` (SQLite or PostgreSQL)."""

    _PURGE_EVERY = 200

    def __init__(self, engine: AsyncEngine, max_failures: int, window_seconds: int,
                 clock: Clock = utcnow) -> None:
        self.engine = engine
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.clock = clock
        self._writes = itertools.count(1)

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)

    async def retry_after(self, keys: Iterable[Key], conn: Optional[AsyncConnection] = None
                          ) -> Optional[int]:
        if conn is None:
            async with self.engine.connect() as own:
                return await self.retry_after(keys, own)
        hashes = [key_hash(scope, value) for scope, value in keys]
        now = self.clock()
        since = now - self.window
        t = verification_failures.c
        counts = await conn.execute(
            select(t.key_hash, func.count())
            .where(t.key_hash.in_(hashes), t.failed_at > since)
            .group_by(t.key_hash)
        )
        locked = [row[0] for row in counts if row[1] >= self.max_failures]
        if not locked:
            return None
        waits = []
        for locked_hash in locked:
            rows = await conn.execute(
                select(t.failed_at)
                .where(t.key_hash == locked_hash, t.failed_at > since)
                .order_by(t.failed_at)
            )
            times = [row[0] for row in rows]
            waits.append(_retry_after(times, self.max_failures, self.window, now))
        return max(waits)

    async def record_failure(self, keys: Iterable[Key]) -> None:
        hashes = [key_hash(scope, value) for scope, value in keys]
        now = self.clock()
        t = verification_failures.c
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(verification_failures), [{"key_hash": h, "failed_at": now} for h in hashes]
            )
            # Housekeeping: forget expired failures of these keys, and now and then of all keys.
            expired = now - self.window
            await conn.execute(
                delete(verification_failures).where(
                    t.key_hash.in_(hashes), t.failed_at <= expired
                )
            )
            if next(self._writes) % self._PURGE_EVERY == 0:
                await conn.execute(
                    delete(verification_failures).where(t.failed_at <= bindparam("expired")),
                    {"expired": expired},
                )

    async def close(self) -> None:
        return None


class RedisFailureLimiter:
    """Failures as members of one Redis sorted set per key (score: epoch seconds)."""

    def __init__(self, client, max_failures: int, window_seconds: int, clock: Clock = utcnow,
                 prefix: str = "bot:verify-failures:") -> None:
        self.client = client
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.clock = clock
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, max_failures: int, window_seconds: int,
                 clock: Clock = utcnow) -> "RedisFailureLimiter":
        import redis.asyncio as redis_asyncio  # only needed when REDIS_URL is set

        return cls(redis_asyncio.from_url(url), max_failures, window_seconds, clock)

    def _key(self, scope: str, value: str) -> str:
        return self.prefix + key_hash(scope, value)

    async def retry_after(self, keys: Iterable[Key], conn=None) -> Optional[int]:
        now = self.clock()
        since = now.timestamp() - self.window_seconds
        redis_keys = [self._key(scope, value) for scope, value in keys]
        async with self.client.pipeline(transaction=False) as pipe:
            for key in redis_keys:
                pipe.zrangebyscore(key, f"({since}", "+inf", withscores=True)
            results: List[list] = await pipe.execute()
        waits = []
        window = timedelta(seconds=self.window_seconds)
        for members in results:
            if len(members) >= self.max_failures:
                times = sorted(datetime.fromtimestamp(score, timezone.utc) for _, score in members)
                waits.append(_retry_after(times, self.max_failures, window, now))
        return max(waits) if waits else None

    async def record_failure(self, keys: Iterable[Key]) -> None:
        now_ts = self.clock().timestamp()
        async with self.client.pipeline(transaction=True) as pipe:
            for scope, value in keys:
                key = self._key(scope, value)
                pipe.zadd(key, {uuid.uuid4().hex: now_ts})
                pipe.zremrangebyscore(key, "-inf", now_ts - self.window_seconds)
                pipe.expire(key, self.window_seconds + 60)
            await pipe.execute()

    async def close(self) -> None:
        await self.client.close()


def build_limiter(engine: AsyncEngine, settings, clock: Clock = utcnow) -> FailureLimiter:
    """Redis when ``settings.redis_url`` is set, else the database table."""
    if settings.redis_url:
        return RedisFailureLimiter.from_url(
            settings.redis_url, settings.verify_max_failures, settings.verify_window_seconds, clock
        )
    return SqlFailureLimiter(
        engine, settings.verify_max_failures, settings.verify_window_seconds, clock
    )
