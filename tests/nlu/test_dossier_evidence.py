import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.dossier_evidence import DossierEvidenceClassifier, has_dossier_evidence


def _classified(text, ranking, entities=()):
    message = Message({TEXT: text})
    message.set(INTENT, {"name": ranking[0][0], "confidence": ranking[0][1]})
    message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking])
    if entities:
        message.set(ENTITIES, list(entities))
    DossierEvidenceClassifier().process([message])
    return message


@pytest.mark.parametrize(
    "text",
    [
        "giay chung tu cua ong bi that lac, xa noi so cung hong roi thi lam sao",
        "giấy chứng tử của ông bị thất lạc, xã nói sổ cũng hỏng rồi thì làm sao",
        "hồ sơ xin cấp sổ đỏ lần đầu nộp ở đâu",
        "cccd của tôi quá hạn 2 tháng rồi thì làm sao",  # a paper past its date, not a late dossier
    ],
)
def test_a_situation_without_a_submitted_dossier_is_not_a_lookup(text):
    message = _classified(text, [("check_dossier", 0.7), ("find_procedure", 0.2), ("ask_agency", 0.1)])
    assert message.get(INTENT) == {"name": "find_procedure", "confidence": 0.7}
    assert [(r["name"], r["confidence"]) for r in message.get("intent_ranking")[:2]] == [
        ("find_procedure", 0.7),
        ("check_dossier", 0.2),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "tra cuu hs giup e",
        "hồ sơ của tôi đến đâu rồi",
        "nop ho so that nghiep 20 ngay roi sao chua co quyet dinh",
        "hồ sơ sang tên sổ đỏ quá hạn hẹn rồi mà chưa có",
        "hồ sơ tạm trú bị trả về là sao",
        "Tuần trước em nộp hồ sơ làm căn cước cho con ở công an phường, giờ kiểm tra sao ạ?",
        "khi nao ho so cua toi co ket qua",
    ],
)
def test_tracking_words_keep_the_lookup(text):
    assert has_dossier_evidence(text)
    assert _classified(text, [("check_dossier", 0.8)]).get(INTENT)["name"] == "check_dossier"


def test_a_dossier_code_keeps_the_lookup():
    code = {"entity": "dossier_code", "value": "000.00.07.H25-251117-0005", "start": 3, "end": 28}
    text = "hs 000.00.07.H25-251117-0005 ?"
    assert not has_dossier_evidence(text.replace(code["value"], ""))
    assert _classified(text, [("check_dossier", 0.8)], [code]).get(INTENT)["name"] == "check_dossier"


def test_other_intents_are_left_alone():
    message = _classified("giấy chứng tử bị mất thì làm sao", [("find_procedure", 0.8)])
    assert message.get(INTENT)["name"] == "find_procedure"
