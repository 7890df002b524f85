"""A dossier lookup needs evidence that the citizen has submitted one.

The classifier reads some situations as ``check_dossier`` because they look like its training
messages ("giấy chứng tử của ông bị thất lạc, xã nói sổ cũng hỏng rồi thì làm sao": a lost paper,
an office, "rồi"), and the assistant then asks for a dossier code the citizen does not have.
A message about a submitted dossier carries a dossier code or says so: it tracks ("tra cứu",
"đến đâu rồi", "xong chưa"), dates the submission ("nộp tuần trước", "đã nộp"), names a state
("trễ hẹn", "bị trả về", "đang xử lý") or owns the dossier ("hồ sơ của em"). Without any of
these, ``check_dossier`` becomes ``find_procedure`` (the aspect cues run after this).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_rule import GENERAL_INTENT, IntentRule
from bot.text import normalise

DOSSIER_INTENT = "check_dossier"
DOSSIER_ENTITY = "dossier_code"

# Over the folded, abbreviation-expanded text (bot.text.normalise).
_EVIDENCE = re.compile(
    r"\b(?:"
    # tracking
    r"tra cuu|tra (?:giup|ho so|lai|o dau|the nao|kieu gi|bang)|kiem tra|check|theo doi|"
    r"xem (?:giup|ho so|tien do|lai|o dau)|(?:den|toi) (?:dau|buoc nao)|o dau (?:roi|r)|buoc nao|"
    r"(?:xong|duyet|ky|co|toi|cap nhat) chua|"
    r"chua (?:co|thay|nhan|xong|duoc|tra|ve|toi|ai|xu ly|giai quyet|cap nhat)|"
    r"sao lau|lau (?:qua|vay)|(?:the nao|sao) (?:roi|r)|phan hoi|"
    r"khi nao (?:lay|co|xong|duoc)|bao gio (?:xong|co|lay|duoc)|(?:khong|hok) thay|mai khong|"
    # a state of the dossier
    r"tre (?:hen|han)|qua (?:han hen|hen|ngay hen)|den hen|ngay hen|giay hen|bien nhan|trang thai|tinh trang|"
    r"tien do|tra ve|tu choi|bo sung|trinh ky|xu ly|tiep nhan|treo|dang cho|giai quyet|co ket qua|"
    r"hoan thanh|hoan thue|"
    # submitted, or owned
    r"da nop|nop (?:roi|tu|hom|tuan|thang|ngay|ca|duoc|hon)|ma ho so|"
    r"ho so (?:cua )?(?:toi|em|minh|tui|me|bo|con|chung toi)"
    r")\b"
)


def has_dossier_evidence(text: str, entities: List[Dict[str, Any]] = ()) -> bool:
    """Whether a message shows it is about a dossier already submitted."""
    if any(entity.get("entity") == DOSSIER_ENTITY for entity in entities):
        return True
    return _EVIDENCE.search(normalise(text)) is not None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DossierEvidenceClassifier(IntentRule):
    def intent_for(self, message: Message, intent: Optional[str]) -> Optional[str]:
        if intent == DOSSIER_INTENT and not has_dossier_evidence(message.get(TEXT), message.get(ENTITIES) or []):
            return GENERAL_INTENT
        return None
