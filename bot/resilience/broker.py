"""Rasa's RabbitMQ event broker, publishing from a thread of its own.

Rasa's ``PikaEventBroker`` publishes every event as a task on Rasa's event loop, and aiormq sends one
message at a time on a channel, each waiting for its write to drain. That loop also runs every turn's
NLU and policies without yielding for tens of milliseconds, so under load the publishing tasks fall
behind and pile up in memory (measured: +90 MiB of waiting tasks over 2,000 fuzz messages in
tests/integration/test_fuzz.py, and the same with Rasa's own SQL tracker store).

Here the same broker (same exchange, queues, message format and reconnection) runs on an event loop
in a thread, fed through a queue: publishing goes at RabbitMQ's pace, not at the pace of the turns.
The queue is bounded (``max_pending`` events, default 20,000); beyond it events are dropped and
counted in the log. The conversation itself is never affected: the tracker store holds every event,
the broker is only the feed for analytics and audit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Dict, Optional, Text, Tuple

import rasa.shared.core.events  # noqa: F401 - PikaEventBroker._publish uses it without importing it
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_MAX_PENDING = 20_000
CLOSE_GRACE_SECONDS = 5.0


class _LoopThread:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def call(self, coroutine) -> Any:
        """Run ``coroutine`` on the thread's loop and wait for it from the caller's loop."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


class ThreadedPikaEventBroker(PikaEventBroker):
    """``PikaEventBroker`` whose connection and publishing live on a loop in a separate thread."""

    def __init__(self, *args: Any, max_pending: int = DEFAULT_MAX_PENDING, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_pending = int(max_pending)
        self.dropped = 0
        self._pending = 0
        self._count_lock = threading.Lock()
        self._runner: Optional[_LoopThread] = None
        self._queue: Optional["asyncio.Queue[Tuple[Dict[Text, Any], Optional[Dict[Text, Text]]]]"] = None
        self._worker: Optional[asyncio.Task] = None

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: Optional[EndpointConfig],
        event_loop: Optional[asyncio.AbstractEventLoop] = None,
    ) -> Optional["ThreadedPikaEventBroker"]:
        if broker_config is None:
            return None
        runner = _LoopThread("event-broker")
        broker = cls(broker_config.url, **broker_config.kwargs, event_loop=runner.loop)
        broker._runner = runner
        try:
            await runner.call(broker._start())
        except BaseException:
            runner.stop()
            raise
        return broker

    async def _start(self) -> None:
        self._queue = asyncio.Queue()
        await self.connect()
        self._worker = asyncio.get_running_loop().create_task(self._drain())

    @property
    def pending(self) -> int:
        return self._pending

    def publish(self, event: Dict[Text, Any], headers: Optional[Dict[Text, Text]] = None) -> None:
        """Hand ``event`` to the publishing thread (never blocks; drops beyond ``max_pending`` or
        after ``close``)."""
        runner, queue = self._runner, self._queue
        with self._count_lock:
            accepted = runner is not None and queue is not None and self._pending < self.max_pending
            if accepted:
                self._pending += 1
            else:
                self.dropped += 1
                dropped = self.dropped
        if not accepted:
            if dropped == 1 or dropped % 1000 == 0:
                logger.error("event broker closed or %d events waiting: %d events dropped so far",
                             self.max_pending, dropped)
            return
        runner.loop.call_soon_threadsafe(queue.put_nowait, (event, headers))

    async def _drain(self) -> None:
        assert self._queue is not None
        while True:
            event, headers = await self._queue.get()
            try:
                await self._publish(event, headers)  # Rasa's: keeps it for the reconnection on failure
            except Exception:  # noqa: BLE001 - analytics must not stop
                logger.exception("event broker: publish failed")
            finally:
                with self._count_lock:
                    self._pending -= 1

    async def _finish(self, grace: float) -> None:
        deadline = asyncio.get_running_loop().time() + grace
        while self._pending and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        if self._worker is not None:
            self._worker.cancel()
        await super().close()

    async def close(self) -> None:
        if self._runner is None:
            await super().close()
            return
        runner, self._runner = self._runner, None
        try:
            await runner.call(self._finish(CLOSE_GRACE_SECONDS))
        finally:
            runner.stop()


__all__ = ["ThreadedPikaEventBroker", "DEFAULT_MAX_PENDING"]
