"""Fill the human hand-off contact (hotline, office, hours) from configuration."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.services import get_services
from bot.settings import get_settings


class ActionPrepareHandoff(Action):
    def name(self) -> Text:
        return "action_prepare_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        try:
            settings = (await get_services()).settings
        except Exception:  # noqa: BLE001 - infrastructure: the contact needs only the configuration
            settings = get_settings()
        return [
            SlotSet("contact_hotline", settings.hotline),
            SlotSet("contact_office", settings.office_address),
            SlotSet("contact_hours", settings.office_hours),
        ]
