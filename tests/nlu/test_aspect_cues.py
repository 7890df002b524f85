from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.aspect_cues import AspectCueClassifier, cue_intent


def _classified(text, intent, ranking):
    message = Message({TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": ranking[0][1]})
    message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking])
    AspectCueClassifier().process([message])
    return message


def test_explicit_question_wins_over_the_situation():
    message = _classified(
        "em bị mất cà vẹt xe máy, đi làm lại ở đâu",
        "find_procedure",
        [("find_procedure", 0.9), ("ask_agency", 0.08), ("ask_steps", 0.02)],
    )
    assert message.get(INTENT) == {"name": "ask_agency", "confidence": 0.9}
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking[:2]] == ["ask_agency", "find_procedure"]
    assert ranking[1]["confidence"] == 0.08  # the margin is kept: no false ambiguity


def test_no_cue_or_two_cues_change_nothing():
    assert cue_intent("bố tôi mất cần làm thủ tục gì") is None
    assert cue_intent("làm hộ chiếu ở đâu, mất bao lâu") is None


def test_only_the_general_intent_is_overridden():
    message = _classified("hồ sơ của tôi nộp ở đâu rồi", "check_dossier", [("check_dossier", 0.8)])
    assert message.get(INTENT)["name"] == "check_dossier"


def test_cues_without_diacritics_and_abbreviations():
    assert cue_intent("lam ho chieu online dc ko") == "ask_online"
    assert cue_intent("dang ky ket hon can giay to j") == "ask_documents"
    assert cue_intent("doi bang lai mat bao lau") == "ask_duration"


def test_a_situation_ending_in_what_is_needed_asks_for_the_documents():
    assert cue_intent("mới mua xe điện cho con, đăng ký biển số thì cần gì") == "ask_documents"
    assert cue_intent("lam ho chieu thi can nhung gi a") == "ask_documents"
    # "cần làm gì" asks which procedure applies (docs/INTENTS.md).
    assert cue_intent("con mới sinh thì cần làm gì") is None


def test_a_benefit_named_after_costs_is_no_fee_question():
    # "hỗ trợ chi phí học tập" is a benefit: the question is about its documents.
    assert cue_intent("xin hỗ trợ chi phí học tập cho con cần những giấy tờ nào") == "ask_documents"
    assert cue_intent("làm sổ đỏ chi phí bao nhiêu") == "ask_fee"
    assert cue_intent("chong mat, gia dinh lam huong tu tuat can ho so gi") == "ask_documents"
