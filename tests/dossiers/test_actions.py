"""The rasa-sdk actions with inline trackers: the form's extraction/validation and the lookup."""

from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import dossier as actions
from actions.dossier import ActionLookupDossier, ValidateDossierForm, digits_in
from bot.dossiers.codes import codes_for
from bot.dossiers.importer import import_text
from bot.settings import DEFAULT_DOSSIER_CODE_PATTERN, PROJECT_ROOT
from tests.dossiers.conftest import csv_text, row

CODE = "000.00.22.H39-261118-0007"
OTHER = "000.00.22.H39-261118-0008"
FORM = "dossier_status_form"
DOMAIN = yaml.safe_load(Path(PROJECT_ROOT / "domain" / "dossiers.yml").read_text("utf-8"))
SLOT_NAMES = list(DOMAIN["slots"]) + ["requested_slot"]


def make_tracker(text, intent="provide_info", *, slots=None, requested=None, active=True,
                 entities=None, before=(), sender="conv-1"):
    values = dict.fromkeys(SLOT_NAMES)
    values.update(slots or {})
    values["requested_slot"] = requested
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.99},
              "entities": entities or []}
    events = [{"event": "action", "name": "action_listen"}, *before,
              {"event": "action", "name": "action_listen"},
              {"event": "user", "text": text, "parse_data": latest},
              # What Rasa's FormAction appends before calling the validation action:
              {"event": "slot", "name": "requested_slot", "value": requested},
              {"event": "action", "name": FORM}]
    return Tracker(sender, values, latest, events, False, None,
                   {"name": FORM} if active else {}, "action_listen")


async def validate(tracker):
    dispatcher = CollectingDispatcher()
    events = await ValidateDossierForm().run(dispatcher, tracker, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return slots, [m.get("response") for m in dispatcher.messages]


# -- the form ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    f"hồ sơ {CODE} của tôi sao lâu vậy",
    "ho so 000.00.22.h39 - 261118 - 0007 sao lau vay",
    f"  {CODE.lower()}  ",
])
async def test_code_taken_from_the_first_message(text):
    slots, messages = await validate(make_tracker(text, "check_dossier", active=False))
    assert slots == {"dossier_code": CODE}
    assert messages == []


async def test_code_from_the_entity_when_the_text_has_none():
    entity = {"entity": "dossier_code", "value": CODE, "start": 0, "end": 5}
    slots, _ = await validate(make_tracker("hồ sơ nè", "check_dossier", entities=[entity],
                                           active=False))
    assert slots["dossier_code"] == CODE


async def test_asks_for_the_code_when_there_is_none():
    slots, messages = await validate(make_tracker("tra cứu hồ sơ", "check_dossier", active=False))
    assert slots == {} and messages == []  # the form then asks utter_ask_dossier_code


@pytest.mark.parametrize("text", ["tra cuu ho so 123-abc", "hồ sơ H39-2611-7 của tôi đâu rồi",
                                  "kiểm tra hồ sơ 000.22.261118"])
async def test_a_wrong_code_in_the_first_message_gets_the_format_explained(text):
    slots, messages = await validate(make_tracker(text, "check_dossier", active=False))
    assert slots == {"dossier_code": None}
    assert messages == ["utter_invalid_dossier_code"]


@pytest.mark.parametrize("text", ["hồ sơ nộp hôm 12-11 giờ sao rồi", "tra cứu hồ sơ, sđt 0912.345.678",
                                  "hồ sơ thủ tục 1.001193 nộp rồi", "xem hồ sơ ngày 12.11.2026"])
async def test_dates_phones_and_procedure_codes_up_front_are_not_taken_for_codes(text):
    slots, messages = await validate(make_tracker(text, "check_dossier", active=False))
    assert slots == {} and messages == []


@pytest.mark.parametrize("text, intent", [
    ("000.00.22.H39-26111-0007", "provide_info"),
    ("mã là 000.00.22.H39-261118-07", "check_dossier"),
    ("abc123", "provide_info"),
    ("1234", "provide_info"),
    ("12345", "nlu_fallback"),
])
async def test_a_wrong_code_gets_the_format_explained(text, intent):
    slots, messages = await validate(make_tracker(text, intent, requested="dossier_code"))
    assert slots == {"dossier_code": None}
    assert messages == ["utter_invalid_dossier_code"]


async def test_another_question_while_asked_for_the_code_is_left_to_other_rules():
    slots, messages = await validate(
        make_tracker("làm hộ chiếu cần giấy tờ gì", "ask_documents", requested="dossier_code"))
    assert slots == {} and messages == []  # nothing extracted: the form is rejected


@pytest.mark.parametrize("text", ["5678", "4 số cuối là 5678", "so cuoi 5678", "5 6 7 8",
                                  "bốn số cuối: 5678 ạ", "4 so cuoi la 5678", "dạ 5678"])
async def test_digits(text):
    slots, messages = await validate(
        make_tracker(text, slots={"dossier_code": CODE}, requested="verification_digits"))
    assert slots == {"verification_digits": "5678"}
    assert messages == []


@pytest.mark.parametrize("text, intent", [
    ("123", "provide_info"), ("56789", "provide_info"), ("0912345678", "provide_info"),
    ("0912.345.678", "provide_info"), ("không nhớ", "provide_info"), ("12 và 34", "provide_info"),
])
async def test_other_lengths_are_refused_with_a_clear_message(text, intent):
    slots, messages = await validate(
        make_tracker(text, intent, slots={"dossier_code": CODE}, requested="verification_digits"))
    assert slots == {"verification_digits": None}
    assert messages == ["utter_invalid_verification_digits"]


async def test_another_question_while_asked_for_digits_is_left_to_other_rules():
    slots, messages = await validate(make_tracker(
        "cho tôi gặp cán bộ", "request_human", slots={"dossier_code": CODE},
        requested="verification_digits"))
    assert slots == {} and messages == []


async def test_code_and_digits_in_one_answer():
    slots, _ = await validate(make_tracker(f"{CODE} 5678", slots={"dossier_code": CODE},
                                           requested="verification_digits"))
    assert slots == {"dossier_code": CODE, "verification_digits": "5678"}


async def test_digits_given_with_the_code_up_front():
    slots, _ = await validate(make_tracker(f"hồ sơ {CODE}, 4 số cuối 5678", "check_dossier",
                                           active=False))
    assert slots == {"dossier_code": CODE, "verification_digits": "5678"}


async def test_other_numbers_up_front_are_not_taken_for_digits():
    slots, _ = await validate(make_tracker(f"hồ sơ nộp năm 2026 mã {CODE}", "check_dossier",
                                           active=False))
    assert slots == {"dossier_code": CODE}


async def test_a_malformed_code_at_the_digits_step_is_not_taken_for_digits():
    slots, messages = await validate(make_tracker(
        "000.00.22.H39-26111-0007", slots={"dossier_code": CODE}, requested="verification_digits"))
    assert slots == {"dossier_code": None}
    assert messages == ["utter_invalid_dossier_code"]


async def test_digits_after_they_were_asked_again_outside_the_form():
    asked = [{"event": "action", "name": "action_lookup_dossier"},
             {"event": "action", "name": "utter_ask_verification_digits"}]
    slots, _ = await validate(make_tracker("5678", slots={"dossier_code": CODE}, active=False,
                                           before=asked))
    assert slots == {"verification_digits": "5678"}


def test_digits_in():
    codes = codes_for(DEFAULT_DOSSIER_CODE_PATTERN)
    assert digits_in("4 số cuối là 5678", codes) == "5678"
    assert digits_in(f"{CODE} số cuối 1234", codes) == "1234"
    assert digits_in("không có", codes) is None
    assert digits_in("123", codes) == "123"


# -- the lookup ----------------------------------------------------------------------------------

@pytest.fixture
def use_service(service, monkeypatch):
    async def provide():
        return service

    monkeypatch.setattr(actions, "dossier_service", provide)
    return service


async def run_lookup(code, digits, sender="conv-1"):
    tracker = make_tracker(str(digits), slots={"dossier_code": code, "verification_digits": digits},
                           sender=sender)
    dispatcher = CollectingDispatcher()
    events = await ActionLookupDossier().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages == []  # the rules pick the response
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}, events


async def test_lookup_sets_the_answer_slots_and_resets_the_form(use_service):
    await import_text(use_service, csv_text(row(due="2026-11-17T17:00:00")))
    slots, _ = await run_lookup(CODE, "5678")
    assert slots["dossier_state"] == "processing"
    assert slots["dossier_reference"] == CODE
    assert slots["dossier_applicant"] == "N*** V*** A***"
    assert slots["dossier_agency"] == "UBND phường Hồng Châu"
    assert slots["dossier_procedure"] == "Thủ tục đăng ký khai sinh"
    assert (slots["dossier_submitted"], slots["dossier_due"]) == ("18/11/2026", "17/11/2026")
    assert slots["dossier_overdue"] is True and slots["dossier_overdue_days"] == "3"
    assert slots["dossier_code"] is None and slots["verification_digits"] is None
    assert set(slots) <= set(DOMAIN["slots"])
    assert all("0912" not in str(v) and "Nguyễn" not in str(v) for v in slots.values())


async def test_unknown_code_and_wrong_digits_give_the_same_slots(use_service):
    await import_text(use_service, csv_text(row()))
    wrong, _ = await run_lookup(CODE, "0000", sender="a")
    unknown, _ = await run_lookup(OTHER, "5678", sender="b")
    assert wrong["dossier_state"] == "not_found"
    assert {**wrong, "dossier_reference": None} == {**unknown, "dossier_reference": None}
    assert wrong["dossier_procedure"] is None and wrong["dossier_applicant"] is None


async def test_previous_answers_do_not_leak_into_the_next(use_service):
    await import_text(use_service, csv_text(row()))
    await run_lookup(CODE, "5678")
    slots, _ = await run_lookup(OTHER, "5678")
    assert slots["dossier_procedure"] is None and slots["dossier_agency"] is None


async def test_lookup_locked_after_the_limit(use_service):
    await import_text(use_service, csv_text(row()))
    for _ in range(5):
        await run_lookup(CODE, "0000")
    slots, _ = await run_lookup(CODE, "5678")
    assert slots["dossier_state"] == "locked"
    assert slots["dossier_retry_minutes"] == "60"
    assert slots["dossier_procedure"] is None


async def test_unusable_digits_keep_the_code(use_service):
    slots, _ = await run_lookup(CODE, "56")
    assert slots["dossier_state"] == "invalid_digits"
    assert "dossier_code" not in slots and slots["verification_digits"] is None
    slots, _ = await run_lookup(None, "5678")
    assert slots["dossier_state"] == "invalid_code" and slots["dossier_code"] is None


async def test_database_failure_says_unavailable(monkeypatch, caplog):
    async def broken():
        raise ConnectionRefusedError("db down")

    monkeypatch.setattr(actions, "dossier_service", broken)
    slots, _ = await run_lookup(CODE, "5678")
    assert slots["dossier_state"] == "unavailable"
    assert "5678" not in caplog.text


async def test_lookup_through_the_process_services(service):
    """The real wiring: bot.services holds the dossier service the action uses."""
    from bot import services as services_module

    await import_text(service, csv_text(row(status="completed")))
    services_module.set_services(services_module.Services(
        settings=service.settings, engine=service.engine, catalogue=None, dossiers=service))
    try:
        slots, _ = await run_lookup(CODE, "5678")
    finally:
        services_module.set_services(None)
    assert slots["dossier_state"] == "completed"
