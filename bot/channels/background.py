"""Acknowledge a webhook at once and handle its message in the background.

Platforms want a quick 200 (Zalo: within 2 seconds, or it retries and may disable the webhook), but a
turn of the assistant can take longer when the bot is busy. The webhook hands the message to a
``BackgroundWorker`` and answers; the worker:

- keeps each user's messages in arrival order (one user's messages are handled one at a time);
- bounds how many conversations are handled at once, and how many messages may wait: past that, the
  webhook answers 503 *before* claiming the delivery, so the platform retries it later;
- keeps a reference to every task (asyncio keeps only weak ones) and, at shut-down, gives the running
  ones a few seconds to finish.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Dict, Optional, Set

logger = logging.getLogger(__name__)


class BackgroundWorker:
    def __init__(self, name: str, concurrency: int = 16, max_pending: int = 1000) -> None:
        self.name = name
        self.concurrency = concurrency
        self.max_pending = max_pending
        self._tasks: Set[asyncio.Task] = set()
        self._user_locks: Dict[str, asyncio.Lock] = {}
        self._user_waiting: Dict[str, int] = {}
        self._slots: Optional[asyncio.Semaphore] = None

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def has_room(self) -> bool:
        return len(self._tasks) < self.max_pending

    def submit(self, user_id: str, job: Callable[[], Awaitable[None]]) -> asyncio.Task:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        # Take the user's place in line now, synchronously: tasks start in creation order, and an
        # asyncio.Lock serves waiters first come, first served.
        lock = self._user_locks.setdefault(user_id, asyncio.Lock())
        self._user_waiting[user_id] = self._user_waiting.get(user_id, 0) + 1
        task = asyncio.get_running_loop().create_task(self._run(user_id, lock, job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, user_id: str, lock: asyncio.Lock, job: Callable[[], Awaitable[None]]) -> None:
        try:
            async with lock:
                async with self._slots:
                    await job()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one failed message must not stop the others
            logger.exception("%s: handling a message of %s failed", self.name, user_id)
        finally:
            self._user_waiting[user_id] -= 1
            if self._user_waiting[user_id] == 0:
                del self._user_waiting[user_id]
                self._user_locks.pop(user_id, None)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the running tasks (at shut-down); cancel what is left after ``timeout``."""
        tasks = list(self._tasks)
        if not tasks:
            return
        done, still_running = await asyncio.wait(tasks, timeout=timeout)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.gather(*still_running, return_exceptions=True)
            logger.warning("%s: %d messages were still being handled at shut-down",
                           self.name, len(still_running))
