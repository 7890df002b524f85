from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_rule import override_intent


def _message(ranking):
    message = Message({TEXT: "anh trai e 30 tuoi roi ma chua bao gio co giay khai sinh"})
    message.set(INTENT, {"name": ranking[0][0], "confidence": ranking[0][1]})
    message.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking])
    return message


def _ranking(message):
    return [(r["name"], r["confidence"]) for r in message.get("intent_ranking")]


def test_the_two_intents_swap_confidences():
    message = _message([("check_dossier", 0.7), ("find_procedure", 0.2), ("ask_agency", 0.1)])
    override_intent(message, "find_procedure")
    assert message.get(INTENT) == {"name": "find_procedure", "confidence": 0.7}
    assert _ranking(message) == [("find_procedure", 0.7), ("check_dossier", 0.2), ("ask_agency", 0.1)]


def test_an_intent_outside_the_classifiers_ranking_joins_it_first():
    # The classifier ranks its top intents only; a sure one leaves the others near 0. Without the new
    # intent in the ranking, its first two would be 0 and 0: "ambiguous" to the fallback classifier.
    message = _message([("check_dossier", 0.99), ("provide_info", 0.004), ("say_thanks", 0.003)])
    override_intent(message, "find_procedure")
    assert _ranking(message) == [
        ("find_procedure", 0.99),
        ("provide_info", 0.004),
        ("say_thanks", 0.003),
        ("check_dossier", 0.0),
    ]
