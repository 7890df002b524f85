"""Rules that run after the intent classifier and replace the intent of some messages."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

GENERAL_INTENT = "find_procedure"  # which procedure applies: what a rule falls back to or refines


def override_intent(message: Message, new_intent: str) -> None:
    """Make ``new_intent`` the message's intent, with the classifier's confidence.

    The two intents swap confidences in the ranking, so the new one leads by the classifier's
    margin (no false ambiguity for the fallback classifier after it).
    """
    intent = message.get(INTENT) or {}
    old_intent = intent.get(INTENT_NAME_KEY)
    confidence = intent.get(PREDICTED_CONFIDENCE_KEY, 0.0)
    message.set(INTENT, {INTENT_NAME_KEY: new_intent, PREDICTED_CONFIDENCE_KEY: confidence}, add_to_output=True)
    ranking = message.get("intent_ranking") or []
    new_confidence = next(
        (r.get(PREDICTED_CONFIDENCE_KEY, 0.0) for r in ranking if r.get(INTENT_NAME_KEY) == new_intent), 0.0
    )
    swapped = {old_intent: new_confidence, new_intent: confidence}
    ranking = [
        {**r, PREDICTED_CONFIDENCE_KEY: swapped.get(r.get(INTENT_NAME_KEY), r.get(PREDICTED_CONFIDENCE_KEY, 0.0))}
        for r in ranking
    ]
    # The classifier ranks only its top intents: a new intent outside them joins the ranking (without
    # it, the ranking's first two would both be near 0 and the fallback classifier call it ambiguous).
    if ranking and all(r.get(INTENT_NAME_KEY) != new_intent for r in ranking):
        ranking.append({INTENT_NAME_KEY: new_intent, PREDICTED_CONFIDENCE_KEY: confidence})
    ranking.sort(key=lambda r: -r[PREDICTED_CONFIDENCE_KEY])
    message.set("intent_ranking", ranking, add_to_output=True)


class IntentRule(GraphComponent, ABC):
    """A non-trainable component after the classifier; subclasses say which intent a message gets.

    Not registered with Rasa itself (only its subclasses are), so it never appears in a pipeline.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "IntentRule":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    @abstractmethod
    def intent_for(self, message: Message, intent: Optional[str]) -> Optional[str]:
        """The intent this message should have instead of ``intent``, or None to keep it."""

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if not message.get(TEXT):
                continue
            new_intent = self.intent_for(message, (message.get(INTENT) or {}).get(INTENT_NAME_KEY))
            if new_intent is not None:
                override_intent(message, new_intent)
        return messages
