"""Events the database could not take yet, kept until they can be written in order.

A batch is the events of one turn (or of one recorded message), in order, with the time it was
made. Batches live in Redis when it answers (shared by every replica, survives a restart of this
one) and in this process's memory otherwise; :meth:`Outbox.take` returns both, oldest first.

Redis layout (``<prefix>`` is the key prefix of the tracker store):
``<prefix>outbox:<storage key>`` a list of JSON batches; ``<prefix>outbox:pending`` the set of
storage keys that have batches.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

logger = logging.getLogger(__name__)

# Remove the first n batches of a list; forget the key when the list is empty.
_TRIM = """
redis.call('LTRIM', KEYS[1], tonumber(ARGV[1]), -1)
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[2])
end
return 1
"""


@dataclass
class Batch:
    sender_id: str
    created: float
    events: List[Dict[str, Any]]

    def dumps(self) -> str:
        return json.dumps({"sender_id": self.sender_id, "t": self.created, "events": self.events})

    @classmethod
    def loads(cls, raw: Any) -> "Batch":
        data = json.loads(raw)
        return cls(data["sender_id"], float(data["t"]), list(data["events"]))


@dataclass
class Taken:
    """Batches read for one key; :meth:`Outbox.commit` removes exactly these."""

    key: str
    batches: List[Batch]
    from_redis: int
    from_memory: int

    @property
    def events(self) -> List[Dict[str, Any]]:
        return [event for batch in self.batches for event in batch.events]


class Outbox:
    def __init__(self, redis_client_factory=None, key_prefix: str = "", memory_limit: int = 100_000) -> None:
        self._redis_factory = redis_client_factory  # () -> redis.asyncio.Redis, or None
        self._prefix = key_prefix
        self._memory: "OrderedDict[str, List[Batch]]" = OrderedDict()
        self._memory_events = 0
        self._memory_limit = memory_limit
        self._trim = None

    def _list_key(self, key: str) -> str:
        return f"{self._prefix}outbox:{key}"

    @property
    def _pending_key(self) -> str:
        return f"{self._prefix}outbox:pending"

    def _redis(self):
        return self._redis_factory() if self._redis_factory is not None else None

    async def push(self, key: str, batch: Batch) -> str:
        """Keep a batch (never raises); returns where it went: "redis" or "memory"."""
        client = self._redis()
        if client is not None:
            try:
                async with client.pipeline(transaction=True) as pipe:
                    pipe.rpush(self._list_key(key), batch.dumps())
                    pipe.sadd(self._pending_key, key)
                    await pipe.execute()
                return "redis"
            except Exception as error:  # noqa: BLE001 - Redis unavailable: keep it here
                logger.warning("outbox: Redis unavailable (%s); keeping %d events in memory",
                               type(error).__name__, len(batch.events))
        self._memory.setdefault(key, []).append(batch)
        self._memory_events += len(batch.events)
        while self._memory_events > self._memory_limit and self._memory:
            dropped_key, dropped = self._memory.popitem(last=False)
            count = sum(len(b.events) for b in dropped)
            self._memory_events -= count
            logger.error("outbox: memory limit reached; dropped %d events of %s", count, dropped_key)
        return "memory"

    async def has_pending(self, key: str) -> bool:
        if self._memory.get(key):
            return True
        client = self._redis()
        if client is None:
            return False
        try:
            return bool(await client.sismember(self._pending_key, key))
        except Exception as error:  # noqa: BLE001 - cannot know: go on (the lock needs Redis anyway)
            logger.warning("outbox: cannot check pending events (%s)", type(error).__name__)
            return False

    async def pending_keys(self) -> List[str]:
        keys = [key for key, batches in self._memory.items() if batches]
        client = self._redis()
        if client is not None:
            try:
                members = await client.smembers(self._pending_key)
                keys += [m.decode() if isinstance(m, bytes) else m for m in members]
            except Exception:  # noqa: BLE001
                pass
        return list(dict.fromkeys(keys))

    async def take(self, key: str) -> Optional[Taken]:
        """The key's batches, oldest first (None if there are none).

        With Redis unreachable only this process's batches are returned (the lock, which is in the
        same Redis, keeps the conversation from going on meanwhile)."""
        redis_batches: List[Batch] = []
        client = self._redis()
        if client is not None:
            try:
                raw = []
                if await client.sismember(self._pending_key, key):
                    raw = await client.lrange(self._list_key(key), 0, -1)
            except Exception as error:  # noqa: BLE001
                logger.warning("outbox: cannot read pending events (%s)", type(error).__name__)
                raw = []
            for item in raw:
                try:
                    redis_batches.append(Batch.loads(item))
                except (ValueError, KeyError, TypeError):
                    logger.error("outbox: unreadable batch for %s dropped", key)
                    redis_batches.append(Batch("", 0.0, []))
        memory_batches = list(self._memory.get(key, []))
        if not redis_batches and not memory_batches:
            return None
        batches = sorted(redis_batches + memory_batches, key=lambda batch: batch.created)
        return Taken(key, batches, len(redis_batches), len(memory_batches))

    async def commit(self, taken: Taken) -> None:
        """Forget the batches of ``taken`` (they are in the database now)."""
        if taken.from_memory:
            kept = self._memory.get(taken.key, [])
            left = kept[taken.from_memory:]
            self._memory_events -= sum(len(b.events) for b in kept[: taken.from_memory])
            if left:
                self._memory[taken.key] = left
            else:
                self._memory.pop(taken.key, None)
        if taken.from_redis:
            client = self._redis()
            for attempt in range(3):
                try:
                    await client.eval(_TRIM, 2, self._list_key(taken.key), self._pending_key,
                                      taken.from_redis, taken.key)
                    return
                except Exception as error:  # noqa: BLE001
                    logger.warning("outbox: trim failed (%s), attempt %d", type(error).__name__, attempt + 1)
            logger.error("outbox: could not forget %d flushed batches of %s; they may be written twice",
                         taken.from_redis, taken.key)


def batch_now(sender_id: str, events: List[Dict[str, Any]]) -> Batch:
    return Batch(str(sender_id), time.time(), events)
