"""The Zalo OA client against the local fake: token renewal and rotation, shared stores, retries."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import uuid

import pytest

from bot.channels import fakes
from bot.channels.http import HttpClient, TransientHttpError
from bot.channels.zalo_api import (
    FileTokenStore,
    RedisTokenStore,
    ZaloClient,
    ZaloTokenError,
    ZaloTokens,
    quick_actions,
)


@pytest.fixture
def fake():
    with fakes.FakePlatforms(zalo_refresh_token="zr-0") as platforms:
        yield platforms


def client(fake, store, seed="zr-0", **http) -> ZaloClient:
    return ZaloClient(fakes.ZALO_APP_ID, fakes.ZALO_APP_SECRET, store,
                      HttpClient(**{"backoff": 0.01, **http}), api_base=fake.url, oauth_base=fake.url,
                      seed_refresh_token=seed)


def test_nothing_opens_before_the_loop_runs(tmp_path):
    zalo = ZaloClient("1", "s", FileTokenStore(tmp_path / "t.json"))
    assert zalo.http._session is None


async def test_an_empty_store_is_seeded_by_one_renewal_and_kept_private(fake, tmp_path):
    store = FileTokenStore(tmp_path / "tokens.json")
    zalo = client(fake, store)
    try:
        await zalo.send_text("user-1", "Xin chào")
        await zalo.send_text("user-1", "Lần hai")
    finally:
        await zalo.close()
    assert [r.body["refresh_token"] for r in fake.of("zalo_token")] == ["zr-0"]
    sent = fake.of("zalo_message")
    assert [r.body for r in sent] == [
        {"recipient": {"user_id": "user-1"}, "message": {"text": "Xin chào"}},
        {"recipient": {"user_id": "user-1"}, "message": {"text": "Lần hai"}},
    ]
    assert sent[0].headers["access_token"] == sent[1].headers["access_token"] != ""
    saved = json.loads((tmp_path / "tokens.json").read_text())
    assert saved["refresh_token"] == fake.zalo_refresh_token != "zr-0"
    assert saved["expires_at"] > 0
    assert stat.S_IMODE(os.stat(tmp_path / "tokens.json").st_mode) == 0o600


async def test_an_expired_token_is_renewed_once_for_many_concurrent_messages(fake, tmp_path):
    zalo = client(fake, FileTokenStore(tmp_path / "tokens.json"))
    try:
        await zalo.send_text("u", "first")
        fake.expire_zalo_tokens()
        await asyncio.gather(*[zalo.send_text(f"u{i}", "again") for i in range(10)])
    finally:
        await zalo.close()
    assert len(fake.of("zalo_token")) == 2
    assert len(fake.of("zalo_message")) == 11


@pytest.mark.parametrize("kind", ["file", "redis"])
async def test_replicas_sharing_a_store_never_break_the_rotating_refresh_token(fake, tmp_path, kind, request):
    """Two processes' clients see the token expire at the same moment: only one renews (the other
    takes the renewed token from the store), so the single-use refresh token is used once."""
    if kind == "redis":
        url = request.getfixturevalue("redis_url")
        key = f"test:{uuid.uuid4().hex}:zalo:tokens"
        stores = [RedisTokenStore(url, key), RedisTokenStore(url, key)]
    else:
        stores = [FileTokenStore(tmp_path / "tokens.json"), FileTokenStore(tmp_path / "tokens.json")]
    replicas = [client(fake, store) for store in stores]
    fake.token_delay = 0.2  # a slow renewal widens the race
    try:
        await replicas[0].send_text("u", "warm up")
        await replicas[1].send_text("u", "warm up")
        assert len(fake.of("zalo_token")) == 1  # the second replica took the stored token
        fake.expire_zalo_tokens()
        await asyncio.gather(*[replicas[i % 2].send_text(f"u{i}", "after expiry") for i in range(6)])
        assert len(fake.of("zalo_token")) == 2
        assert len(fake.of("zalo_message")) == 8
        assert (await stores[0].get()).refresh_token == fake.zalo_refresh_token
    finally:
        if kind == "redis":
            await stores[0].client.delete(stores[0].key)
        for replica in replicas:
            await replica.close()


async def test_a_rejected_refresh_token_is_reported_and_the_store_kept(fake, tmp_path):
    store = FileTokenStore(tmp_path / "tokens.json")
    await store.put(ZaloTokens("old-access", "zr-stale", 0))
    zalo = client(fake, store, seed="zr-also-stale")
    try:
        with pytest.raises(ZaloTokenError):
            await zalo.send_text("u", "x")
    finally:
        await zalo.close()
    assert [r.body["refresh_token"] for r in fake.of("zalo_token")] == ["zr-stale", "zr-also-stale"]
    assert (await store.get()).refresh_token == "zr-stale"


async def test_a_new_seed_recovers_after_the_stored_chain_broke(fake, tmp_path):
    store = FileTokenStore(tmp_path / "tokens.json")
    await store.put(ZaloTokens("old-access", "zr-broken", 0))
    zalo = client(fake, store, seed="zr-0")  # the operator put a fresh refresh token in the env
    try:
        await zalo.send_text("u", "x")
    finally:
        await zalo.close()
    assert len(fake.of("zalo_message")) == 1
    assert (await store.get()).refresh_token == fake.zalo_refresh_token


async def test_transient_errors_are_retried(fake, tmp_path):
    zalo = client(fake, FileTokenStore(tmp_path / "tokens.json"))
    try:
        await zalo.send_text("u", "warm up")
        fake.fail_next("/message/cs", [502, 503])
        await zalo.send_text("u", "after two failures")
        fake.fail_next("/message/cs", [500, 500, 500])
        with pytest.raises(TransientHttpError):
            await zalo.send_text("u", "never")
    finally:
        await zalo.close()
    assert [r.body["message"]["text"] for r in fake.of("zalo_message")] == ["warm up", "after two failures"]


async def test_a_timeout_is_retried(fake, tmp_path):
    zalo = client(fake, FileTokenStore(tmp_path / "tokens.json"), total_timeout=0.5)
    try:
        await zalo.send_text("u", "warm up")
        fake.fail_next("/message/cs", [0])  # no answer: the client gives up after 0.5 s, then retries
        await zalo.send_text("u", "after a timeout")
    finally:
        await zalo.close()
    assert fake.of("zalo_message")[-1].body["message"]["text"] == "after a timeout"


def test_quick_actions():
    buttons = [{"title": "Đổi giấy phép lái xe " * 10, "payload": '/find_procedure{"procedure_code": "3.000347"}'},
               {"title": "Trang thủ tục", "url": "https://dichvucong.gov.vn/x", "type": "web_url"},
               {"title": "quá dài", "payload": "/x" * 600}]
    actions = quick_actions(buttons)
    assert actions[0]["type"] == "oa.query.hide" and len(actions[0]["title"]) == 100
    assert actions[0]["payload"] == buttons[0]["payload"]
    assert actions[1] == {"title": "Trang thủ tục", "type": "oa.open.url",
                          "payload": {"url": "https://dichvucong.gov.vn/x"}}
    assert len(actions) == 2  # a payload over Zalo's 1,000 characters is left out
    many = [{"title": str(i), "payload": f"/p{i}"} for i in range(8)]
    assert len(quick_actions(many)) == 5
