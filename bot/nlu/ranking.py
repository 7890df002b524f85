"""Replace the classifier's intent by another one, keeping the ranking consistent."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message


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
    ranking = sorted(
        (
            {**r, PREDICTED_CONFIDENCE_KEY: swapped.get(r.get(INTENT_NAME_KEY), r.get(PREDICTED_CONFIDENCE_KEY, 0.0))}
            for r in ranking
        ),
        key=lambda r: -r[PREDICTED_CONFIDENCE_KEY],
    )
    message.set("intent_ranking", ranking, add_to_output=True)
