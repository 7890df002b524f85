"""ActionResolveProcedure with inline trackers, on the real imported catalogue."""

import json

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.procedures import ActionResolveProcedure


def tracker(text, intent, slots=None, entities=None):
    return Tracker(
        sender_id="test",
        slots=slots or {},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.99},
            "entities": entities or [],
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(t):
    dispatcher = CollectingDispatcher()
    events = await ActionResolveProcedure().run(dispatcher, t, {})
    assert dispatcher.messages == []  # answers come from domain responses, chosen by rules
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_curated_procedure_fills_all_answers(services):
    slots = await run(tracker("Đăng ký kết hôn có mất phí không", "ask_fee"))
    assert slots["procedure_state"] == "found"
    assert slots["requested_aspect"] == "fee"
    assert slots["procedure_code"] == "1.000894"
    assert slots["procedure_url"].startswith("https://dichvucong.gov.vn/")
    for name in ("procedure_documents", "procedure_fee", "procedure_duration", "procedure_steps"):
        assert slots[name] and len(slots[name]) <= 1600
    assert "bản chính" in slots["procedure_documents"] or "bản sao" in slots["procedure_documents"]


async def test_no_diacritics_and_abbreviations(services):
    slots = await run(tracker("lam gks cho con can giay to j", "ask_documents"))
    assert slots["procedure_state"] == "found"
    assert slots["procedure_code"] in {"1.001193", "2.000986"}


async def test_follow_up_keeps_the_procedure_in_context(services):
    slots = await run(tracker("vậy mất bao lâu?", "ask_duration", slots={"procedure_code": "1.001456"}))
    assert slots["procedure_state"] == "found"
    assert slots["requested_aspect"] == "duration"
    assert slots["procedure_code"] == "1.001456"


async def test_new_procedure_replaces_the_context(services):
    slots = await run(tracker("còn đăng ký tạm trú thì sao", "find_procedure", slots={"procedure_code": "1.001456"}))
    assert slots["procedure_code"] == "1.004194"


async def test_follow_up_without_context_asks(services):
    slots = await run(tracker("mất bao lâu vậy", "ask_duration"))
    assert slots["procedure_state"] == "missing"
    assert "procedure_code" not in slots


async def test_a_linked_service_is_taken_over_its_own_parts(services):
    # The newborn service (birth + residence + health insurance) and the birth registration it
    # includes score close together: the linked service is the answer, not a choice between them.
    slots = await run(tracker("con toi moi sinh can lam giay to gi", "find_procedure"))
    assert slots["procedure_state"] == "found"
    assert slots["procedure_code"] == "2.000986"


@pytest.mark.parametrize("text", ["kể chuyện cười đi", "giá vàng hôm nay", "ban co buon khong", "cách làm bánh flan"])
async def test_chit_chat_stays_out_of_scope(services, text):
    slots = await run(tracker(text, "ask_out_of_scope", slots={"procedure_code": "1.001456"}))
    assert slots["procedure_state"] == "out_of_scope"
    assert "procedure_code" not in slots  # the procedure in context stays for the next question


async def test_a_clear_procedure_question_read_as_out_of_scope_is_answered(services):
    slots = await run(tracker("có được hỗ trợ tiền mai táng ko", "ask_out_of_scope"))
    assert slots["procedure_state"] == "found"
    assert slots["procedure_code"] == "1.001731"  # funeral support


async def test_vague_question_offers_three_choices(services):
    slots = await run(tracker("giấy phép", "find_procedure"))
    assert slots["procedure_state"] == "ambiguous"
    payloads = [slots[f"choice_{n}_payload"] for n in (1, 2, 3)]
    assert all(p.startswith('/find_procedure{"procedure_code": "') for p in payloads)
    assert len({json.loads(p[len("/find_procedure"):])["procedure_code"] for p in payloads}) == 3
    assert all(len(slots[f"choice_{n}"]) <= 60 for n in (1, 2, 3))


async def test_choice_button_payload_resolves(services):
    entities = [{"entity": "procedure_code", "value": "1.004884"}]
    slots = await run(tracker('/ask_fee{"procedure_code": "1.004884"}', "ask_fee", entities=entities))
    assert slots["procedure_state"] == "found"
    assert slots["procedure_code"] == "1.004884"


async def test_catalogue_only_procedure_says_less(services):
    slots = await run(tracker("thủ tục 1.000005", "find_procedure", entities=[{"entity": "procedure_code", "value": "1.000005"}]))
    assert slots["procedure_state"] == "catalogue_only"
    assert slots["procedure_documents"] is None and slots["procedure_fee"] is None


@pytest.mark.parametrize("text", ["", "😀😀😀", "x" * 20000, "\x00\x01", "' OR 1=1 --"])
async def test_bad_input_never_crashes(services, text):
    slots = await run(tracker(text, "find_procedure"))
    assert slots["procedure_state"] in {"missing", "ambiguous", "found", "catalogue_only"}
