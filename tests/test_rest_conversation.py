"""End-to-end: real Rasa server + action server over REST, with the trained model."""

import json
import urllib.request

import pytest
from rasa.model import get_latest_model

from bot.stack import Stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory, catalogue_db):
    model = get_latest_model("models")
    if model is None:
        pytest.fail("no trained model: `make test` trains one first")
    with Stack(model=model, env={"DATABASE_URL": catalogue_db}, log_dir=tmp_path_factory.mktemp("stack")) as running:
        yield running


def say(stack, sender, text):
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(f"{stack.url}/webhooks/rest/webhook", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        return json.load(response)


def texts(messages):
    return "\n".join(m.get("text", "") for m in messages)


def test_a_citizen_conversation(stack):
    reply = texts(say(stack, "citizen-1", "Đăng ký kết hôn có mất phí không"))
    assert "1.000894" in reply and "dichvucong.gov.vn" in reply and "phí" in reply
    reply = texts(say(stack, "citizen-1", "vậy cần mang theo giấy tờ gì?"))
    assert "Giấy tờ cần chuẩn bị" in reply and "1.000894" in reply
    reply = texts(say(stack, "citizen-1", "mat bao lau"))
    assert "Thời hạn giải quyết" in reply and "Đăng ký kết hôn" in reply


def test_no_diacritics_and_abbreviations(stack):
    reply = texts(say(stack, "citizen-2", "lam ho chieu online dc ko ad"))
    assert "1.001456" in reply


def test_messages_fit_chat_apps(stack):
    for text in ["đăng ký đất đai lần đầu cần giấy tờ gì", "các bước làm sổ đỏ lần đầu"]:
        for message in say(stack, "citizen-3", text):
            assert len(message.get("text", "")) <= 2000


@pytest.mark.parametrize("text", ["", " ", "😀" * 50, "a" * 100_000, "\u0000\u0001\u0002", "<script>alert(1)</script>"])
def test_bad_input_gets_an_answer(stack, text):
    messages = say(stack, "citizen-bad", text)
    assert isinstance(messages, list)
