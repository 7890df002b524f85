"""The Zalo webhook's checks without servers: signature, app, age, events, duplicates, back-pressure."""

import asyncio
import json
import socket
import time
import urllib.request

import pytest

from bot.channels import fakes
from bot.channels.background import BackgroundWorker
from bot.channels.choices import ChoiceMemory
from bot.channels.dedup import Deduplicator
from bot.channels.listener import ThreadedListener
from bot.channels.store import MemoryStore
from bot.channels.zalo import UNSUPPORTED_MEDIA_PAYLOAD, ZaloInput
from bot.channels.zalo_api import FileTokenStore, ZaloClient


@pytest.fixture
async def channel(tmp_path):
    client = ZaloClient(fakes.ZALO_APP_ID, fakes.ZALO_APP_SECRET, FileTokenStore(tmp_path / "t.json"))
    zalo = ZaloInput(fakes.ZALO_APP_ID, fakes.ZALO_OA_SECRET_KEY, client,
                     Deduplicator(MemoryStore(), "zalo"), ChoiceMemory(MemoryStore(), "zalo"),
                     worker=BackgroundWorker("zalo", max_pending=3))
    received = []

    async def on_new_message(message):
        received.append(message)

    zalo.blueprint(on_new_message)
    zalo._rasa_loop = asyncio.get_running_loop()
    zalo.received = received
    yield zalo
    await zalo.worker.drain()


async def deliver(zalo, body_headers):
    body, headers = body_headers
    return await zalo.accept(body, headers, "127.0.0.1")


async def test_a_signed_text_is_accepted_and_handled(channel):
    status, answer = await deliver(channel, fakes.zalo_delivery("u1", "xin chào", msg_id="a1"))
    assert (status, answer) == (200, {"status": "accepted"})
    await asyncio.sleep(0.05)
    await channel.worker.drain()
    [message] = channel.received
    assert (message.text, message.sender_id, message.input_channel) == ("xin chào", "u1", "zalo")
    assert message.metadata == {"zalo": {"msg_id": "a1", "event": "user_send_text"}}
    assert (await deliver(channel, fakes.zalo_delivery("u1", "xin chào", msg_id="a1")))[1] == {"status": "duplicate"}


async def test_media_becomes_the_unsupported_media_payload(channel):
    for event in ("user_send_sticker", "user_send_image", "user_send_file", "user_send_audio"):
        assert (await deliver(channel, fakes.zalo_delivery("u2", None, event_name=event)))[0] == 200
        await asyncio.sleep(0.01)
        await channel.worker.drain()
    assert [m.text for m in channel.received] == [UNSUPPORTED_MEDIA_PAYLOAD] * 4


async def test_refusals(channel):
    body, headers = fakes.zalo_delivery("u3", "x")
    assert (await channel.accept(body, {}, "ip"))[0] == 403
    assert (await channel.accept(body + b" ", headers, "ip"))[0] == 403
    assert (await deliver(channel, fakes.zalo_delivery("u3", "x", app_id="1")))[0] == 403
    old = int((time.time() - 301) * 1000)
    assert (await deliver(channel, fakes.zalo_delivery("u3", "x", timestamp_ms=old)))[1] == {"error": "stale event"}
    assert (await channel.accept(b"\xff\xfe", headers, "ip"))[0] == 400
    assert (await channel.accept(b'{"no": "timestamp"}', headers, "ip"))[0] == 400
    assert (await channel.accept(b"x" * 70_000, headers, "ip"))[0] == 413
    assert (await deliver(channel, fakes.zalo_delivery("u3", "x", event_name="follow")))[1] == {"status": "ignored"}
    await asyncio.sleep(0.01)
    assert channel.received == []


async def test_back_pressure_answers_503_before_claiming_the_delivery(channel):
    gate = asyncio.Event()

    async def slow(message):
        await gate.wait()

    channel._on_new_message = slow
    for number in range(3):
        assert (await deliver(channel, fakes.zalo_delivery(f"u{number}", "x", msg_id=f"b{number}")))[0] == 200
    await asyncio.sleep(0.01)
    busy = fakes.zalo_delivery("u9", "x", msg_id="b9")
    assert (await deliver(channel, busy))[0] == 503
    gate.set()
    await asyncio.sleep(0.01)
    await channel.worker.drain()
    assert (await deliver(channel, busy))[1] == {"status": "accepted"}  # Zalo's retry gets through


async def test_the_listener_answers_from_its_own_thread(channel):
    from bot.stack import free_port

    port = free_port()
    listener = ThreadedListener("127.0.0.1", port, "/webhooks/zalo/webhook", channel.accept, "zalo")
    listener.start()
    try:
        body, headers = fakes.zalo_delivery("u5", "xin chào", msg_id="l1")
        status, text, _ = await asyncio.to_thread(
            fakes.post, f"http://127.0.0.1:{port}/webhooks/zalo/webhook", body, headers)
        assert (status, json.loads(text)) == (200, {"status": "accepted"})
        await asyncio.sleep(0.05)
        await channel.worker.drain()
        assert [m.text for m in channel.received] == ["xin chào"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/webhooks/zalo/", timeout=5) as health:
            assert json.load(health) == {"status": "ok"}
    finally:
        listener.stop()


def test_a_busy_port_is_reported():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        listener = ThreadedListener("127.0.0.1", taken.getsockname()[1], "/w/webhook", None, "zalo")
        with pytest.raises(OSError):
            listener.start()
    finally:
        taken.close()
