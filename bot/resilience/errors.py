"""Errors that mean "a service the turn needs is unavailable": the turn guard answers an apology."""

from rasa.core.lock_store import LockError
from rasa.shared.exceptions import RasaException


class InfrastructureUnavailable(RasaException):
    """A shared service (database, Redis, action server) is down or did not answer in time."""


class StoreUnavailable(InfrastructureUnavailable):
    """The tracker store could not read a conversation."""


class LockUnavailable(InfrastructureUnavailable, LockError):
    """The conversation lock could not be taken (Redis down, or waited too long)."""


class ActionServerUnavailable(InfrastructureUnavailable):
    """A custom action failed for an infrastructure reason (connection, timeout, 5xx)."""
