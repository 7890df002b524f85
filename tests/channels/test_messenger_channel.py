"""Facebook Messenger end to end: the running assistant, signed and forged webhooks, the fake Graph API."""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from bot.channels import fakes
from bot.channels.splitting import text_length
from tests.channels.users import MessengerUser, joined, procedure_code

pytestmark = pytest.mark.slow


@pytest.fixture
def messenger(channel_stack, platforms, request):
    return MessengerUser(channel_stack, platforms, f"psid-{request.node.name}")


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_verify_token_handshake(channel_stack):
    base = f"{channel_stack.url}/webhooks/messenger/webhook?"
    good = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": fakes.MESSENGER_VERIFY_TOKEN,
                                   "hub.challenge": "1158201444"})
    assert get(base + good) == (200, "1158201444")
    bad = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.verify_token": "guess",
                                  "hub.challenge": "1158201444"})
    assert get(base + bad)[0] == 403


def test_a_procedure_question_its_follow_up_and_quick_replies(channel_stack, messenger, platforms):
    answer = joined(messenger.say("Đăng ký kết hôn có mất phí không"))
    assert "1.000894" in answer and "phí" in answer
    answer = joined(messenger.say("vậy cần mang theo giấy tờ gì?"))
    assert "Giấy tờ cần chuẩn bị" in answer and "1.000894" in answer

    choice = messenger.say("giấy phép")[-1]
    replies = choice["quick_replies"]
    assert 2 <= len(replies) <= 13
    assert all(r["content_type"] == "text" and text_length(r["title"]) <= 20 for r in replies)
    assert [r["title"][:2] for r in replies] == [f"{n}." for n in range(1, len(replies) + 1)]
    assert "\n1. " in choice["text"] and "\n2. " in choice["text"]

    # Tapping a quick reply sends its payload.
    code = procedure_code(replies[0]["payload"])
    answer = joined(messenger.say("x", quick_reply_payload=replies[0]["payload"]))
    assert f"mã {code}" in answer
    answer = joined(messenger.say("các bước thế nào"))
    # The follow-up stays on the chosen procedure: its steps, or, for one known only from the
    # national list, its code and official page again.
    assert "Các bước" in answer or f"mã {code}" in answer

    # Typing the number works as well.
    other = MessengerUser(channel_stack, platforms, messenger.user_id + "-digit")
    replies = other.say("giấy phép")[-1]["quick_replies"]
    assert f"mã {procedure_code(replies[1]['payload'])}" in joined(other.say("2"))

    # Outbound calls: the Send API with the page token, as responses to the user.
    for record in platforms.of("messenger_message", messenger._mine):
        assert record.path.endswith("/me/messages") and record.body["messaging_type"] == "RESPONSE"


def test_a_dossier_lookup(messenger, demo_db, trained_with):
    trained_with("dossier_status_form")
    _, code, digits = demo_db
    answer = joined(messenger.say(f"tra cứu hồ sơ {code}"))
    assert "4 số cuối" in answer
    answer = joined(messenger.say(digits))
    assert code in answer and "Hồ sơ" in answer


def test_an_image_gets_a_polite_answer(messenger, trained_with):
    trained_with("send_unsupported_media")
    image = [{"type": "image", "payload": {"url": "https://scontent.example/x.jpg", "sticker_id": 369239263222822}}]
    assert "chỉ đọc được tin nhắn chữ" in joined(messenger.say(attachments=image))


def test_forged_requests_get_403_and_are_not_processed(messenger, platforms):
    body, headers = fakes.messenger_delivery(messenger.user_id, "xin chào")
    url = messenger.url
    assert fakes.post(url, body, {"Content-Type": "application/json"})[0] == 403
    # The old SHA-1 header alone, even correctly computed, is not enough.
    sha1 = "sha1=" + hmac.new(fakes.MESSENGER_APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert fakes.post(url, body, {"Content-Type": "application/json", "X-Hub-Signature": sha1})[0] == 403
    _, forged = fakes.messenger_delivery(messenger.user_id, "xin chào", app_secret="guessed")
    assert fakes.post(url, body, forged)[0] == 403
    assert fakes.post(url, body.replace(b"xin", b"XIN"), headers)[0] == 403
    time.sleep(1.5)
    assert not platforms.of("messenger_message", messenger._mine)


def test_a_redelivered_message_is_answered_once(messenger, platforms):
    body, headers = fakes.messenger_delivery(messenger.user_id, "Đăng ký kết hôn có mất phí không",
                                             mid="m_duplicate_1")
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: fakes.post(messenger.url, body, headers), range(3)))
    assert [r[0] for r in results] == [200, 200, 200]
    assert max(r[2] for r in results) < 0.5
    answered = platforms.collect("messenger_message", messenger._mine, 0, quiet=1.5)
    assert len(answered) == 1 and "1.000894" in answered[0].body["message"]["text"]
