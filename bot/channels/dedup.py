"""Process each delivery once: platforms redeliver a message they think was not received.

Zalo retries a webhook call that was not answered with 200 within 2 seconds, Messenger one that was
not acknowledged within about 20 seconds; both resend the same message id (Zalo ``msg_id``,
Messenger ``mid``). The first delivery claims the id (``SET NX`` with a time to live in Redis, so the
claim holds across replicas; a dict in memory otherwise); later ones are acknowledged and dropped.

The claim is taken when the delivery is accepted, before processing: a crash during processing loses
that one message rather than answering it twice.
"""

from __future__ import annotations

import logging
import time
from typing import Optional

from bot.channels.store import KeyValueStore, MemoryStore, open_store

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 24 * 3600


class Deduplicator:
    def __init__(
        self, store: KeyValueStore, namespace: str, ttl_seconds: float = DEFAULT_TTL_SECONDS
    ) -> None:
        self.store = store
        self.namespace = namespace
        self.ttl_seconds = ttl_seconds

    async def first_delivery(self, message_id: str) -> bool:
        """True for the first delivery of ``message_id``, False for a redelivery.

        If the shared store cannot be reached the message is processed (an answer given twice is
        better than none) and the failure is logged.
        """
        key = f"{self.namespace}:seen:{message_id}"
        try:
            return await self.store.add(key, str(int(time.time())), self.ttl_seconds)
        except Exception as error:  # noqa: BLE001 - store unreachable: fail open, loudly
            logger.error("dedup store unavailable (%s: %s); processing %s anyway",
                         type(error).__name__, error, key)
            return True

    async def close(self) -> None:
        await self.store.close()


def open_deduplicator(
    namespace: str,
    redis_url: Optional[str] = None,
    prefix: Optional[str] = None,
    ttl_seconds: float = DEFAULT_TTL_SECONDS,
) -> Deduplicator:
    store = open_store(redis_url, prefix) if prefix else open_store(redis_url)
    return Deduplicator(store, namespace, ttl_seconds)


__all__ = ["Deduplicator", "MemoryStore", "open_deduplicator", "DEFAULT_TTL_SECONDS"]
