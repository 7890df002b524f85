"""The turn guard: four small patches of Rasa 3.6.21, installed when a resilient store is created.

Rasa 3.6 has no hook around a turn, so :func:`install` wraps four methods (idempotent, logged):

1. ``Agent._create_tracker_store``: our tracker store is used as it is. Rasa wraps every store in a
   ``FailSafeTrackerStore`` that, when the database fails, starts an empty conversation in memory:
   the bot answers without context and what the user said never reaches the database.
2. ``Agent.handle_message`` (every channel's messages go through it): bounded by
   ``TURN_TIMEOUT_SECONDS``; if the lock store or the tracker store is unavailable, or anything else
   fails, the user gets the apology ``utter_service_unavailable`` and the message is recorded in the
   tracker (through the outbox when the database is down) with the apology after it.
3. ``RemoteAction.run``: bounded by ``ACTION_TIMEOUT_SECONDS`` (Rasa waits 5 minutes); a connection
   error, timeout or 5xx from the action server becomes :class:`ActionServerUnavailable`
   (a 400, the action's own rejection, is left to Rasa).
4. ``MessageProcessor._run_action``: an action that fails with ``ActionServerUnavailable`` (also from
   inside a form's validation) utters the apology and ends the turn (``FollowupAction(action_listen)``).
   Rasa would log the error, drop the action's events and go on predicting with the slots of the
   previous turn, which can answer a new question with the previous procedure.

The tracker then reads like any turn: the user's message, the apology, ``action_listen``.

Guards against hostile input: the turn guard keeps at most ``MAX_MESSAGE_CHARS`` characters (5,000)
of a message, with the original's length and SHA-256 in its metadata; 6. ``RestInput`` answers 400 to a body
that is not a JSON object with a string ``message`` and a string or number ``sender`` (Rasa answers
500 to ``[]``, and runs ``{"message": null}`` into an error); 7. ``MessageProcessor.parse_message``
gives the NLU pipeline at most ``NLU_MAX_CHARS`` characters (2,000) of a message; the tracker keeps
the whole text. DIET's attention is quadratic in the number of tokens: one 100 kB message made the
Rasa server allocate 17 GB and fail with ResourceExhaustedError (tests/integration/test_fuzz.py).

One more, for speed: 5. ``RemoteAction._validate_action_result`` checks the action server's answer
with validators built once, each event against the schema of its own type. Rasa calls
``jsonschema.validate``, which re-checks the schema against the JSON-Schema meta-schema and then tries
each event against all 20 event schemas (``oneOf``), on every action call: with our ~20 slot events a
turn, a third of the Rasa server's CPU time under load (py-spy; deploy/README.md).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any, Dict, List, Optional

import rasa
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, FollowupAction, UserUttered
from rasa.shared.exceptions import RasaException

from bot.resilience.errors import ActionServerUnavailable, InfrastructureUnavailable, StoreUnavailable
from bot.resilience.settings import APOLOGY_RESPONSE, APOLOGY_TEXT, ResilienceSettings
from bot.resilience.turn import CURRENT_TURN, TurnState, current_turn

logger = logging.getLogger(__name__)

SUPPORTED_RASA = "3.6.21"
_installed = False
_originals: Dict[str, Any] = {}


def apology_text(domain) -> str:
    """The apology from the model's domain (``utter_service_unavailable``), else the built-in one."""
    try:
        variants = (domain.responses or {}).get(APOLOGY_RESPONSE) or []
        for variant in variants:
            if variant.get("text"):
                return variant["text"]
    except Exception:  # noqa: BLE001
        pass
    return APOLOGY_TEXT


def _apology_event(domain, reason: str) -> BotUttered:
    return BotUttered(apology_text(domain), data={},
                      metadata={"utter_action": APOLOGY_RESPONSE, "unavailable": reason})


def _resilient_store(agent: Agent):
    from bot.resilience.tracker_store import ResilientSQLTrackerStore

    store = getattr(agent, "tracker_store", None)
    return store if isinstance(store, ResilientSQLTrackerStore) else None


# 1 -------------------------------------------------------------------------------------------
def _create_tracker_store(store, domain):
    from bot.resilience.tracker_store import ResilientSQLTrackerStore

    if isinstance(store, ResilientSQLTrackerStore):
        store.domain = domain
        return store
    return _originals["create_tracker_store"](store, domain)


# 2 -------------------------------------------------------------------------------------------
async def _handle_message(self: Agent, message: UserMessage) -> Optional[List[Dict[str, Any]]]:
    original = _originals["handle_message"]
    if not self.is_ready():
        return await original(self, message)
    settings = ResilienceSettings()
    _cap_message(message, settings.max_message_chars)
    store = _resilient_store(self)
    if store is not None:
        store.attach(self.lock_store)
    turn = TurnState()
    token = CURRENT_TURN.set(turn)
    try:
        return await asyncio.wait_for(original(self, message), settings.turn_timeout)
    except asyncio.CancelledError:
        raise
    except Exception as error:  # noqa: BLE001 - the user gets an apology, never an error
        if isinstance(error, (InfrastructureUnavailable, asyncio.TimeoutError)):
            logger.warning("turn of %s not served: %s: %s", message.sender_id, type(error).__name__, error)
        else:
            logger.exception("turn of %s failed", message.sender_id)
        return await _apologise(self, message, turn, error)
    finally:
        CURRENT_TURN.reset(token)


def _cap_message(message: UserMessage, limit: int) -> None:
    """Keep at most ``limit`` characters of a message (the rest is never a citizen's question, and
    a conversation of 100 kB messages makes every later turn read and send megabytes); the length
    and digest of the original are kept in the message's metadata."""
    text = message.text
    if limit <= 0 or not isinstance(text, str) or len(text) <= limit:
        return
    import hashlib

    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    metadata = dict(message.metadata) if isinstance(message.metadata, dict) else {}
    metadata["truncated"] = {"characters": len(text), "sha256": digest}
    message.text = text[:limit]
    message.metadata = metadata


async def _apologise(agent: Agent, message: UserMessage, turn: TurnState, error: Exception):
    domain = agent.domain
    text = apology_text(domain)
    channel = message.output_channel
    if not turn.apologised:
        try:
            await channel.send_text_message(message.sender_id, text)
        except Exception:  # noqa: BLE001
            logger.exception("could not send the apology to %s", message.sender_id)
    store = _resilient_store(agent)
    if store is not None and not turn.saved:
        # The database itself failed: keep the message in the outbox rather than wait for it again.
        database_failed = isinstance(error, (StoreUnavailable, asyncio.TimeoutError))
        events = await _recorded_turn(agent, message, type(error).__name__)
        await store.append(message.sender_id, events, via_outbox=database_failed)
    if isinstance(channel, CollectingOutputChannel):
        return channel.messages
    return None


async def _recorded_turn(agent: Agent, message: UserMessage, reason: str) -> List[Event]:
    """The message as Rasa would have logged it (parsed when the NLU answers), then the apology."""
    text = message.text if isinstance(message.text, str) or message.text is None else str(message.text)
    parse_data = None
    try:
        if agent.processor is not None and isinstance(text, str):
            parse_data = await asyncio.wait_for(agent.processor.parse_message(message), 2.0)
    except Exception:  # noqa: BLE001 - record the text alone
        parse_data = None
    if parse_data:
        user = UserUttered(text, parse_data.get("intent"), parse_data.get("entities", []), parse_data,
                           input_channel=message.input_channel, message_id=message.message_id,
                           metadata=message.metadata)
    else:
        user = UserUttered(text, input_channel=message.input_channel, message_id=message.message_id,
                           metadata=message.metadata)
    return [
        user,
        ActionExecuted(APOLOGY_RESPONSE),
        _apology_event(agent.domain, reason),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]


# 3 -------------------------------------------------------------------------------------------
async def _remote_action_run(self: RemoteAction, output_channel, nlg, tracker, domain) -> List[Event]:
    original = _originals["remote_action_run"]
    timeout = ResilienceSettings().action_timeout
    try:
        return await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), timeout)
    except ActionExecutionRejection:
        raise
    except asyncio.TimeoutError:
        raise ActionServerUnavailable(f"action '{self.name()}' did not answer within {timeout:g} s") from None
    except RasaException as error:  # connection refused, 5xx, no endpoint configured
        raise ActionServerUnavailable(f"action '{self.name()}' failed: {error}") from error
    except (OSError, asyncio.IncompleteReadError) as error:
        raise ActionServerUnavailable(f"action '{self.name()}' failed: {type(error).__name__}") from error


# 5 -------------------------------------------------------------------------------------------
_response_check = None


def _compile_response_check():
    """A check equivalent to Rasa's schema, built once: the events' ``oneOf`` over every event type
    is replaced by a look-up of the one branch whose ``event`` constant the event names."""
    import copy

    from jsonschema import ValidationError, validators
    from jsonschema.exceptions import best_match

    spec = copy.deepcopy(RemoteAction.action_response_format_spec())
    cls = validators.validator_for(spec)
    try:
        items = spec["properties"]["events"]["items"]
        branches = {branch["properties"]["event"]["const"]: cls(branch) for branch in items.pop("oneOf")}
    except (KeyError, TypeError):  # another schema layout: the whole schema, compiled once
        whole = cls(RemoteAction.action_response_format_spec())
        return lambda result: best_match(whole.iter_errors(result))
    outer = cls(spec)

    def check(result):
        error = best_match(outer.iter_errors(result))
        if error is not None:
            return error
        for event in result.get("events") or []:
            branch = branches.get(event.get("event"))
            if branch is None:
                return ValidationError(f"{event.get('event')!r} is not an event type")
            error = best_match(branch.iter_errors(event))
            if error is not None:
                return error
        return None

    return check


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """Rasa's check of the action server's answer, compiled once (same errors, same message)."""
    global _response_check
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

    if _response_check is None:
        _response_check = _compile_response_check()
    error = _response_check(result)
    if error is None:
        return True
    if isinstance(error, ValidationError):
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
    raise error


# 6 -------------------------------------------------------------------------------------------
def _json_object(request) -> Dict[str, Any]:
    from sanic.exceptions import InvalidUsage

    body = request.json  # Sanic answers 400 itself to a body that is not JSON (or not UTF-8)
    if not isinstance(body, dict):
        raise InvalidUsage("send a JSON object: {\"sender\": \"...\", \"message\": \"...\"}")
    return body


async def _rest_extract_sender(self, request) -> Optional[str]:
    from sanic.exceptions import InvalidUsage

    sender = _json_object(request).get("sender")
    if isinstance(sender, bool) or not isinstance(sender, (str, int)) or str(sender) == "":
        raise InvalidUsage("\"sender\" must be a non-empty string")
    return str(sender)


def _rest_extract_message(self, request) -> Optional[str]:
    from sanic.exceptions import InvalidUsage

    message = _json_object(request).get("message")
    if not isinstance(message, str):
        raise InvalidUsage("\"message\" must be a string")
    return message


def _rest_extract_input_channel(self, request) -> str:
    channel = _json_object(request).get("input_channel")
    return channel if isinstance(channel, str) and 0 < len(channel) <= 64 else self.name()


# 7 -------------------------------------------------------------------------------------------
async def _parse_message(self: MessageProcessor, message: UserMessage, tracker=None,
                         only_output_properties: bool = True) -> Dict[str, Any]:
    limit = ResilienceSettings().nlu_max_chars
    if isinstance(message.text, str) and len(message.text) > limit:
        message = copy.copy(message)
        message.text = message.text[:limit]
    return await _originals["parse_message"](self, message, tracker, only_output_properties)


# 4 -------------------------------------------------------------------------------------------
class _GuardedAction:
    """An action whose infrastructure failure becomes the apology and the end of the turn."""

    def __init__(self, action) -> None:
        self._action = action

    def __getattr__(self, name: str) -> Any:
        return getattr(self._action, name)

    def __str__(self) -> str:
        return str(self._action)

    async def run(self, output_channel, nlg, tracker, domain) -> List[Event]:
        try:
            return await self._action.run(output_channel, nlg, tracker, domain)
        except ActionServerUnavailable as error:
            logger.warning("%s; answering the apology", error)
            turn = current_turn()
            if turn is not None:
                turn.apologised = True
            return [_apology_event(domain, "action_server"), FollowupAction(ACTION_LISTEN_NAME)]


async def _run_action(self: MessageProcessor, action, tracker, output_channel, nlg, prediction) -> bool:
    return await _originals["run_action"](self, _GuardedAction(action), tracker, output_channel, nlg,
                                          prediction)


def install() -> None:
    """Install the patches once per process (see the module docstring)."""
    global _installed
    if _installed:
        return
    if rasa.__version__ != SUPPORTED_RASA:
        logger.warning("bot.resilience was written for Rasa %s, this is %s: check the patched methods",
                       SUPPORTED_RASA, rasa.__version__)
    _originals["create_tracker_store"] = Agent._create_tracker_store
    _originals["handle_message"] = Agent.handle_message
    _originals["remote_action_run"] = RemoteAction.run
    _originals["run_action"] = MessageProcessor._run_action
    _originals["validate_action_result"] = RemoteAction._validate_action_result
    _originals["parse_message"] = MessageProcessor.parse_message
    _originals["rest"] = (RestInput._extract_sender, RestInput._extract_message, RestInput._extract_input_channel)
    Agent._create_tracker_store = staticmethod(_create_tracker_store)
    Agent.handle_message = _handle_message
    RemoteAction.run = _remote_action_run
    MessageProcessor._run_action = _run_action
    RemoteAction._validate_action_result = _validate_action_result
    MessageProcessor.parse_message = _parse_message
    RestInput._extract_sender = _rest_extract_sender
    RestInput._extract_message = _rest_extract_message
    RestInput._extract_input_channel = _rest_extract_input_channel
    _installed = True
    logger.info("bot.resilience: turn guard installed")


def uninstall() -> None:
    """Undo :func:`install` (tests)."""
    global _installed
    if not _installed:
        return
    Agent._create_tracker_store = staticmethod(_originals["create_tracker_store"])
    Agent.handle_message = _originals["handle_message"]
    RemoteAction.run = _originals["remote_action_run"]
    MessageProcessor._run_action = _originals["run_action"]
    RemoteAction._validate_action_result = _originals["validate_action_result"]
    MessageProcessor.parse_message = _originals["parse_message"]
    RestInput._extract_sender, RestInput._extract_message, RestInput._extract_input_channel = _originals["rest"]
    _installed = False
