"""SQL tracker store that does not block the server, fails fast, and loses no event.

Compared with Rasa's ``SQLTrackerStore`` (same ``events`` table, same rows, so either can read what
the other wrote):

- every database call runs in a small thread pool, bounded by ``TRACKER_STORE_TIMEOUT_SECONDS``
  (Rasa's store calls the database synchronously on the event loop: one slow query stalls every
  conversation of the process);
- a read that fails or times out raises :class:`StoreUnavailable`; the turn guard answers an apology
  and records the message (Rasa's fail-safe wrapper instead starts an empty conversation in memory,
  which loses the context and, after the database comes back, the messages);
- a write that fails goes to the :class:`~bot.resilience.outbox.Outbox` (Redis, else memory) and is
  written, before anything newer, when the conversation is read again or by the background flusher;
- the store remembers how many events it read, so a turn costs one SELECT and one multi-row INSERT
  (Rasa's store also counts the rows, and with an event broker re-reads the whole conversation to
  find the new events);
- starting does not wait for the database (Rasa's store loops until it answers, before the HTTP
  server listens): tables are created on first use;
- conversation ids a column cannot hold (over 200 characters, NUL) are stored under a digest.

Configured in ``endpoints.production.yml``; ``redis_*`` options give the outbox its shared Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Iterable, List, Optional, Text

import sqlalchemy as sa
import sqlalchemy.exc
from rasa.core.brokers.broker import EventBroker
from rasa.core.constants import POSTGRESQL_SCHEMA
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.resilience.errors import StoreUnavailable
from bot.resilience.keys import storage_key
from bot.resilience.outbox import Outbox, Taken, batch_now
from bot.resilience.settings import ResilienceSettings
from bot.resilience.turn import current_turn

logger = logging.getLogger(__name__)

# Attribute set on trackers this store read: how many of their events are already stored.
_STORED = "_bot_stored_events"


def is_transient(error: BaseException) -> bool:
    """Whether a database error means "unavailable, try later" (not "this data is wrong")."""
    if isinstance(error, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                          sqlalchemy.exc.TimeoutError, sqlalchemy.exc.DisconnectionError,
                          OSError, TimeoutError, asyncio.TimeoutError, StoreUnavailable)):
        return True
    return isinstance(error, sqlalchemy.exc.DBAPIError) and bool(error.connection_invalidated)


def _blank(value: Any) -> Optional[Any]:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _row(key: str, data: Dict[str, Any]) -> Dict[str, Any]:
    intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name")
    action = data.get("name")
    return {
        "sender_id": key,
        "type_name": str(data.get("event"))[:255],
        "timestamp": data.get("timestamp"),
        "intent_name": str(intent)[:255] if intent is not None else None,
        "action_name": str(action)[:255] if action is not None else None,
        "data": json.dumps(data),
    }


class ResilientSQLTrackerStore(SQLTrackerStore):
    """See the module docstring."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        dialect: Text = "postgresql",
        host: Optional[Text] = None,
        port: Optional[Any] = None,
        db: Text = "rasa",
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        login_db: Optional[Text] = None,
        query: Optional[Dict] = None,
        redis_host: Optional[Text] = None,
        redis_port: Any = 6379,
        redis_db: Any = 0,
        redis_username: Optional[Text] = None,
        redis_password: Optional[Text] = None,
        redis_use_ssl: Any = False,
        key_prefix: Optional[Text] = None,
        pool_size: Any = None,
        **kwargs: Any,
    ) -> None:
        from bot.resilience.hooks import install

        install()
        self.settings = ResilienceSettings()
        port = _blank(port)
        engine_url = self.get_db_url(
            dialect, _blank(host), int(port) if port is not None else None, db,
            _blank(username), _blank(password), _blank(login_db), query,
        )
        self._db_name = db
        self._login_db = _blank(login_db)
        size = int(_blank(pool_size) or os.environ.get("SQL_POOL_SIZE") or 8)
        engine_kwargs: Dict[str, Any] = {"pool_pre_ping": True, "future": True}
        if self._is_postgres(engine_url):
            timeout_ms = int(self.settings.store_timeout * 1000)
            options = f"-c statement_timeout={timeout_ms}"
            schema = os.environ.get(POSTGRESQL_SCHEMA)
            if schema:
                options += f" -c search_path={schema}"
            engine_kwargs.update(
                pool_size=size,
                max_overflow=int(os.environ.get("SQL_MAX_OVERFLOW") or size),
                pool_timeout=self.settings.store_timeout,
                connect_args={
                    "connect_timeout": max(1, math.ceil(self.settings.store_timeout)),
                    "options": options,
                    "application_name": "rasa-tracker-store",
                    "keepalives": 1,
                    "keepalives_idle": 10,
                    "keepalives_interval": 5,
                    "keepalives_count": 3,
                },
            )
        self._engine_url = engine_url
        self._engine_kwargs = engine_kwargs
        self.engine = sa.create_engine(engine_url, **engine_kwargs)
        self._table = self.SQLEvent.__table__
        self._ready = False
        self._ready_lock = threading.Lock()
        # Database calls run here; at most `size` at once, the rest fail fast (see _submit).
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="tracker-store")
        self._slots: Optional[asyncio.Semaphore] = None
        self._size = size
        self._inflight: Dict[str, asyncio.Task] = {}
        self._flusher: Optional[asyncio.Task] = None
        self._lock_store = None
        self._redis_options = None
        if _blank(redis_host):
            self._redis_options = dict(
                host=redis_host, port=int(_blank(redis_port) or 6379), db=int(_blank(redis_db) or 0),
                username=_blank(redis_username), password=_blank(redis_password),
                ssl=str(redis_use_ssl).lower() in ("1", "true", "yes"),
            )
        self._redis_clients: Dict[int, Any] = {}
        self.outbox = Outbox(self._redis_client if self._redis_options else None,
                             key_prefix=f"{key_prefix}:" if _blank(key_prefix) else "",
                             memory_limit=self.settings.memory_outbox_limit)
        TrackerStore.__init__(self, domain, event_broker, **kwargs)
        logger.info("resilient SQL tracker store on %r (outbox: %s)", self.engine.url,
                    "Redis" if self._redis_options else "memory")

    # ----------------------------------------------------------------------------------- plumbing

    @staticmethod
    def _is_postgres(url: Any) -> bool:
        return (url if isinstance(url, str) else url.drivername).startswith("postgres")

    def _redis_client(self):
        """One asyncio Redis client per event loop (Sanic workers are separate processes)."""
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        loop = asyncio.get_running_loop()
        client = self._redis_clients.get(id(loop))
        if client is None:
            client = aioredis.Redis(
                **self._redis_options,
                socket_timeout=self.settings.redis_timeout,
                socket_connect_timeout=self.settings.redis_timeout,
                retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError],
            )
            self._redis_clients = {id(loop): client}
        return client

    def _ensure_ready(self) -> None:
        """Create the database (with ``login_db``) and the table on first use (in a worker thread)."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            if self._login_db and self._is_postgres(self._engine_url):
                self._create_database_if_missing()
                self.engine.dispose()
                self.engine = sa.create_engine(
                    sa.engine.make_url(self._engine_url).set(database=self._db_name),
                    **self._engine_kwargs,
                )
            try:
                self.Base.metadata.create_all(self.engine)
            except sqlalchemy.exc.ProgrammingError as error:  # created by a replica meanwhile
                logger.info("events table: %s", error)
            except sqlalchemy.exc.IntegrityError as error:
                logger.info("events table: %s", error)
            self._ready = True

    def _create_database_if_missing(self) -> None:
        name = self._db_name
        with self.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            found = connection.execute(
                sa.text("SELECT 1 FROM pg_catalog.pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not found:
                try:
                    connection.execute(sa.text('CREATE DATABASE "%s"' % name.replace('"', '""')))
                except (sqlalchemy.exc.ProgrammingError, sqlalchemy.exc.IntegrityError) as error:
                    logger.info("database %s: %s", name, error)  # a replica created it meanwhile

    async def _submit(self, fn, *args) -> asyncio.Future:
        """Run ``fn`` in the pool; fail fast when every database thread is busy."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.settings.store_timeout)
        except asyncio.TimeoutError:
            raise StoreUnavailable("every database connection is busy") from None
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, fn, *args)
        future.add_done_callback(lambda _f: self._slots.release())
        return future

    async def _settle(self, key: str) -> None:
        """Wait for this process's earlier write of the conversation (order), within the timeout."""
        task = self._inflight.get(key)
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), self.settings.store_timeout)
        except asyncio.TimeoutError:
            raise StoreUnavailable("an earlier write of this conversation is still running") from None

    def _track(self, key: str, task: asyncio.Task) -> None:
        self._inflight[key] = task

        def forget(done: asyncio.Task) -> None:
            if self._inflight.get(key) is done:
                del self._inflight[key]

        task.add_done_callback(forget)

    def _publish(self, sender_id: str, events: List[Dict[str, Any]]) -> None:
        if self.event_broker is None:
            return
        for data in events:
            try:
                self.event_broker.publish({"sender_id": sender_id, **data})
            except Exception:  # noqa: BLE001 - analytics must not break a conversation
                logger.exception("event broker: publish failed")

    # ---------------------------------------------------------------------------- database calls

    def _session_start(self, key: str):
        table = self._table
        return (
            sa.select(sa.func.max(table.c.timestamp))
            .where(table.c.sender_id == key, table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )

    def _select_events(self, key: str, all_sessions: bool) -> List[str]:
        self._ensure_ready()
        table = self._table
        query = sa.select(table.c.data).where(table.c.sender_id == key)
        if not all_sessions:
            start = self._session_start(key)
            query = query.where(sa.or_(table.c.timestamp >= start, start.is_(None)))
        with self.engine.connect() as connection:
            return [row[0] for row in connection.execute(query.order_by(table.c.id))]

    def _insert(self, rows: List[Dict[str, Any]]) -> None:
        self._ensure_ready()
        if rows:
            with self.engine.begin() as connection:
                connection.execute(self._table.insert(), rows)

    def _insert_after_count(self, key: str, events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Rasa's own rule, for trackers this store did not read: skip as many as are stored."""
        self._ensure_ready()
        table = self._table
        start = self._session_start(key)
        count = (
            sa.select(sa.func.count())
            .select_from(table)
            .where(table.c.sender_id == key, sa.or_(table.c.timestamp >= start, start.is_(None)))
        )
        with self.engine.begin() as connection:
            stored = connection.execute(count).scalar() or 0
            new = events[stored:]
            if new:
                connection.execute(self._table.insert(), [_row(key, data) for data in new])
        return new

    def _distinct_keys(self) -> List[str]:
        self._ensure_ready()
        with self.engine.connect() as connection:
            return [row[0] for row in connection.execute(sa.select(self._table.c.sender_id).distinct())]

    async def _run(self, fn, *args):
        """Run a database call and wait for it (reads), mapping failures to StoreUnavailable."""
        future = await self._submit(fn, *args)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.settings.store_timeout)
        except asyncio.TimeoutError:
            raise StoreUnavailable("the database did not answer in time") from None
        except Exception as error:  # noqa: BLE001
            if is_transient(error):
                raise StoreUnavailable(f"database unavailable: {type(error).__name__}") from error
            raise

    # ------------------------------------------------------------------------------------ writes

    async def _write(self, key: str, sender_id: str, events: List[Dict[str, Any]]) -> None:
        """Insert the events; if the database cannot take them now, outbox them (never raises)."""
        try:
            await self._settle(key)
            future = await self._submit(self._insert, [_row(key, data) for data in events])
        except StoreUnavailable as error:
            logger.warning("tracker store: %s; %d events of %s kept for later", error, len(events), key)
            await self.outbox.push(key, batch_now(sender_id, events))
            return
        task = asyncio.ensure_future(self._finish_write(key, sender_id, events, future))
        self._track(key, task)
        try:
            await asyncio.wait_for(asyncio.shield(task), self.settings.store_timeout)
        except asyncio.TimeoutError:
            logger.warning("tracker store: write of %s still running; it finishes in the background", key)

    async def _finish_write(self, key: str, sender_id: str, events, future) -> None:
        try:
            await future
        except Exception as error:  # noqa: BLE001
            if is_transient(error):
                logger.warning("tracker store: write failed (%s); %d events of %s kept for later",
                               type(error).__name__, len(events), key)
                await self.outbox.push(key, batch_now(sender_id, events))
            else:
                self._dead_letter(key, events, error)

    def _dead_letter(self, key: str, events, error: BaseException) -> None:
        logger.error("tracker store: %d events of %s rejected by the database (%s: %s): %s",
                     len(events), key, type(error).__name__, error, json.dumps(events)[:2000])

    async def _flush(self, key: str) -> None:
        """Write the conversation's outboxed events (caller holds its lock); raise if it cannot."""
        if not await self.outbox.has_pending(key):
            return
        taken = await self.outbox.take(key)
        if taken is None:
            return
        await self._settle(key)
        future = await self._submit(self._insert, [_row(key, data) for data in taken.events])
        task = asyncio.ensure_future(self._finish_flush(taken, future))
        self._track(key, task)
        try:
            flushed = await asyncio.wait_for(asyncio.shield(task), self.settings.store_timeout)
        except asyncio.TimeoutError:
            raise StoreUnavailable("the database did not take the pending events in time") from None
        if not flushed:
            raise StoreUnavailable("the database did not take the pending events")
        logger.info("tracker store: wrote %d pending events of %s", len(taken.events), key)

    async def _finish_flush(self, taken: Taken, future) -> bool:
        try:
            await future
        except Exception as error:  # noqa: BLE001
            if is_transient(error):
                return False
            self._dead_letter(taken.key, taken.events, error)
        await self.outbox.commit(taken)
        return True

    async def flush_pending(self, limit: int = 200) -> int:
        """Write pending events of every conversation (each under its lock); returns how many."""
        written = 0
        for key in (await self.outbox.pending_keys())[:limit]:
            taken = await self.outbox.take(key)
            if taken is None:
                continue
            sender_id = next((b.sender_id for b in taken.batches if b.sender_id), key)
            try:
                if self._lock_store is not None:
                    async with self._lock_store.lock(sender_id):
                        await self._flush(key)
                else:
                    await self._flush(key)
                written += len(taken.events)
            except Exception as error:  # noqa: BLE001 - try again next round
                logger.info("tracker store: pending events of %s not written yet (%s)", key,
                            type(error).__name__)
                break
        return written

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.flush_interval)
            try:
                await self.flush_pending()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                logger.exception("tracker store: background flush failed")

    def attach(self, lock_store) -> None:
        """Called by the turn guard: the lock store (for the flusher) and a running loop."""
        self._lock_store = lock_store
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())

    # ------------------------------------------------------------------------ TrackerStore API

    def init_tracker(self, sender_id: Text) -> DialogueStateTracker:
        tracker = super().init_tracker(sender_id)
        setattr(tracker, _STORED, 0)  # only called when the store has no event for sender_id
        return tracker

    async def keys(self) -> Iterable[Text]:
        return await self._run(self._distinct_keys)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        return await self._retrieve(sender_id, fetch_events_from_all_sessions=False)

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        return await self._retrieve(conversation_id, fetch_events_from_all_sessions=True)

    async def _retrieve(self, sender_id: Text, fetch_events_from_all_sessions: bool
                        ) -> Optional[DialogueStateTracker]:
        key = storage_key(sender_id)
        await self._settle(key)
        await self._flush(key)
        rows = await self._run(self._select_events, key, fetch_events_from_all_sessions)
        if not rows:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(r) for r in rows],
                                                 self.domain.slots)
        if not fetch_events_from_all_sessions:
            setattr(tracker, _STORED, len(rows))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        key = storage_key(tracker.sender_id)
        events = list(tracker.events)
        stored = getattr(tracker, _STORED, None)
        turn = current_turn()
        if stored is None:
            # A tracker this store did not read (HTTP API): Rasa's rule, all or nothing.
            data = [event.as_dict() for event in events]
            new = await self._run(self._insert_after_count, key, data)
            self._publish(tracker.sender_id, new)
        else:
            new_events = events[stored:]
            if not new_events:
                return
            data = [event.as_dict() for event in new_events]
            setattr(tracker, _STORED, len(events))
            self._publish(tracker.sender_id, data)
            await self._write(key, tracker.sender_id, data)
        if turn is not None:
            turn.saved = True

    async def append(self, sender_id: Text, events: List[Event], via_outbox: bool = False) -> None:
        """Add events after the stored ones (the turn guard records a message); never raises.

        ``via_outbox``: the database just failed; keep them for the flusher instead of waiting."""
        key = storage_key(sender_id)
        data = [event.as_dict() for event in events]
        self._publish(sender_id, data)
        if via_outbox or await self.outbox.has_pending(key):
            await self.outbox.push(key, batch_now(sender_id, data))  # stay behind them
            return
        await self._write(key, sender_id, data)
