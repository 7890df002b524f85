"""Two replicas of the assistant behind one webhook address, sharing Redis: a redelivery that lands
on the other replica is still answered once, the rotating Zalo refresh token is used by one replica
at a time, and a digit answers choices offered by the other replica. (The two Rasa servers share one
action server here, to start faster; replicas in production would each have theirs or share a pool.)"""

from __future__ import annotations

import concurrent.futures
import json
import threading
import uuid

import pytest

from bot.channels import fakes
from bot.settings import PROJECT_ROOT
from tests.channels.conftest import (
    REDIS_TEST_URL,
    RasaReplica,
    channel_env,
    require_services,
    wait_for_zalo_listener,
    zalo_listener_url,
)
from tests.channels.users import MessengerUser, ZaloUser, joined, procedure_code

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def replicas(channel_stack, demo_db, tmp_path_factory):
    """Two Rasa servers with the channels, sharing Redis (and the channel stack's action server)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001
        if require_services():
            pytest.fail(f"Redis unreachable at {REDIS_TEST_URL} and REQUIRE_SERVICES=1: {error}")
        pytest.skip(f"Redis unreachable at {REDIS_TEST_URL}: {error}")
    prefix = f"test:{uuid.uuid4().hex}:"
    credentials = (PROJECT_ROOT / "credentials.channels.yml").read_text("utf-8")
    with fakes.FakePlatforms(zalo_refresh_token="zr-0") as platforms:
        servers = []
        for index in range(2):
            state = tmp_path_factory.mktemp(f"replica-{index}")
            env = channel_env(platforms, state, DATABASE_URL=demo_db[0], REDIS_URL=REDIS_TEST_URL,
                              CHANNELS_KEY_PREFIX=prefix)
            servers.append(RasaReplica(channel_stack, env, credentials, state))
        errors = []

        def start(server):
            try:
                server.start()
            except Exception as error:  # noqa: BLE001
                errors.append(error)

        threads = [threading.Thread(target=start, args=(server,)) for server in servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            if errors:
                raise errors[0]
            for server in servers:
                wait_for_zalo_listener(server)
            yield servers, platforms
        finally:
            for server in servers:
                server.stop()
            client = redis.Redis.from_url(REDIS_TEST_URL)
            for key in client.scan_iter(prefix + "*"):
                client.delete(key)


def test_a_zalo_redelivery_to_the_other_replica_is_answered_once(replicas):
    (a, b), platforms = replicas
    user = ZaloUser(a, platforms, "zalo-replicated")
    body, headers = fakes.zalo_delivery(user.user_id, "Đăng ký kết hôn có mất phí không", msg_id="dup-across")
    urls = [zalo_listener_url(a), zalo_listener_url(b), f"{a.url}/webhooks/zalo/webhook",
            f"{b.url}/webhooks/zalo/webhook", zalo_listener_url(a), zalo_listener_url(b)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda url: fakes.post(url, body, headers), urls))
    statuses = sorted(json.loads(r[1])["status"] for r in results)
    assert statuses == ["accepted"] + ["duplicate"] * 5
    answered = platforms.collect("zalo_message", user._mine, 0, quiet=1.5)
    assert len(answered) == 1 and "1.000894" in answered[0].body["message"]["text"]


def test_a_messenger_redelivery_to_the_other_replica_is_answered_once(replicas):
    (a, b), platforms = replicas
    user = MessengerUser(a, platforms, "psid-replicated")
    body, headers = fakes.messenger_delivery(user.user_id, "Đăng ký kết hôn có mất phí không", mid="m_across")
    for stack in (a, b, b):
        assert fakes.post(f"{stack.url}/webhooks/messenger/webhook", body, headers)[0] == 200
    answered = platforms.collect("messenger_message", user._mine, 0, quiet=1.5)
    assert len(answered) == 1


def test_the_replicas_share_the_rotating_zalo_tokens(replicas):
    (a, b), platforms = replicas
    ZaloUser(a, platforms, "zalo-token-a").say("xin chào")
    ZaloUser(b, platforms, "zalo-token-b").say("xin chào")
    renewals = len(platforms.of("zalo_token"))
    assert renewals == 1  # the second replica found the renewed token in Redis
    platforms.expire_zalo_tokens()
    users = [ZaloUser(stack, platforms, f"zalo-expired-{i}") for i, stack in enumerate((a, b, a, b))]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda user: joined(user.say("Đăng ký kết hôn có mất phí không")), users))
    assert all("1.000894" in answer for answer in answers)
    assert len(platforms.of("zalo_token")) == renewals + 1
    used = [r.body["refresh_token"] for r in platforms.of("zalo_token")]
    assert used[0] == "zr-0" and len(set(used)) == len(used)  # each refresh token used once


def test_a_digit_answers_choices_offered_by_the_other_replica(replicas):
    (a, b), platforms = replicas
    on_a = ZaloUser(a, platforms, "zalo-choices")
    buttons = on_a.say("giấy phép")[-1]["attachment"]["payload"]["buttons"]
    on_b = ZaloUser(b, platforms, "zalo-choices")
    assert f"mã {procedure_code(buttons[0]['payload'])}" in joined(on_b.say("1"))
