"""Zalo OA end to end: the running assistant, signed and forged webhooks, the fake OA API."""

from __future__ import annotations

import concurrent.futures
import json
import os
import stat
import time

import pytest

from bot.channels import fakes
from tests.channels.users import ZaloUser, joined, procedure_code

pytestmark = pytest.mark.slow


@pytest.fixture
def zalo(channel_stack, platforms, request):
    return ZaloUser(channel_stack, platforms, f"zalo-{request.node.name}")


def nothing_sent_to(platforms, user_id: str, wait: float = 1.5) -> bool:
    time.sleep(wait)
    return not platforms.of("zalo_message", lambda r: r.body["recipient"]["user_id"] == user_id) and \
        not platforms.of("zalo_message_rejected", lambda r: r.body["recipient"]["user_id"] == user_id)


def test_a_procedure_question_its_follow_up_and_numbered_choices(channel_stack, zalo, platforms):
    answer = joined(zalo.say("Đăng ký kết hôn có mất phí không"))
    assert "1.000894" in answer and "phí" in answer and "dichvucong.gov.vn" in answer
    answer = joined(zalo.say("vậy cần mang theo giấy tờ gì?"))
    assert "Giấy tờ cần chuẩn bị" in answer and "1.000894" in answer

    # Buttons: a numbered list in the text and the same choices as Zalo quick actions.
    messages = zalo.say("giấy phép")
    choice = messages[-1]
    buttons = choice["attachment"]["payload"]["buttons"]
    assert 2 <= len(buttons) <= 5
    assert all(b["type"] == "oa.query.hide" and b["payload"].startswith("/find_procedure") for b in buttons)
    assert all(len(b["title"]) <= 100 for b in buttons)
    for number, button in enumerate(buttons, start=1):
        assert f"\n{number}. {button['title'][:30]}" in choice["text"]
    code, name = procedure_code(buttons[1]["payload"]), buttons[1]["title"].rstrip("…")[:25]

    # The user answers with a digit: the second choice.
    answer = joined(zalo.say("2"))
    assert f"mã {code}" in answer and "Thủ tục phù hợp" in answer
    # A follow-up keeps the chosen procedure.
    answer = joined(zalo.say("mất bao lâu?"))
    assert "Thời hạn giải quyết" in answer and name in answer

    # Tapping a quick action sends its payload back as the user's (hidden) message.
    other = ZaloUser(channel_stack, platforms, zalo.user_id + "-tap")
    choice = other.say("giấy phép")[-1]
    tapped = choice["attachment"]["payload"]["buttons"][0]
    code = procedure_code(tapped["payload"])
    assert f"mã {code}" in joined(other.say(tapped["payload"]))

    # Every webhook call was acknowledged well within Zalo's 2 seconds.
    assert max(zalo.acks) < 0.5, zalo.acks


def test_a_dossier_lookup(zalo, demo_db, trained_with):
    trained_with("dossier_status_form")
    _, code, digits = demo_db
    assert "mã hồ sơ" in joined(zalo.say("tra cứu hồ sơ")).lower()
    assert "4 số cuối" in joined(zalo.say(code))
    answer = joined(zalo.say(digits))
    assert code in answer and "Hồ sơ" in answer


def test_a_sticker_gets_a_polite_answer(zalo, trained_with):
    trained_with("send_unsupported_media")
    attachments = [{"type": "sticker", "payload": {"id": "1234", "url": "https://zalo.example/s.png"}}]
    answer = joined(zalo.say(event_name="user_send_sticker", attachments=attachments))
    assert "chỉ đọc được tin nhắn chữ" in answer
    answer = joined(zalo.say(event_name="user_send_image", attachments=[{"type": "image"}]))
    assert "chỉ đọc được tin nhắn chữ" in answer


@pytest.mark.parametrize("via", ["listener", "rasa"])
def test_forged_stale_and_foreign_requests_are_refused_and_not_processed(channel_stack, platforms, via, request):
    zalo = ZaloUser(channel_stack, platforms, f"zalo-forged-{via}", via=via)
    url = zalo.url
    body, headers = fakes.zalo_delivery(zalo.user_id, "xin chào")
    # No signature, a signature made with another key, a body changed after signing.
    assert fakes.post(url, body, {"Content-Type": "application/json"})[0] == 403
    _, forged = fakes.zalo_delivery(zalo.user_id, "xin chào", oa_secret_key="not-the-key")
    assert fakes.post(url, body, {**headers, **forged})[0] in (403,)
    tampered = body.replace("xin chào".encode(), "tạm biệt".encode())
    assert fakes.post(url, tampered, headers)[0] == 403
    # Correctly signed, but for another app, or from ten minutes ago, or from the future.
    other_app = fakes.zalo_delivery(zalo.user_id, "xin chào", app_id="999")
    assert fakes.post(url, *other_app)[0] == 403
    stale = fakes.zalo_delivery(zalo.user_id, "xin chào", timestamp_ms=int((time.time() - 600) * 1000))
    assert fakes.post(url, *stale)[0] == 403
    future = fakes.zalo_delivery(zalo.user_id, "xin chào", timestamp_ms=int((time.time() + 600) * 1000))
    assert fakes.post(url, *future)[0] == 403
    # Not JSON, not an event.
    assert fakes.post(url, b"{not json", headers)[0] == 400
    assert fakes.post(url, b"[]", headers)[0] == 400
    assert nothing_sent_to(platforms, zalo.user_id)


def test_rasas_own_port_serves_the_webhook_too(channel_stack, platforms):
    zalo = ZaloUser(channel_stack, platforms, "zalo-via-rasa", via="rasa")
    assert "1.000894" in joined(zalo.say("Đăng ký kết hôn có mất phí không"))


def test_events_it_does_not_answer_are_acknowledged(zalo, platforms):
    for event in ("follow", "user_seen_message", "oa_send_text"):
        status, answer = zalo.send("x", event_name=event)
        assert (status, json.loads(answer)["status"]) == (200, "ignored")
    assert nothing_sent_to(platforms, zalo.user_id, wait=0.5)


def test_a_redelivered_message_is_answered_once(channel_stack, zalo, platforms):
    body, headers = fakes.zalo_delivery(zalo.user_id, "Đăng ký kết hôn có mất phí không", msg_id="dup-zalo-1")
    # Redeliveries may reach either port: they share one deduplication.
    urls = [zalo.url, ZaloUser(channel_stack, platforms, zalo.user_id, via="rasa").url] * 2
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda url: fakes.post(url, body, headers), urls))
    statuses = sorted(json.loads(r[1])["status"] for r in results)
    assert statuses == ["accepted", "duplicate", "duplicate", "duplicate"]
    assert all(r[0] == 200 for r in results)
    answered = platforms.collect("zalo_message", zalo._mine, 0, quiet=1.5)
    assert len(answered) == 1
    # Zalo retrying later (same msg_id) changes nothing either.
    assert json.loads(fakes.post(zalo.url, body, headers)[1])["status"] == "duplicate"
    time.sleep(1.0)
    assert len(zalo.received()) == 1


def test_tokens_were_renewed_once_and_stored_for_other_replicas(channel_stack, zalo, platforms):
    zalo.say("xin chào")
    renewals = platforms.of("zalo_token")
    assert renewals and renewals[0].body["refresh_token"] == "zr-0"
    assert renewals[0].headers.get("secret_key") == fakes.ZALO_APP_SECRET
    # Every message went out with a token in the header, never in the URL.
    for record in platforms.of("zalo_message"):
        assert record.headers["access_token"].startswith("za-") and not record.query
    store = channel_stack.state_dir / "zalo_tokens.json"
    saved = json.loads(store.read_text("utf-8"))
    assert saved["refresh_token"] == platforms.zalo_refresh_token  # the rotated one
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600


def test_an_expired_token_is_renewed_and_the_message_still_delivered(zalo, platforms):
    zalo.say("xin chào")
    renewals = len(platforms.of("zalo_token"))
    platforms.expire_zalo_tokens()
    answer = joined(zalo.say("Đăng ký kết hôn có mất phí không"))
    assert "1.000894" in answer
    assert len(platforms.of("zalo_token")) == renewals + 1
