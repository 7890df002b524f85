"""A small key-value store with expiry: in memory by default, Redis when ``REDIS_URL`` is set.

The channels keep short-lived facts here: which deliveries were seen (deduplication) and which
numbered choices a user was offered. In memory, each process has its own; with Redis, every replica
sees the same keys (``SET NX EX`` makes "first to claim wins" atomic across replicas).

Redis connections open on first use, inside the running event loop, never at import.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import Callable, Optional, Tuple

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "tlvdc:channels:"


class KeyValueStore(ABC):
    """Interface: string values with a time to live (seconds)."""

    @abstractmethod
    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Set ``key`` only if it is absent; True when this call set it."""

    @abstractmethod
    async def get(self, key: str) -> Optional[str]:
        """The value of ``key``, or None when absent or expired."""

    @abstractmethod
    async def set(self, key: str, value: str, ttl: float) -> None:
        """Set ``key``, replacing any value."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    async def close(self) -> None:
        """Release connections (the store can be used again afterwards)."""


class MemoryStore(KeyValueStore):
    """One process only. Bounded: past ``max_entries`` the oldest keys go first."""

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._items: "OrderedDict[str, Tuple[str, float]]" = OrderedDict()

    def _live(self, key: str) -> Optional[str]:
        item = self._items.get(key)
        if item is None:
            return None
        value, expires = item
        if expires <= self.clock():
            del self._items[key]
            return None
        return value

    def _prune(self) -> None:
        # Keys are kept in insertion order: expired ones gather at the front.
        now = self.clock()
        while self._items:
            _, (_, expires) = next(iter(self._items.items()))
            if expires > now and len(self._items) <= self.max_entries:
                break
            self._items.popitem(last=False)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self._items[key] = (value, self.clock() + ttl)
        self._prune()
        return True

    async def get(self, key: str) -> Optional[str]:
        return self._live(key)

    async def set(self, key: str, value: str, ttl: float) -> None:
        self._items.pop(key, None)
        self._items[key] = (value, self.clock() + ttl)
        self._prune()

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)


class RedisStore(KeyValueStore):
    """Shared by every replica that uses the same Redis and prefix."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import redis.asyncio as redis_asyncio  # only needed when REDIS_URL is set

            self._client = redis_asyncio.from_url(
                self.url, socket_timeout=2.0, socket_connect_timeout=2.0, decode_responses=True
            )
        return self._client

    def _key(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _ms(ttl: float) -> int:
        return max(1, int(ttl * 1000))

    async def add(self, key: str, value: str, ttl: float) -> bool:
        return bool(await self.client.set(self._key(key), value, nx=True, px=self._ms(ttl)))

    async def get(self, key: str) -> Optional[str]:
        return await self.client.get(self._key(key))

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self.client.set(self._key(key), value, px=self._ms(ttl))

    async def delete(self, key: str) -> None:
        await self.client.delete(self._key(key))

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
            await client.connection_pool.disconnect()


def open_store(redis_url: Optional[str], prefix: str = DEFAULT_PREFIX) -> KeyValueStore:
    """Redis when a URL is given (replicas share it), else memory (one process)."""
    if redis_url:
        return RedisStore(redis_url, prefix)
    return MemoryStore()
