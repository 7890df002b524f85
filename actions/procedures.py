"""Actions that find the procedure a citizen asks about and fill the slots its answers show."""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.catalogue.render import procedure_values
from bot.catalogue.resolver import (
    AMBIGUOUS,
    COURT,
    MISSING,
    NOT_UNDERSTOOD,
    OUT_OF_SCOPE,
    UNAVAILABLE,
    overrule_out_of_scope,
    resolve,
)
from bot.services import get_services

logger = logging.getLogger(__name__)

# The intent of a question -> the part of the procedure it asks about.
ASPECTS = {
    "find_procedure": "summary",
    "ask_documents": "documents",
    "ask_fee": "fee",
    "ask_duration": "duration",
    "ask_agency": "agency",
    "ask_steps": "steps",
    "ask_online": "online",
}

# Read as out of scope by the NLU; the action checks the catalogue before saying so.
OUT_OF_SCOPE_INTENT = "ask_out_of_scope"
# The NLU could not decide (low confidence, or its first two intents too close).
FALLBACK_INTENT = "nlu_fallback"

# Every slot the procedure answers use, cleared before a new procedure fills them.
PROCEDURE_SLOTS = (
    "procedure_code",
    "procedure_name",
    "procedure_url",
    "procedure_agency",
    "procedure_related",
    "procedure_documents",
    "procedure_fee",
    "procedure_duration",
    "procedure_steps",
    "procedure_online",
    "procedure_channels",
    "procedure_result",
    "procedure_conditions",
    "procedure_verified",
)
CHOICE_SLOTS = ("choice_1", "choice_2", "choice_3", "choice_1_payload", "choice_2_payload", "choice_3_payload")
MAX_BUTTON_TITLE = 60


def _entity(tracker: Tracker, name: str) -> Optional[str]:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name and entity.get("value"):
            return str(entity["value"])
    return None


def _procedure_intent_when_unsure(latest_message: Dict[Text, Any]) -> Optional[str]:
    """When the NLU could not decide between its first two intents but both ask about a procedure
    ("nộp ở đâu" or "làm thế nào"), the message is about one: the first of them, else None."""
    ranking = [r for r in latest_message.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    first_two = [r.get("name") for r in ranking[:2]]
    return first_two[0] if len(first_two) == 2 and all(name in ASPECTS for name in first_two) else None


def _title(name: str) -> str:
    return name if len(name) <= MAX_BUTTON_TITLE else name[: MAX_BUTTON_TITLE - 1].rstrip() + "…"


class ActionResolveProcedure(Action):
    def name(self) -> Text:
        return "action_resolve_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "find_procedure"
        if intent == FALLBACK_INTENT:
            intent = _procedure_intent_when_unsure(tracker.latest_message)
            if intent is None:
                return [SlotSet("requested_aspect", "summary"), SlotSet("procedure_state", NOT_UNDERSTOOD)]
        aspect = ASPECTS.get(intent, "summary")
        out_of_scope = intent == OUT_OF_SCOPE_INTENT
        try:
            services = await get_services()
        except Exception as error:  # noqa: BLE001 - infrastructure: the catalogue cannot be opened
            logger.error("catalogue unavailable: %s: %s", type(error).__name__, error)
            state = OUT_OF_SCOPE if out_of_scope else UNAVAILABLE
            return [SlotSet("requested_aspect", aspect), SlotSet("procedure_state", state)]
        catalogue = services.catalogue
        try:
            await catalogue.maybe_refresh()
        except Exception as error:  # noqa: BLE001 - keep answering from the loaded index
            logger.warning("catalogue refresh failed (%s); keeping the loaded index", type(error).__name__)
        text = tracker.latest_message.get("text") or ""
        if out_of_scope:  # chit-chat, unless the search is sure it names a common procedure
            result = overrule_out_of_scope(catalogue, text)
        else:
            result = resolve(
                catalogue,
                text,
                code=_entity(tracker, "procedure_code"),
                context_code=tracker.get_slot("procedure_code"),
                follow_up=aspect != ASPECTS["find_procedure"],
            )
        if result.state == COURT:  # one answer, whatever aspect was asked
            aspect = ASPECTS["find_procedure"]
        events: List[EventType] = [
            SlotSet("requested_aspect", aspect),
            SlotSet("procedure_state", result.state),
        ]
        if result.state == AMBIGUOUS:
            for number, hit in enumerate(result.choices, start=1):
                payload = f'/{intent}{json.dumps({"procedure_code": hit.code})}'
                events += [
                    SlotSet(f"choice_{number}", _title(hit.name)),
                    SlotSet(f"choice_{number}_payload", payload),
                ]
            return events
        if result.state in (MISSING, OUT_OF_SCOPE, COURT):
            return events
        values = procedure_values(result.procedure, catalogue.related(result.procedure.code))
        events += [SlotSet(slot, values.get(slot)) for slot in PROCEDURE_SLOTS]
        events.append(SlotSet("has_related", bool(values.get("procedure_related"))))
        return events
