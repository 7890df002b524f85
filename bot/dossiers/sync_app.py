"""HTTP endpoint through which the one-stop system pushes created or changed dossiers.

``POST /dossiers`` with ``Authorization: Bearer <DOSSIER_SYNC_TOKEN>`` and a JSON object or a list
of up to 1,000 objects (the CSV columns as keys). The batch is all or nothing: any invalid object
gives 422 with every problem listed and nothing is written. Replays are harmless (upsert by code;
an object older than the stored dossier is ignored). ``GET /health`` checks the database.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Optional

from aiohttp import web
from sqlalchemy import text

from bot.db import create_engine
from bot.dossiers.errors import InvalidRecord
from bot.dossiers.records import parse_record
from bot.dossiers.service import DossierService, build_dossier_service

logger = logging.getLogger(__name__)

MAX_BATCH = 1000
MAX_BODY_BYTES = 8 * 1024 * 1024
SERVICE_KEY = web.AppKey("dossier_service", DossierService)
SETTINGS_KEY = web.AppKey("settings", object)


def _error(status: int, error: str, message: str, **extra) -> web.Response:
    return web.json_response({"error": error, "message": message, **extra}, status=status)


def _authorised(request: web.Request, token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


async def post_dossiers(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    token = settings.dossier_sync_token
    if not token:
        return _error(503, "sync_disabled", "DOSSIER_SYNC_TOKEN is not configured")
    if not _authorised(request, token):
        response = _error(401, "unauthorized", "a valid bearer token is required")
        response.headers["WWW-Authenticate"] = 'Bearer realm="dossiers"'
        return response
    if request.content_type != "application/json":
        return _error(415, "unsupported_media_type", "send Content-Type: application/json")
    try:
        raw = await request.read()
        payload = json.loads(raw.decode("utf-8"))
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
    except (UnicodeDecodeError, ValueError):
        return _error(400, "invalid_json", "the body is not valid UTF-8 JSON")
    if not isinstance(payload, (list, dict)):
        return _error(400, "invalid_body", "send a JSON object or a list of objects")
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        return _error(400, "empty", "the list is empty")
    if len(items) > MAX_BATCH:
        return _error(413, "too_many", f"at most {MAX_BATCH} dossiers per request")
    service: DossierService = request.app[SERVICE_KEY]
    records, errors = [], []
    for index, item in enumerate(items):
        try:
            records.append(parse_record(item, service.codes, service.tz))
        except InvalidRecord as error:
            errors.append({"index": index, "field": error.field, "reason": error.reason})
    if errors:
        return _error(422, "invalid_dossiers", "nothing was saved; fix these and resend",
                      errors=errors)
    report = await service.upsert(records, "api")
    logger.info("dossier push: %s", report.as_dict())
    return web.json_response(report.as_dict())


async def health(request: web.Request) -> web.Response:
    try:
        async with request.app[SERVICE_KEY].engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means unhealthy
        logger.warning("dossier sync health check failed: %s", type(error).__name__)
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


def create_app(settings, service: Optional[DossierService] = None) -> web.Application:
    """The sync application; its engine (unless a service is given) opens and closes with it."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[SETTINGS_KEY] = settings

    async def lifecycle(app: web.Application):
        if service is not None:
            app[SERVICE_KEY] = service
            yield
            return
        engine = create_engine(settings.database_url)
        app[SERVICE_KEY] = await build_dossier_service(engine, settings)
        try:
            yield
        finally:
            await app[SERVICE_KEY].close()
            await engine.dispose()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/dossiers", post_dossiers)
    app.router.add_get("/health", health)
    return app
