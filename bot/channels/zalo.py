"""Zalo Official Account channel (Rasa has none built in): ``/webhooks/zalo/webhook``.

Enable it in a credentials file with the class path as key (see ``credentials.channels.yml``)::

    bot.channels.zalo.ZaloInput:
      app_id: ${ZALO_APP_ID}
      app_secret: ${ZALO_APP_SECRET}
      oa_secret_key: ${ZALO_OA_SECRET_KEY}
      refresh_token: ${ZALO_REFRESH_TOKEN}

A delivery is accepted only if ``X-ZEvent-Signature`` matches (see ``signatures``), the ``app_id`` is
ours and the event's timestamp is fresh; anything else gets a 4xx and is not processed. Accepted
deliveries are acknowledged at once and handled in the background (``background``); a redelivery of
the same ``msg_id`` is acknowledged and dropped (``dedup``, shared by replicas through Redis).

The webhook answers on two ports, with the same path ``/webhooks/zalo/webhook``: Rasa's own (5005),
and a listener of the channel's own (``ZALO_WEBHOOK_PORT``, default 5006; ``off`` to disable) that
keeps answering in milliseconds while Rasa's loop is busy with other conversations (see ``listener``).
Point Zalo (through the reverse proxy) at the second one.

Text goes to the assistant; stickers, images, files, voice and the like become the message
``/send_unsupported_media``, which a rule answers politely (the wording is in ``domain/channels.yml``).
Replies go out through the OA API (``zalo_api``): long texts are split, buttons become Zalo quick
actions plus a numbered list the user can answer with a digit (``choices``).

Settings from the environment (not secrets): ``ZALO_API_BASE``, ``ZALO_OAUTH_BASE`` (the platform's
addresses; tests point them to a local fake), ``ZALO_TOKEN_FILE`` (token store without Redis,
default ``var/zalo_tokens.json``), ``ZALO_MAX_EVENT_AGE_SECONDS`` (default 300), ``ZALO_WEBHOOK_PORT``
and ``ZALO_WEBHOOK_HOST`` (default 5006 on 0.0.0.0), ``REDIS_URL``; ``ZALO_ACCESS_TOKEN`` optionally
seeds an empty token store with a current access token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.background import BackgroundWorker
from bot.channels.choices import ChoiceMemory, numbered, usable_buttons
from bot.channels.dedup import Deduplicator
from bot.channels.http import HttpClient, TransientHttpError
from bot.channels.listener import ThreadedListener
from bot.channels.signatures import ZALO_SIGNATURE_HEADER, is_fresh, verify_zalo_signature
from bot.channels.splitting import split_text
from bot.channels.store import DEFAULT_PREFIX, open_store
from bot.channels.zalo_api import (
    DEFAULT_API_BASE,
    DEFAULT_OAUTH_BASE,
    ZaloApiError,
    ZaloClient,
    open_token_store,
)
from bot.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

UNSUPPORTED_MEDIA_PAYLOAD = "/send_unsupported_media"
TEXT_EVENTS = frozenset({"user_send_text"})
MEDIA_EVENTS = frozenset({
    "user_send_image", "user_send_sticker", "user_send_gif", "user_send_file", "user_send_audio",
    "user_send_video", "user_send_location", "user_send_link", "user_send_business_card",
})
MAX_BODY_BYTES = 64 * 1024
DEFAULT_WEBHOOK_PORT = 5006
TEXT_LIMIT = 2000


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value else default


class ZaloOutput(OutputChannel):
    """Sends the assistant's messages through the OA API (customer-service messages)."""

    @classmethod
    def name(cls) -> Text:
        return "zalo"

    def __init__(self, client: ZaloClient, choices: ChoiceMemory) -> None:
        super().__init__()
        self.client = client
        self.choices = choices

    async def _send(self, recipient_id: Text, text: Text,
                    buttons: Optional[List[Dict[str, Any]]] = None) -> None:
        try:
            await self.client.send_text(recipient_id, text, buttons)
        except (ZaloApiError, TransientHttpError, TimeoutError) as error:
            # Outside the reply window, user blocked the OA, platform down: nothing to do but log;
            # the conversation itself goes on.
            logger.error("Zalo: message to %s not sent: %s", recipient_id, error)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in split_text(text, TEXT_LIMIT):
            await self._send(recipient_id, part)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text,
                                     buttons: List[Dict[Text, Any]], **kwargs: Any) -> None:
        buttons = usable_buttons(buttons)
        choices = [b for b in buttons if b.get("type") != "web_url"]
        if not buttons:
            await self.send_text_message(recipient_id, text)
            return
        if choices:
            await self.choices.remember(recipient_id, [b["payload"] for b in choices])
            text = numbered(text, [b["title"] for b in choices])
        parts = split_text(text, TEXT_LIMIT) or [""]
        for part in parts[:-1]:
            await self._send(recipient_id, part)
        await self._send(recipient_id, parts[-1], buttons)

    async def send_quick_replies(self, recipient_id: Text, text: Text,
                                 quick_replies: List[Dict[Text, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, image)

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, str(attachment))

    async def send_elements(self, recipient_id: Text, elements: Any, **kwargs: Any) -> None:
        for element in elements or []:
            lines = [str(element.get(key)) for key in ("title", "subtitle") if element.get(key)]
            if lines:
                await self.send_text_message(recipient_id, "\n".join(lines))

    async def send_custom_json(self, recipient_id: Text, json_message: Any, **kwargs: Any) -> None:
        """A response's ``custom`` part is sent as a Zalo ``message`` object as it is."""
        if isinstance(json_message, dict) and ("text" in json_message or "attachment" in json_message):
            try:
                await self.client.send_message(recipient_id, json_message)
            except (ZaloApiError, TransientHttpError, TimeoutError) as error:
                logger.error("Zalo: custom message to %s not sent: %s", recipient_id, error)


class ZaloInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        missing = [key for key in ("app_id", "app_secret", "oa_secret_key")
                   if not str(credentials.get(key) or "").strip()]
        if missing:
            raise RasaException(f"Zalo channel: missing credentials {', '.join(missing)}")
        redis_url = os.environ.get("REDIS_URL") or None
        prefix = _env("CHANNELS_KEY_PREFIX", DEFAULT_PREFIX)
        app_id = str(credentials["app_id"]).strip()
        store = open_token_store(
            redis_url, _env("ZALO_TOKEN_FILE", str(PROJECT_ROOT / "var" / "zalo_tokens.json")), app_id, prefix
        )
        client = ZaloClient(
            app_id=app_id,
            app_secret=str(credentials["app_secret"]).strip(),
            store=store,
            http=HttpClient(),
            api_base=_env("ZALO_API_BASE", DEFAULT_API_BASE),
            oauth_base=_env("ZALO_OAUTH_BASE", DEFAULT_OAUTH_BASE),
            seed_refresh_token=str(credentials.get("refresh_token") or "").strip() or None,
            seed_access_token=str(credentials.get("access_token") or "").strip()
            or os.environ.get("ZALO_ACCESS_TOKEN") or None,
        )
        port = _env("ZALO_WEBHOOK_PORT", str(DEFAULT_WEBHOOK_PORT)).strip().lower()
        listen = None if port in ("off", "0", "none") else (_env("ZALO_WEBHOOK_HOST", "0.0.0.0"), int(port))
        return cls(
            app_id=app_id,
            oa_secret_key=str(credentials["oa_secret_key"]).strip(),
            client=client,
            # Two stores: the deliveries are checked in the listener's loop, the choices are used in
            # Rasa's (an asyncio Redis client belongs to one loop).
            dedup=Deduplicator(open_store(redis_url, prefix), "zalo"),
            choices=ChoiceMemory(open_store(redis_url, prefix), "zalo"),
            max_event_age=float(credentials.get("max_event_age_seconds")
                                or _env("ZALO_MAX_EVENT_AGE_SECONDS", "300")),
            listen=listen,
        )

    def __init__(self, app_id: str, oa_secret_key: str, client: ZaloClient, dedup: Deduplicator,
                 choices: ChoiceMemory, max_event_age: float = 300.0,
                 worker: Optional[BackgroundWorker] = None,
                 listen: Optional[Tuple[str, int]] = None) -> None:
        self.app_id = app_id
        self.oa_secret_key = oa_secret_key
        self.client = client
        self.dedup = dedup
        self.choices = choices
        self.max_event_age = max_event_age
        self.worker = worker or BackgroundWorker("zalo")
        self.listener = (
            ThreadedListener(listen[0], listen[1], "/webhooks/zalo/webhook", self.accept, "zalo",
                             MAX_BODY_BYTES) if listen else None
        )
        self._on_new_message: Optional[Callable[[UserMessage], Awaitable[Any]]] = None
        self._rasa_loop: Optional[asyncio.AbstractEventLoop] = None

    def get_output_channel(self) -> OutputChannel:
        return ZaloOutput(self.client, self.choices)

    @staticmethod
    def message_of(event: Dict[str, Any]) -> Optional[Dict[str, str]]:
        """The user, text and message id of an event the assistant answers, else None."""
        name = event.get("event_name")
        if name not in TEXT_EVENTS and name not in MEDIA_EVENTS:
            return None
        sender = event.get("sender") if isinstance(event.get("sender"), dict) else {}
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        user_id = str(sender.get("id") or "").strip()
        if not user_id:
            return None
        text = str(message.get("text") or "") if name in TEXT_EVENTS else UNSUPPORTED_MEDIA_PAYLOAD
        message_id = str(message.get("msg_id") or "").strip() or f"{user_id}:{event.get('timestamp')}"
        return {"user_id": user_id, "text": text, "message_id": message_id, "event": name}

    async def accept(self, body: bytes, headers: Mapping[str, str], remote: str) -> Tuple[int, Dict[str, str]]:
        """Check one delivery and hand it to the background: (HTTP status, answer). Runs in the
        listener's loop when the listener is on, else in Rasa's."""
        if len(body) > MAX_BODY_BYTES:
            return 413, {"error": "payload too large"}
        try:
            event = json.loads(body)
        except ValueError:
            return 400, {"error": "invalid JSON"}
        if not isinstance(event, dict) or event.get("timestamp") in (None, ""):
            return 400, {"error": "not a Zalo event"}
        timestamp = str(event["timestamp"])
        if not verify_zalo_signature(headers.get(ZALO_SIGNATURE_HEADER), self.app_id, body, timestamp,
                                     self.oa_secret_key):
            logger.warning("Zalo webhook: bad or missing signature from %s", remote)
            return 403, {"error": "invalid signature"}
        if str(event.get("app_id") or "") != self.app_id:
            return 403, {"error": "unknown app"}
        if not is_fresh(timestamp, self.max_event_age):
            logger.warning("Zalo webhook: stale or future event (timestamp %s)", timestamp)
            return 403, {"error": "stale event"}

        message = self.message_of(event)
        if message is None:
            return 200, {"status": "ignored"}
        if self._on_new_message is None or self._rasa_loop is None or not self.worker.has_room():
            return 503, {"error": "busy, retry later"}
        if not await self.dedup.first_delivery(message["message_id"]):
            return 200, {"status": "duplicate"}
        self._rasa_loop.call_soon_threadsafe(self.worker.submit, message["user_id"], self._job(message))
        return 200, {"status": "accepted"}

    def _job(self, message: Dict[str, str]) -> Callable[[], Awaitable[None]]:
        async def handle() -> None:
            # A digit answers numbered choices; any other message forgets them.
            text = await self.choices.resolve(message["user_id"], message["text"])
            await self._on_new_message(UserMessage(
                text, self.get_output_channel(), message["user_id"], input_channel=self.name(),
                metadata={"zalo": {"msg_id": message["message_id"], "event": message["event"]}},
            ))

        return handle

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        zalo_webhook = Blueprint("zalo_webhook", __name__)
        self._on_new_message = on_new_message

        @zalo_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @zalo_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            work = self.accept(request.body or b"", request.headers, request.ip)
            if self.listener is not None and self.listener.running:
                status, answer = await self.listener.run_here(work)  # one dedup store, one loop
            else:
                status, answer = await work
            return response.json(answer, status=status)

        @zalo_webhook.listener("after_server_start")
        async def start(*_: Any) -> None:
            self._rasa_loop = asyncio.get_running_loop()
            if self.listener is not None:
                try:
                    self.listener.start()
                except Exception as error:  # noqa: BLE001 - Rasa's port still serves the webhook
                    logger.error("Zalo webhook listener on port %s could not start (%s); the webhook is "
                                 "served on Rasa's port only", self.listener.port, error)
                    self.listener = None

        @zalo_webhook.listener("before_server_stop")
        async def close(*_: Any) -> None:
            if self.listener is not None:
                self.listener.stop(last=self.dedup.close)
            await self.worker.drain()
            await self.client.close()
            await self.dedup.close()
            await self.choices.store.close()
            logger.info("Zalo channel stopped")

        return zalo_webhook
