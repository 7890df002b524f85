"""Dossier status lookup: the form's validation and the lookup action (logic in bot.dossiers)."""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.dossiers.codes import DossierCodes, attempts_code, codes_for, looks_like_code
from bot.dossiers.service import INVALID_DIGITS, UNAVAILABLE, LookupResult
from bot.settings import get_settings

logger = logging.getLogger(__name__)

FORM = "dossier_status_form"
CODE_SLOT = "dossier_code"
DIGITS_SLOT = "verification_digits"
# Slots the lookup fills for the answers; all are reset at every lookup so nothing stale is shown.
RESULT_SLOTS = (
    "dossier_reference",
    "dossier_procedure",
    "dossier_agency",
    "dossier_applicant",
    "dossier_submitted",
    "dossier_due",
    "dossier_updated",
    "dossier_note",
    "dossier_overdue",
    "dossier_overdue_days",
    "dossier_retry_minutes",
)

# "4 số cuối", "bốn chữ số cuối", "so cuoi": the phrase's own digit is not part of the answer.
_DIGITS_PHRASE = re.compile(r"(?:\b(?:4|bốn|bon)\s+)?(?:chữ\s+|chu\s+)?(?:số|so)\s+cuối|so\s+cuoi",
                            re.IGNORECASE)
_LEADING_FOUR = re.compile(r"\b(?:4|bốn|bon)\s+(?:chữ\s+|chu\s+)?(?:số|so)\b", re.IGNORECASE)
# Intents of a message that answers the form (nlu_fallback: a bare code or number often gets it).
ANSWER_INTENTS = ("provide_info", "check_dossier", "nlu_fallback")
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9](?:[ .\-]?[0-9])*(?![0-9])")


def _codes() -> DossierCodes:
    return codes_for(get_settings().dossier_code_pattern)


async def dossier_service():
    """The process-wide dossier service (opened by bot.services)."""
    from bot.services import get_services

    services = await get_services()
    if services.dossiers is None:
        raise RuntimeError("the dossier service is not configured")
    return services.dossiers


def digits_in(text: str, codes: DossierCodes) -> Optional[str]:
    """The digits a user gave ("5678", "4 số cuối là 5678"); a wrong count is returned as is."""
    text = unicodedata.normalize("NFC", codes.remove(text or ""))
    text = _LEADING_FOUR.sub(" ", text)
    runs = [re.sub(r"[^0-9]", "", match.group(0)) for match in _DIGIT_RUN.finditer(text)]
    if not runs:
        return None
    if len(runs) == 1:
        return runs[0]
    four = [run for run in runs if len(run) == 4]
    return four[0] if len(four) == 1 else " ".join(runs)  # ambiguous: refused by validation


def _intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _answers(tracker: Tracker) -> bool:
    """Whether the latest message reads as an answer to the form's question."""
    return _intent(tracker) in ANSWER_INTENTS


def _last_bot_action(tracker: Tracker) -> Optional[str]:
    """The last action before the latest user message (action_listen aside)."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            seen_user = True
        elif seen_user and kind == "action" and event.get("name") not in (None, "action_listen"):
            return event.get("name")
    return None


class ValidateDossierForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_dossier_status_form"

    async def extract_dossier_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        text = tracker.latest_message.get("text") or ""
        codes = _codes()
        code = codes.find(text)
        if code is None:
            for value in tracker.get_latest_entity_values(CODE_SLOT):
                code = codes.find(str(value))
                if code:
                    break
        if code:
            return {CODE_SLOT: code}
        requested = tracker.get_slot("requested_slot")
        starts_lookup = requested is None and _intent(tracker) == "check_dossier"
        if (
            looks_like_code(text)
            or (requested == CODE_SLOT and _answers(tracker))
            or (starts_lookup and attempts_code(text))
        ):
            # Meant as a code but malformed: validate_dossier_code rejects it and explains the format.
            return {CODE_SLOT: text.strip()[:100]}
        return {}

    async def extract_verification_digits(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> Dict[Text, Any]:
        text = tracker.latest_message.get("text") or ""
        codes = _codes()
        if tracker.get_slot(CODE_SLOT) is None and codes.find(text) is None:
            return {}
        if looks_like_code(codes.remove(text)):
            return {}  # a malformed code, not digits (handled by extract_dossier_code)
        requested = tracker.get_slot("requested_slot") == DIGITS_SLOT or (
            _last_bot_action(tracker) == "utter_ask_verification_digits"
        )
        digits = digits_in(text, codes)
        if not requested:
            # Not asked yet: take them only when explicitly given ("..., 4 số cuối 5678").
            if digits and _DIGITS_PHRASE.search(unicodedata.normalize("NFC", text)):
                return {DIGITS_SLOT: digits}
            return {}
        if digits is not None:
            return {DIGITS_SLOT: digits}
        if _answers(tracker):
            return {DIGITS_SLOT: ""}
        return {}

    def validate_dossier_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> Dict[Text, Any]:
        code = _codes().find(str(value)) if value else None
        if code is None:
            dispatcher.utter_message(response="utter_invalid_dossier_code")
            return {CODE_SLOT: None}
        return {CODE_SLOT: code}

    def validate_verification_digits(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> Dict[Text, Any]:
        if isinstance(value, str) and re.fullmatch(r"[0-9]{4}", value):
            return {DIGITS_SLOT: value}
        dispatcher.utter_message(response="utter_invalid_verification_digits")
        return {DIGITS_SLOT: None}


def lookup_events(result: LookupResult) -> List[EventType]:
    """Slots for the answer (every result slot, so nothing stale remains) and the form reset."""
    slots: Dict[str, Any] = dict.fromkeys(RESULT_SLOTS)
    slots["dossier_overdue"] = False
    slots["dossier_reference"] = result.code
    view = result.view
    if view is not None:
        slots.update(
            dossier_procedure=view.procedure_name,
            dossier_agency=view.agency,
            dossier_applicant=view.applicant,
            dossier_submitted=view.submitted,
            dossier_due=view.due,
            dossier_updated=view.updated,
            dossier_note=view.note,
            dossier_overdue=view.overdue,
            dossier_overdue_days=str(view.overdue_days) if view.overdue else None,
        )
    if result.retry_after_seconds:
        slots["dossier_retry_minutes"] = str(math.ceil(result.retry_after_seconds / 60))
    events: List[EventType] = [SlotSet(name, value) for name, value in slots.items()]
    # Keep the code when only the digits were unusable, so the form asks for the digits alone.
    if result.state != INVALID_DIGITS:
        events.append(SlotSet(CODE_SLOT, None))
    events.append(SlotSet(DIGITS_SLOT, None))
    events.append(SlotSet("dossier_state", result.state))
    return events


class ActionLookupDossier(Action):
    def name(self) -> Text:
        return "action_lookup_dossier"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        try:
            service = await dossier_service()
            result = await service.lookup(
                tracker.get_slot(CODE_SLOT), tracker.get_slot(DIGITS_SLOT), tracker.sender_id
            )
        except Exception as error:  # noqa: BLE001 - any failure: say the lookup is unavailable
            logger.error("dossier lookup unavailable: %s", type(error).__name__)
            result = LookupResult(UNAVAILABLE)
        return lookup_events(result)
