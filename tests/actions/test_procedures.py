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


@pytest.mark.parametrize("text", ["vậy mất bao lâu?", "mất mấy ngày", "mat may ngay moi co",
                                  "mất bao nhiêu ngày", "bao nhiêu hôm thì có kết quả"])
async def test_follow_up_keeps_the_procedure_in_context(services, text):
    # "mấy ngày" is also in a life event's phrase ("con được mấy ngày tuổi"): a question word here.
    slots = await run(tracker(text, "ask_duration", slots={"procedure_code": "1.004873"}))
    assert slots["procedure_state"] == "found"
    assert slots["requested_aspect"] == "duration"
    assert slots["procedure_code"] == "1.004873"


@pytest.mark.parametrize("text, intent", [
    ("có cần công chứng không", "ask_documents"),
    ("có cần giấy khai sinh không", "ask_documents"),
    ("cần mang sổ hộ khẩu không", "ask_documents"),
    ("bản sao giấy khai sinh có được không", "ask_documents"),
    ("photo công chứng mấy bản", "ask_documents"),
    ("có cần giấy ủy quyền không", "ask_documents"),
    ("nhờ người khác nộp hộ được không", "ask_steps"),
    ("mẫu tờ khai ở đâu", "ask_documents"),
    ("điền tờ khai thế nào", "ask_steps"),
    ("bao giờ có kết quả", "ask_duration"),
    ("khi nào thì lấy được", "ask_duration"),
    ("mấy giờ làm việc", "ask_agency"),
    ("thu 7 co lam ko", "ask_agency"),
    ("lam tren mang dc ko", "ask_online"),
    ("phí bao nhiêu vậy", "ask_fee"),
    ("hồ sơ bị trả lại thì sao", "ask_steps"),
])
async def test_a_follow_up_that_brushes_other_names_stays_on_the_context(services, text, intent):
    # Each of these matches some other procedure's name in the catalogue ("tờ khai hải quan",
    # "Chứng thực chữ ký", "Đăng ký khai sinh"...), but asks about the procedure in context.
    slots = await run(tracker(text, intent, slots={"procedure_code": "1.004873"}))
    assert slots["procedure_state"] == "found"
    assert slots["procedure_code"] == "1.004873"


@pytest.mark.parametrize("text, intent, code", [
    ("thế còn làm hộ chiếu thì cần giấy tờ gì", "ask_documents", "1.001456"),
    ("còn khai tử thì sao", "find_procedure", "1.000656"),
    ("doi gplx online dc ko", "ask_online", "3.000347"),
    ("dang ky xe may moi mua can gi", "ask_documents", "1.013067"),
    ("mở quán karaoke cần giấy phép gì", "ask_documents", "1.001029"),
    ("chứng thực chữ ký trên giấy ủy quyền ở đâu", "ask_agency", "2.000884"),
    ("có cần xin giấy phép xây dựng nhà ở không", "find_procedure", "1.013225"),
    # A situation told in full names its procedure even when no alias is in it word for word.
    ("tôi vừa mua lại chiếc xe máy cũ của hàng xóm, giờ muốn đứng tên chính chủ thì cần giấy tờ gì",
     "ask_documents", "1.013076"),
])
async def test_a_follow_up_that_names_another_procedure_replaces_the_context(services, text, intent, code):
    slots = await run(tracker(text, intent, slots={"procedure_code": "1.004873"}))
    assert slots["procedure_code"] == code


async def test_new_procedure_replaces_the_context(services):
    slots = await run(tracker("còn đăng ký tạm trú thì sao", "find_procedure", slots={"procedure_code": "1.001456"}))
    assert slots["procedure_code"] == "1.004194"


async def test_a_vague_aspect_question_offers_choices(services):
    slots = await run(tracker("làm thẻ ở đâu", "ask_agency"))
    assert slots["procedure_state"] == "ambiguous"


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


@pytest.mark.parametrize("text, intent", [
    ("vo chong toi muon ly hon thi lam o dau", "ask_agency"),
    ("thuận tình ly hôn cần giấy tờ gì", "ask_documents"),
    ("tranh chấp thừa kế đất đai giữa anh em", "find_procedure"),
])
async def test_a_matter_for_the_courts_is_said_so(services, text, intent):
    # "ly hôn" is in an alias of marriage registration ("kết hôn lần hai sau ly hôn"): not that.
    slots = await run(tracker(text, intent, slots={"procedure_code": "1.001193"}))
    assert slots["procedure_state"] == "court"
    assert slots["requested_aspect"] == "summary"
    assert "procedure_code" not in slots


@pytest.mark.parametrize("text, code", [
    ("kết hôn lần hai sau ly hôn cần giấy tờ gì", "1.000894"),
    ("xin giấy xác nhận tình trạng hôn nhân sau khi ly hôn", "1.004873"),
])
async def test_a_past_divorce_is_part_of_a_civil_status_procedure(services, text, code):
    slots = await run(tracker(text, "ask_documents"))
    assert slots["procedure_code"] == code


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


def unsure(text, ranking, slots=None):
    """A tracker whose message the NLU could not classify (nlu_fallback), with its ranking."""
    t = tracker(text, "nlu_fallback", slots=slots)
    t.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.3}] + [
        {"name": name, "confidence": confidence} for name, confidence in ranking
    ]
    return t


async def test_an_unsure_nlu_between_two_procedure_questions_answers_the_first(services):
    text = "bi mat ho chieu o nha, phai trinh bao o dau truoc khi lam lai"
    slots = await run(unsure(text, [("ask_agency", 0.50), ("ask_steps", 0.49), ("check_dossier", 0.0)]))
    assert slots["requested_aspect"] == "agency"
    assert slots["procedure_code"] == "1.010386"  # reporting a lost passport, at the commune police


@pytest.mark.parametrize("text, ranking", [
    ("😀😀😀", [("say_greeting", 0.37), ("say_goodbye", 0.36)]),
    ("đang thất nghiệp, muốn được giới thiệu việc làm miễn phí thì đến đâu", [("ask_out_of_scope", 0.47), ("ask_fee", 0.43)]),
    ("ok", []),
])
async def test_an_unsure_nlu_on_anything_else_is_not_understood(services, text, ranking):
    slots = await run(unsure(text, ranking, slots={"procedure_code": "1.001456"}))
    assert slots == {"requested_aspect": "summary", "procedure_state": "not_understood"}  # context kept
