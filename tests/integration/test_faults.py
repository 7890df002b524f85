"""Faults: the action server down or hung, PostgreSQL down or slow, Redis down.

One replica (Rasa server + action server, endpoints.production.yml) reaches PostgreSQL and Redis
through fault-injecting proxies (the real servers are shared, never stopped). In every fault the
user gets a short Vietnamese apology within a few seconds (HTTP 200, no error text), the assistant
recovers by itself when the service is back, and the tracker holds every message the user sent,
in order.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import aiohttp
import pytest

from tests.integration import harness as h
from tests.integration.proxy import TcpProxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# The apology must come within this many seconds (the timeouts below are set for it).
APOLOGY_WITHIN = 6.0
FAULT_ENV = {
    "TRACKER_STORE_TIMEOUT_SECONDS": "2",
    "REDIS_TIMEOUT_SECONDS": "1",
    "ACTION_TIMEOUT_SECONDS": "3",
    "OUTBOX_FLUSH_SECONDS": "1",
}


class Faults:
    def __init__(self, replica, pg, redis, database):
        self.replica, self.pg, self.redis, self.database = replica, pg, redis, database

    @property
    def url(self) -> str:
        return self.replica.url


@pytest.fixture(scope="module")
def faults(tmp_path_factory, catalogue_db):
    h.need_services("postgres", "redis", "rabbitmq")
    database = h.create_database("faults")
    prefix = f"faults{uuid.uuid4().hex[:8]}"
    log_dir = tmp_path_factory.mktemp("faults")
    try:
        with TcpProxy(int(h.pg_parts()["port"])) as pg, TcpProxy(int(h.redis_parts()["port"])) as redis:
            env = h.production_env(database, prefix=prefix, pg_port=pg.port, redis_port=redis.port)
            env.update(FAULT_ENV, DATABASE_URL=catalogue_db)
            replica = h.Replica(model=h.model_copy(log_dir), env=env,
                                endpoints_extra=h.production_endpoints(), log_dir=log_dir)
            with replica:
                yield Faults(replica, pg, redis, database)
    finally:
        h.delete_rabbit(prefix)
        h.drop_database(database)


def user_texts(tracker_json):
    return [e.get("text") for e in tracker_json["events"] if e["event"] == "user"]


async def _normal(session, url, sender, text, expect: str):
    status, elapsed, body = await h.say(session, url, sender, text)
    assert status == 200, body
    joined = "\n".join(h.texts(body))
    assert expect in joined, (text, body)
    return body


async def _apology(session, url, sender, text):
    status, elapsed, body = await h.say(session, url, sender, text, timeout=30)
    assert status == 200, body
    assert h.is_apology(body), body
    assert elapsed < APOLOGY_WITHIN, f"apology after {elapsed:.1f} s"
    assert "Traceback" not in json.dumps(body) and "Exception" not in json.dumps(body)
    return elapsed


async def _until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def _answered_again(session, url, sender, sent, text, within: float = 20.0):
    """Send ``text`` until it gets a real answer (each try is a message the tracker must keep)."""
    deadline = time.monotonic() + within
    while True:
        sent.append(text)
        status, _, body = await h.say(session, url, sender, text)
        assert status == 200, body
        if not h.is_apology(body):
            return body
        assert time.monotonic() < deadline, "no recovery"
        await asyncio.sleep(1)


def test_action_server_down_and_hung(faults):
    sender = f"actions-{uuid.uuid4().hex[:6]}"
    sent = []

    async def scenario():
        async with aiohttp.ClientSession() as session:
            url = faults.url
            sent.append("Đăng ký kết hôn có mất phí không")
            await _normal(session, url, sender, sent[-1], "1.000894")

            faults.replica.stop_actions()
            sent.append("làm hộ chiếu cần giấy tờ gì")
            await _apology(session, url, sender, sent[-1])
            sent.append("xin chào")  # needs no action: still answered
            await _normal(session, url, sender, sent[-1], "Xin chào")
            sent.append("tra cứu hồ sơ")  # the dossier form's validation needs the action server
            await _apology(session, url, sender, sent[-1])

            faults.replica.start_actions()
            sent.append("làm hộ chiếu cần giấy tờ gì")
            await _normal(session, url, sender, sent[-1], "hộ chiếu")

            # Hung (stopped, not dead): the call times out instead of waiting 5 minutes.
            faults.replica.pause_actions()
            try:
                sent.append("mất bao lâu?")
                await _apology(session, url, sender, sent[-1])
            finally:
                faults.replica.resume_actions()
            sent.append("Đăng ký kết hôn có mất phí không")
            await _normal(session, url, sender, sent[-1], "1.000894")
            return await h.tracker(session, url, sender)

    tracker = h.run(scenario())
    assert user_texts(tracker) == sent
    h.assert_well_formed(tracker)


def test_database_down(faults):
    sender, fresh = f"db-{uuid.uuid4().hex[:6]}", f"db-new-{uuid.uuid4().hex[:6]}"
    sent = []

    async def scenario():
        async with aiohttp.ClientSession() as session:
            url = faults.url
            sent.append("Đăng ký kết hôn có mất phí không")
            await _normal(session, url, sender, sent[-1], "1.000894")

            faults.pg.down()
            try:
                for text in ("vậy cần mang theo giấy tờ gì?", "mất bao lâu?"):
                    sent.append(text)
                    await _apology(session, url, sender, text)
                await _apology(session, url, fresh, "xin chào, tôi muốn làm giấy khai sinh")
            finally:
                faults.pg.up()

            # Recovers by itself: the next message is answered (after the ones kept meanwhile).
            await _answered_again(session, url, sender, sent, "nộp ở đâu?")
            return await h.tracker(session, url, sender)

    tracker = h.run(scenario())
    assert user_texts(tracker) == sent
    h.assert_well_formed(tracker)

    # The conversation that did not write again was written by the background flusher.
    async def flushed():
        rows = h.pg_query(faults.database, "select count(*) from events where sender_id = %s and type_name = 'user'",
                          fresh)
        return rows[0][0] == 1

    assert h.run(_until(flushed, 15))


def test_database_slow(faults):
    sender = f"slow-{uuid.uuid4().hex[:6]}"
    sent = []

    async def scenario():
        async with aiohttp.ClientSession() as session:
            url = faults.url
            sent.append("Đăng ký kết hôn có mất phí không")
            await _normal(session, url, sender, sent[-1], "1.000894")
            faults.pg.slow(2.5)
            try:
                sent.append("vậy cần mang theo giấy tờ gì?")
                await _apology(session, url, sender, sent[-1])
            finally:
                faults.pg.up()
            body = await _answered_again(session, url, sender, sent, "mất bao lâu?")
            assert "Thời hạn" in "\n".join(h.texts(body))
            return await h.tracker(session, url, sender)

    tracker = h.run(scenario())
    assert user_texts(tracker) == sent
    h.assert_well_formed(tracker)


def test_redis_down(faults):
    sender = f"redis-{uuid.uuid4().hex[:6]}"
    sent = []

    async def scenario():
        async with aiohttp.ClientSession() as session:
            url = faults.url
            sent.append("Đăng ký kết hôn có mất phí không")
            await _normal(session, url, sender, sent[-1], "1.000894")
            faults.redis.down()
            try:
                sent.append("vậy cần mang theo giấy tờ gì?")
                await _apology(session, url, sender, sent[-1])
            finally:
                faults.redis.up()
            body = await _answered_again(session, url, sender, sent, "mất bao lâu?")
            assert "Thời hạn" in "\n".join(h.texts(body))
            return await h.tracker(session, url, sender)

    tracker = h.run(scenario())
    assert user_texts(tracker) == sent
    h.assert_well_formed(tracker)
