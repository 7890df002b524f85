"""The threaded RabbitMQ event broker, against the real RabbitMQ (tests/integration/harness.py)."""

import time
import uuid

import pytest

from bot.resilience.broker import ThreadedPikaEventBroker
from rasa.utils.endpoints import EndpointConfig
from tests.integration import harness as h


@pytest.fixture()
def prefix():
    h.need_services("rabbitmq")
    prefix = f"broker{uuid.uuid4().hex[:8]}"
    yield prefix
    h.delete_rabbit(prefix)


async def _broker(prefix: str, **extra) -> ThreadedPikaEventBroker:
    rabbit = h.rabbit_parts()
    config = EndpointConfig(
        url=rabbit["host"], port=rabbit["port"], username=rabbit["user"], password=rabbit["password"],
        queues=[f"{prefix}_events"], exchange_name=f"{prefix}_exchange", type="bot.resilience.broker.ThreadedPikaEventBroker",
        **extra,
    )
    broker = await ThreadedPikaEventBroker.from_endpoint_config(config)
    assert broker is not None and broker.is_ready()
    return broker


def _event(number: int) -> dict:
    return {"event": "user", "sender_id": "s", "text": f"tin nhắn {number}", "timestamp": float(number)}


async def test_events_arrive_in_order_while_the_callers_loop_is_busy(prefix):
    broker = await _broker(prefix)
    try:
        for number in range(1500):
            broker.publish(_event(number))
            if number % 100 == 0:
                time.sleep(0.02)  # a turn's NLU holding the caller's loop: publishing goes on meanwhile
        events = await h.consume_events(prefix, 1500, timeout=30)
    finally:
        await broker.close()
    assert [e["text"] for e in events] == [f"tin nhắn {n}" for n in range(1500)]
    assert broker.dropped == 0


async def test_a_full_queue_drops_instead_of_growing_and_never_blocks(prefix):
    broker = await _broker(prefix, max_pending=10)
    try:
        broker._runner.loop.call_soon_threadsafe(time.sleep, 1.0)  # RabbitMQ side stalls for a second
        started = time.perf_counter()
        for number in range(50):
            broker.publish(_event(number))
        assert time.perf_counter() - started < 0.2
        assert broker.dropped == 40
        events = await h.consume_events(prefix, 10, timeout=15)
    finally:
        await broker.close()
    assert [e["text"] for e in events] == [f"tin nhắn {n}" for n in range(10)]


async def test_close_sends_what_is_waiting_then_refuses_more(prefix):
    broker = await _broker(prefix)
    broker._runner.loop.call_soon_threadsafe(time.sleep, 0.3)
    for number in range(200):
        broker.publish(_event(number))
    await broker.close()
    broker.publish(_event(999))  # after close: dropped, no error
    assert broker.dropped == 1
    events = await h.consume_events(prefix, 201, timeout=5)
    assert len(events) == 200
