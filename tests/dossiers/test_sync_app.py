"""The push endpoint: bearer token, JSON object or list, all-or-nothing, idempotent, clear 4xx."""

import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.dossiers.repository import get_dossier
from bot.dossiers.sync_app import MAX_BATCH, create_app
from tests.dossiers.conftest import SYNC_TOKEN, make_settings

CODE = "000.00.22.H39-261118-0007"
AUTH = {"Authorization": f"Bearer {SYNC_TOKEN}"}


def dossier(**changes):
    value = {
        "code": CODE,
        "procedure_code": "1.001193",
        "procedure_name": "Thủ tục đăng ký khai sinh",
        "applicant_name": "Nguyễn Văn An",
        "applicant_phone": "0912345678",
        "agency": "UBND phường Hồng Châu",
        "status": "received",
        "submitted_at": "2026-11-18T08:30:00+07:00",
        "due_at": "2026-11-19T17:00:00+07:00",
        "updated_at": "2026-11-18T08:30:00+07:00",
        "note": "",
    }
    value.update(changes)
    return value


@pytest.fixture
async def client(db_url):
    """The app as deployed: its own engine, opened on start-up and closed on clean-up."""
    app = create_app(make_settings(db_url))
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_health(client):
    response = await client.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_push_one_then_a_list_idempotently(client, db_url):
    response = await client.post("/dossiers", json=dossier(), headers=AUTH)
    assert response.status == 200
    assert (await response.json())["created"] == 1

    changes = [dossier(status="processing", updated_at="2026-11-18T10:00:00+07:00"),
               dossier(code="000.00.22.H39-261118-0008")]
    response = await client.post("/dossiers", json=changes, headers=AUTH)
    body = await response.json()
    assert response.status == 200
    assert (body["created"], body["updated"], body["status_changes"]) == (1, 1, 2)

    again = await client.post("/dossiers", json=changes, headers=AUTH)  # a retried delivery
    assert await again.json() == {"created": 0, "updated": 0, "unchanged": 2, "stale": 0,
                                  "status_changes": 0}
    old = await client.post("/dossiers", json=dossier(), headers=AUTH)  # out of order
    assert (await old.json())["stale"] == 1

    from bot.db import create_engine

    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert (await get_dossier(conn, CODE)).status.value == "processing"
    finally:
        await engine.dispose()


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": SYNC_TOKEN},
    {"Authorization": f"Basic {SYNC_TOKEN}"}, {"Authorization": "Bearer "},
])
async def test_needs_the_bearer_token(client, headers):
    response = await client.post("/dossiers", json=dossier(), headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.json())["error"] == "unauthorized"


async def test_invalid_objects_are_all_reported_and_nothing_is_saved(client):
    items = [dossier(), dossier(code="000.00.22.H39-26111-0007"),
             dossier(code="000.00.22.H39-261118-0009", status="xong", applicant_phone="1"), "x"]
    response = await client.post("/dossiers", json=items, headers=AUTH)
    assert response.status == 422
    body = await response.json()
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (1, "code"), (2, "status"), (3, "record")]
    # The valid first object was not saved either.
    retry = await client.post("/dossiers", json=items[:1], headers=AUTH)
    assert (await retry.json())["created"] == 1


@pytest.mark.parametrize("body, content_type, status, error", [
    (b"{not json", "application/json", 400, "invalid_json"),
    (b"\xff\xfe", "application/json", 400, "invalid_json"),
    (b'"a string"', "application/json", 400, "invalid_body"),
    (b"[]", "application/json", 400, "empty"),
    (b"code=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (json.dumps([{}] * (MAX_BATCH + 1)).encode(), "application/json", 413, "too_many"),
])
async def test_bad_requests(client, body, content_type, status, error):
    headers = dict(AUTH, **{"Content-Type": content_type})
    response = await client.post("/dossiers", data=body, headers=headers)
    assert response.status == status
    assert (await response.json())["error"] == error


async def test_disabled_without_a_token(dossier_sqlite_url):
    app = create_app(make_settings(dossier_sqlite_url, dossier_sync_token=""))
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/dossiers", json=dossier(), headers={"Authorization": "Bearer "})
        assert response.status == 503
        assert (await client.get("/health")).status == 200


async def test_health_reports_an_unreachable_database():
    app = create_app(make_settings("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"))
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/health")
        assert response.status == 503
