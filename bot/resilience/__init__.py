"""Production resilience for the Rasa server: shared stores that fail fast, and a short apology.

Rasa Open Source 3.6 is frozen; this package adds what a replicated deployment needs without forking
it, through the two extension points Rasa loads from ``endpoints.yml`` (a custom tracker store and a
custom lock store class):

- ``tracker_store.ResilientSQLTrackerStore``: the SQL tracker store, with its blocking database calls
  moved off the event loop, bounded by timeouts, one query fewer per turn, and an *outbox*: events the
  database could not take (database down or slow) are kept in Redis (or memory) and written, in order,
  before the conversation is read again or by a background flusher, so nothing a user sent is lost.
- ``lock_store.AtomicRedisLockStore``: a conversation lock whose tickets are issued and checked by
  atomic Redis operations (the open-source ``RedisLockStore`` reads, modifies and writes a JSON blob, so
  two replicas can hold the same conversation at once: see deploy/README.md for the measurement).
- ``hooks.install()`` (called by both stores when Rasa creates them): a turn guard that answers the
  user a short Vietnamese apology (response ``utter_service_unavailable``) instead of an error or
  silence when the lock store, the tracker store or the action server is down or too slow.
"""

from bot.resilience.errors import (  # noqa: F401
    ActionServerUnavailable,
    InfrastructureUnavailable,
    LockUnavailable,
    StoreUnavailable,
)
