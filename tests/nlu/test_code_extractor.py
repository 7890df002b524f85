from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.code_extractor import CodeEntityExtractor


def _entities(text, config=None):
    extractor = CodeEntityExtractor({**CodeEntityExtractor.get_default_config(), **(config or {})})
    message = Message({TEXT: text})
    extractor.process([message])
    return message.get(ENTITIES, [])


def test_dossier_and_procedure_codes():
    entities = _entities("hồ sơ 000.00.22.h39-261118-0007 thủ tục 1.001193")
    assert [(e["entity"], e["value"]) for e in entities] == [
        ("dossier_code", "000.00.22.H39-261118-0007"),
        ("procedure_code", "1.001193"),
    ]


def test_configurable_pattern():
    entities = _entities("mã HS-2026-000123 nhé", {"dossier_code_pattern": r"HS-\d{4}-\d{6}"})
    assert [(e["entity"], e["value"]) for e in entities] == [("dossier_code", "HS-2026-000123")]


def test_no_entities_in_plain_text():
    assert _entities("mất bao lâu vậy 😀") == []
