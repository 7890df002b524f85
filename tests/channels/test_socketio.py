"""The website widget's channel (socket.io) without a browser: answers arrive, and a new socket
with the same session id continues the same conversation (what a page reload does)."""

import asyncio

import pytest
import socketio

pytestmark = pytest.mark.slow


async def turn(url: str, session_id: str, text: str, timeout: float = 30.0) -> list:
    # Long-polling: python-engineio's websocket client needs a newer aiohttp than Rasa's pin.
    client = socketio.AsyncClient(reconnection=False)
    answers: list = []
    confirmed = asyncio.Event()
    answered = asyncio.Event()

    @client.on("session_confirm")
    async def on_confirm(data):
        confirmed.set()

    @client.on("bot_uttered")
    async def on_bot(data):
        answers.append(data)
        answered.set()

    await client.connect(url, socketio_path="/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), timeout)
        await client.emit("user_uttered", {"message": text, "session_id": session_id})
        await asyncio.wait_for(answered.wait(), timeout)
        await asyncio.sleep(0.5)  # a turn may send more than one message
    finally:
        # A polite disconnect waits for the pending long-poll (up to 30 s); drop the transport.
        await client.eio.disconnect(abort=True)
        leftovers = [t for t in asyncio.all_tasks()
                     if "engineio" in getattr(getattr(t.get_coro(), "cr_code", None), "co_filename", "")]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        if client.eio.http is not None:
            await client.eio.http.close()
    return answers


async def test_answers_reach_the_session_and_survive_a_new_socket(channel_stack):
    session = "test-session-0001"
    first = await turn(channel_stack.url, session, "Đăng ký kết hôn có mất phí không")
    assert any("1.000894" in a.get("text", "") for a in first)
    again = await turn(channel_stack.url, session, "vậy cần mang theo giấy tờ gì?")
    assert any("Giấy tờ cần chuẩn bị" in a.get("text", "") and "1.000894" in a.get("text", "") for a in again)


async def test_buttons_arrive_as_quick_replies(channel_stack):
    answers = await turn(channel_stack.url, "test-session-0002", "giấy phép")
    replies = [a for a in answers if a.get("quick_replies")]
    assert replies and all(r["payload"].startswith("/find_procedure") for r in replies[0]["quick_replies"])
