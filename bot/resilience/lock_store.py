"""A conversation lock shared by replicas, with atomic tickets in Redis.

Rasa's open-source ``RedisLockStore`` keeps a conversation's ticket queue as one JSON value and
updates it by GET, change in Python, SET. Two replicas that take the same conversation at the same
moment both read the empty queue, both issue ticket 0 and both believe they hold the lock: both
process a message of the conversation at once, and the SQL tracker store (which appends "the events
after the number already stored") then interleaves or drops events. Its waiters also poll once a
second. ``tests/integration/test_lock_race.py`` and ``scripts/measure_lock_race.py`` measure it.

Here every step is one Redis command or Lua script, so it is atomic:

- ``INCR <prefix>lock:<id>:seq`` issues the ticket; ``<prefix>lock:<id>:t:<n>`` (with a lifetime)
  says the ticket is alive; the sorted set ``<prefix>lock:<id>:queue`` orders the tickets;
- a ticket holds the lock when it is the first *alive* ticket of the queue (dead ones, whose holder
  crashed, are dropped when their lifetime ends);
- releasing deletes the ticket. Waiters poll every 5-50 ms, up to ``LOCK_WAIT_SECONDS``.

So messages of one conversation are handled one at a time, in arrival order, whichever replica gets
them. Redis down or slow (``REDIS_TIMEOUT_SECONDS``): :class:`LockUnavailable`, and the turn guard
answers an apology. It is also a drop-in for ``SANIC_WORKERS > 1``.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Dict, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.resilience.errors import LockUnavailable
from bot.resilience.keys import storage_key
from bot.resilience.settings import ResilienceSettings

logger = logging.getLogger(__name__)

# KEYS: seq, queue. ARGV: ticket key prefix, lifetime (ms).
# Issue a ticket and say at once whether it holds the lock (the common, uncontended case).
_ISSUE = """
local ticket = redis.call('INCR', KEYS[1])
local ttl = tonumber(ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl * 4)
redis.call('SET', ARGV[1] .. ticket, '1', 'PX', ttl)
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('PEXPIRE', KEYS[2], ttl * 4)
local mine = tostring(ticket)
while true do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if head == mine then return {ticket, 1} end
  if redis.call('EXISTS', ARGV[1] .. head) == 1 then return {ticket, 0} end
  redis.call('ZREM', KEYS[2], head)
end
"""

# KEYS: queue. ARGV: ticket key prefix, ticket. 1: holds the lock, 0: wait, -1: ticket expired.
_ACQUIRE = """
while true do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if head == nil then return -1 end
  local alive = redis.call('EXISTS', ARGV[1] .. head) == 1
  if head == ARGV[2] then
    if alive then return 1 end
    redis.call('ZREM', KEYS[1], head)
    return -1
  end
  if alive then return 0 end
  redis.call('ZREM', KEYS[1], head)
end
"""

# KEYS: queue. ARGV: ticket key prefix, ticket.
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('DEL', ARGV[1] .. ARGV[2])
return 1
"""


def _option(kwargs: Dict[str, Any], name: str, default: Any = None) -> Any:
    value = kwargs.get(name, default)
    return default if value is None or (isinstance(value, str) and not value.strip()) else value


class AtomicRedisLockStore(LockStore):
    """See the module docstring. Configured like Rasa's ``redis`` lock store (url, port, db, ...)."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        from bot.resilience.hooks import install

        install()
        options: Dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        options.update(kwargs)
        host = (endpoint_config.url if endpoint_config else None) or _option(options, "host", "localhost")
        self.settings = ResilienceSettings()
        self._redis_options = dict(
            host=host,
            port=int(_option(options, "port", 6379)),
            db=int(_option(options, "db", 1)),
            username=_option(options, "username"),
            password=_option(options, "password"),
            ssl=str(_option(options, "use_ssl", False)).lower() in ("1", "true", "yes"),
        )
        prefix = _option(options, "key_prefix")
        self.key_prefix = (f"{prefix}:" if prefix else "") + "lock:"
        # A ticket outlives the longest turn (the turn guard ends a turn at TURN_TIMEOUT_SECONDS).
        self.lifetime = float(_option(options, "lock_lifetime", self.settings.turn_timeout + 5))
        self._clients: Dict[int, Any] = {}
        self._scripts: Dict[int, Any] = {}
        super().__init__()

    # Rasa's ticket-lock internals are not used: everything goes through `lock`.
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return None

    def delete_lock(self, conversation_id: Text) -> None:
        return None

    def save_lock(self, lock: TicketLock) -> None:
        return None

    def _client(self):
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        loop_id = id(asyncio.get_running_loop())
        if loop_id not in self._clients:
            client = aioredis.Redis(
                **self._redis_options,
                socket_timeout=self.settings.redis_timeout,
                socket_connect_timeout=self.settings.redis_timeout,
                retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError],
            )
            self._clients = {loop_id: client}
            self._scripts = {
                loop_id: (
                    client.register_script(_ISSUE),
                    client.register_script(_ACQUIRE),
                    client.register_script(_RELEASE),
                )
            }
        return self._clients[loop_id], self._scripts[loop_id]

    def _keys(self, conversation_id: Text):
        base = f"{self.key_prefix}{storage_key(conversation_id)}"
        return f"{base}:seq", f"{base}:queue", f"{base}:t:"

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: Optional[float] = None,
        wait_time_in_seconds: float = 0.05,
    ) -> AsyncGenerator[int, None]:
        """Hold the conversation's lock for the body; raise LockUnavailable if it cannot be had."""
        seq, queue, ticket_prefix = self._keys(conversation_id)
        lifetime_ms = int(1000 * self.lifetime)
        try:
            _client, (issue, acquire, release) = self._client()
            ticket, holds = await issue(keys=[seq, queue], args=[ticket_prefix, lifetime_ms])
        except Exception as error:  # noqa: BLE001 - Redis down or slow
            raise LockUnavailable(f"lock store unavailable: {type(error).__name__}: {error}") from error
        try:
            if not holds:
                await self._wait(acquire, queue, ticket_prefix, ticket, conversation_id)
            yield ticket
        finally:
            try:
                await release(keys=[queue], args=[ticket_prefix, ticket])
            except Exception as error:  # noqa: BLE001 - it expires by itself
                logger.warning("lock of %s not released (%s); it expires in %.0f s",
                               conversation_id, type(error).__name__, self.lifetime)

    async def _wait(self, acquire, queue: str, ticket_prefix: str, ticket: int, conversation_id: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.lock_wait
        pause = 0.005
        while True:
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)
            try:
                state = await acquire(keys=[queue], args=[ticket_prefix, ticket])
            except Exception as error:  # noqa: BLE001
                raise LockUnavailable(f"lock store unavailable: {type(error).__name__}") from error
            if state == 1:
                return
            if state == -1:
                raise LockUnavailable(f"lock ticket of {conversation_id} expired while waiting")
            if loop.time() > deadline:
                raise LockUnavailable(
                    f"conversation {conversation_id} busy for more than {self.settings.lock_wait:.0f} s"
                )
