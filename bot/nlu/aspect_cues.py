"""Explicit question cues decide the aspect asked about, after the statistical classifier.

Long messages that describe a situation look like ``find_procedure`` to DIET, even when they end
with an explicit question ("... thì nộp hồ sơ ở đâu ạ"). The labelling rules (docs/INTENTS.md)
say the explicit question wins: "ở đâu" asks for the agency, "cần giấy tờ gì" for the documents.
This component applies that rule: when the classifier says ``find_procedure`` and the text carries
the cue of exactly one aspect, the intent becomes that aspect's (with the classifier's confidence).
"""

from __future__ import annotations

import re
from typing import Dict, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_rule import GENERAL_INTENT, IntentRule
from bot.text import normalise


# Cues over the folded, abbreviation-expanded text (bot.text.normalise).
CUES: Dict[str, str] = {
    "ask_agency": r"\bo dau\b|\bcho nao\b|\bco quan nao\b|\bnoi nao\b|\blen dau\b|\bo mo\b|\bnop (?:don |ho so )?o \w+",
    "ask_documents": (
        r"\bgiay to (?:gi|nao)\b|\bgiay gi\b|\bcan nhung gi\b|\bmang (?:theo )?(?:nhung )?gi\b|"
        r"\bmang theo\b|\bchuan bi (?:nhung )?(?:gi|giay)\b|\bho so (?:gom|can|xin)\b|\bmau to khai\b|"
        r"\bthanh phan ho so\b|\b(?:thi|la) can (?:nhung )?gi\b|\bho so (?:gi|j|nao)\b"
    ),
    "ask_online": r"\bonline\b|\btruc tuyen\b|\bqua mang\b|\btren mang\b|\btren vneid\b",
    "ask_steps": r"\bcac buoc\b|\bmay buoc\b|\btung buoc\b|\btrinh tu\b|\bquy trinh\b|\bthu tu\b|\bbuoc (?:dau|nao)\b",
    "ask_duration": r"\bbao lau\b|\bmay ngay\b|\bbao nhieu ngay\b|\bbao gio (?:co|nhan|xong)\b|\bkhi nao (?:co|nhan|xong)\b",
    "ask_fee": (  # "hỗ trợ chi phí học tập / mai táng" names a benefit, not its fee
        r"\bbao nhieu tien\b|\ble phi\b|\bmat phi\b|\bchi phi\b(?! (?:hoc tap|mai tang|sinh hoat|kham))|"
        r"\bton bao nhieu\b|\bhet bao nhieu\b|\bphi bao nhieu\b"
    ),
}


def cue_intent(text: str) -> Optional[str]:
    """The aspect intent whose cue alone appears in the text, else None."""
    folded = normalise(text)
    found = [intent for intent, pattern in _COMPILED.items() if pattern.search(folded)]
    return found[0] if len(found) == 1 else None


_COMPILED = {intent: re.compile(pattern) for intent, pattern in CUES.items()}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AspectCueClassifier(IntentRule):
    def intent_for(self, message: Message, intent: Optional[str]) -> Optional[str]:
        return cue_intent(message.get(TEXT)) if intent == GENERAL_INTENT else None
