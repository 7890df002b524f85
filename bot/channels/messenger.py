"""Facebook Messenger channel: ``/webhooks/messenger/webhook``, a hardened ``FacebookInput``.

Rasa's built-in connector checks only the old SHA-1 ``X-Hub-Signature``, compares it in non-constant
time, answers 200 "not validated" to a forged request, handles only the first event of a batch and
sends with a blocking HTTP client before acknowledging. This subclass:

- verifies ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app secret, constant-time)
  and answers 403 to anything unsigned or forged, without processing it;
- answers the verify-token handshake (``GET`` with ``hub.mode=subscribe``), 403 on a wrong token;
- acknowledges at once and handles every event of the batch in the background, each user's in order;
- answers a redelivered message (same ``mid``) once, across replicas when ``REDIS_URL`` is set;
- sends with aiohttp (one session, timeouts, retries) to the Graph API; long texts are split, buttons
  become quick replies plus a numbered list (a digit answer works too); attachments and stickers get
  the polite "cannot read this" answer through the ``/send_unsupported_media`` rule.

Credentials keep the built-in connector's keys (``verify``, ``secret``, ``page-access-token``).
Settings from the environment: ``GRAPH_API_BASE`` (default https://graph.facebook.com; tests point it
to a local fake), ``GRAPH_API_VERSION`` (default v25.0), ``REDIS_URL``.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.background import BackgroundWorker
from bot.channels.choices import ChoiceMemory, numbered, usable_buttons
from bot.channels.dedup import Deduplicator
from bot.channels.http import HttpClient, TransientHttpError
from bot.channels.signatures import (
    HUB_SIGNATURE_256_HEADER,
    constant_time_equals,
    verify_hub_signature_256,
)
from bot.channels.splitting import split_text, text_length
from bot.channels.store import DEFAULT_PREFIX, open_store
from bot.channels.zalo import UNSUPPORTED_MEDIA_PAYLOAD

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_API_BASE = "https://graph.facebook.com"
DEFAULT_GRAPH_API_VERSION = "v25.0"
TEXT_LIMIT = 2000
QUICK_REPLY_TITLE_LIMIT = 20
MAX_QUICK_REPLIES = 13
MAX_BODY_BYTES = 512 * 1024


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value else default


def _short_title(title: str, limit: int = QUICK_REPLY_TITLE_LIMIT) -> str:
    title = " ".join(title.split())
    if text_length(title) <= limit:
        return title
    while title and text_length(title) > limit - 1:
        title = title[:-1]
    return title.rstrip() + "…"


class GraphApiError(Exception):
    def __init__(self, status: int, error: Dict[str, Any]) -> None:
        self.status = status
        self.code = error.get("code")
        self.subcode = error.get("error_subcode")
        super().__init__(f"Graph API HTTP {status}, error {self.code}/{self.subcode}: {error.get('message', '')}")


class GraphClient:
    """The Send API (``POST /{version}/me/messages``) over the shared aiohttp session."""

    def __init__(self, page_access_token: str, http: Optional[HttpClient] = None,
                 api_base: str = DEFAULT_GRAPH_API_BASE, version: str = DEFAULT_GRAPH_API_VERSION) -> None:
        self.page_access_token = page_access_token
        self.http = http or HttpClient()
        self.url = f"{api_base.rstrip('/')}/{version}/me/messages"

    async def send(self, recipient_id: str, message: Optional[Dict[str, Any]] = None,
                   sender_action: Optional[str] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"recipient": {"id": recipient_id}}
        if message is not None:
            body["messaging_type"] = "RESPONSE"
            body["message"] = message
        if sender_action:
            body["sender_action"] = sender_action
        result = await self.http.request(
            "POST", self.url, what="Messenger send", params={"access_token": self.page_access_token},
            json_body=body,
        )
        if result.status != 200 or "error" in result.data:
            raise GraphApiError(result.status, result.data.get("error") or {"message": result.text[:200]})
        return result.data

    async def close(self) -> None:
        await self.http.close()


class MessengerOutput(OutputChannel):
    @classmethod
    def name(cls) -> Text:
        return "messenger"

    def __init__(self, graph: GraphClient, choices: ChoiceMemory) -> None:
        super().__init__()
        self.graph = graph
        self.choices = choices

    async def _send(self, recipient_id: Text, message: Dict[str, Any]) -> None:
        try:
            await self.graph.send(recipient_id, message)
        except GraphApiError as error:
            if error.subcode == 2018278:
                logger.warning("Messenger: %s is outside the 24-hour window; not sent", recipient_id)
            else:
                logger.error("Messenger: message to %s not sent: %s", recipient_id, error)
        except (TransientHttpError, TimeoutError) as error:
            logger.error("Messenger: message to %s not sent: %s", recipient_id, error)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in split_text(text, TEXT_LIMIT):
            await self._send(recipient_id, {"text": part})

    async def send_text_with_buttons(self, recipient_id: Text, text: Text,
                                     buttons: List[Dict[Text, Any]], **kwargs: Any) -> None:
        choices = [b for b in usable_buttons(buttons) if b.get("type") != "web_url"][:MAX_QUICK_REPLIES]
        if not choices:
            await self.send_text_message(recipient_id, text)
            return
        await self.choices.remember(recipient_id, [b["payload"] for b in choices])
        parts = split_text(numbered(text, [b["title"] for b in choices]), TEXT_LIMIT) or [""]
        for part in parts[:-1]:
            await self._send(recipient_id, {"text": part})
        quick_replies = [
            {"content_type": "text", "title": _short_title(f"{index}. {b['title']}"), "payload": b["payload"]}
            for index, b in enumerate(choices, start=1)
        ]
        await self._send(recipient_id, {"text": parts[-1], "quick_replies": quick_replies})

    async def send_quick_replies(self, recipient_id: Text, text: Text,
                                 quick_replies: List[Dict[Text, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, {"attachment": {"type": "image", "payload": {"url": image}}})

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, str(attachment))

    async def send_elements(self, recipient_id: Text, elements: Any, **kwargs: Any) -> None:
        await self._send(recipient_id, {"attachment": {"type": "template", "payload": {
            "template_type": "generic", "elements": list(elements or [])}}})

    async def send_custom_json(self, recipient_id: Text, json_message: Any, **kwargs: Any) -> None:
        """A response's ``custom`` part is sent as a Messenger ``message`` object as it is."""
        if isinstance(json_message, dict):
            await self._send(recipient_id, json_message)


class MessengerInput(FacebookInput):
    @classmethod
    def name(cls) -> Text:
        return "messenger"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        redis_url = os.environ.get("REDIS_URL") or None
        shared = open_store(redis_url, _env("CHANNELS_KEY_PREFIX", DEFAULT_PREFIX))
        return cls(
            str(credentials.get("verify") or ""),
            str(credentials.get("secret") or ""),
            str(credentials.get("page-access-token") or ""),
            dedup=Deduplicator(shared, "messenger"),
            choices=ChoiceMemory(shared, "messenger"),
            graph_api_base=_env("GRAPH_API_BASE", DEFAULT_GRAPH_API_BASE),
            graph_api_version=str(credentials.get("graph-api-version")
                                  or _env("GRAPH_API_VERSION", DEFAULT_GRAPH_API_VERSION)),
        )

    def __init__(self, fb_verify: Text, fb_secret: Text, fb_access_token: Text,
                 dedup: Optional[Deduplicator] = None, choices: Optional[ChoiceMemory] = None,
                 graph_api_base: str = DEFAULT_GRAPH_API_BASE,
                 graph_api_version: str = DEFAULT_GRAPH_API_VERSION,
                 worker: Optional[BackgroundWorker] = None) -> None:
        super().__init__(fb_verify, fb_secret, fb_access_token)
        if not fb_verify or not fb_secret or not fb_access_token:
            raise RasaException("Messenger channel: verify, secret and page-access-token are required")
        if dedup is None or choices is None:
            shared = open_store(None)
            dedup = dedup or Deduplicator(shared, "messenger")
            choices = choices or ChoiceMemory(shared, "messenger")
        self.dedup = dedup
        self.choices = choices
        self.graph = GraphClient(fb_access_token, HttpClient(), graph_api_base, graph_api_version)
        self.worker = worker or BackgroundWorker("messenger")

    def get_output_channel(self) -> OutputChannel:
        return MessengerOutput(self.graph, self.choices)

    @staticmethod
    def message_of(event: Dict[str, Any]) -> Optional[Dict[str, str]]:
        """The user, text and message id of a messaging event the assistant answers, else None."""
        sender = str((event.get("sender") or {}).get("id") or "").strip()
        if not sender:
            return None
        message = event.get("message")
        postback = event.get("postback")
        if isinstance(message, dict):
            if message.get("is_echo"):
                return None
            quick_reply = message.get("quick_reply") or {}
            if quick_reply.get("payload"):
                text = str(quick_reply["payload"])
            elif "text" in message:
                text = str(message["text"])
            elif message.get("attachments") or message.get("sticker_id"):
                text = UNSUPPORTED_MEDIA_PAYLOAD
            else:
                return None
            message_id = str(message.get("mid") or "")
        elif isinstance(postback, dict) and postback.get("payload"):
            text = str(postback["payload"])
            message_id = str(postback.get("mid") or "")
        else:
            return None
        message_id = message_id or f"{sender}:{event.get('timestamp')}"
        return {"user_id": sender, "text": text, "message_id": message_id}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        messenger_webhook = Blueprint("messenger_webhook", __name__)

        @messenger_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @messenger_webhook.route("/webhook", methods=["GET"])
        async def token_verification(request: Request) -> HTTPResponse:
            if request.args.get("hub.mode") == "subscribe" and constant_time_equals(
                request.args.get("hub.verify_token"), self.fb_verify
            ):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("Messenger: wrong verify token in the webhook handshake")
            return response.text("invalid verify token", status=403)

        @messenger_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return response.text("payload too large", status=413)
            if not verify_hub_signature_256(request.headers.get(HUB_SIGNATURE_256_HEADER),
                                            self.fb_secret, body):
                logger.warning("Messenger webhook: bad or missing X-Hub-Signature-256 from %s", request.ip)
                return response.text("invalid signature", status=403)
            try:
                payload = json.loads(body)
            except ValueError:
                return response.text("invalid JSON", status=400)
            if not isinstance(payload, dict) or payload.get("object") != "page":
                return response.text("not a page event", status=404)
            messages = []
            for entry in payload.get("entry") or []:
                for event in (entry or {}).get("messaging") or []:
                    message = self.message_of(event) if isinstance(event, dict) else None
                    if message is not None:
                        messages.append(message)
            if messages and not self.worker.has_room():
                return response.text("busy, retry later", status=503)
            for message in messages:
                if not await self.dedup.first_delivery(message["message_id"]):
                    continue
                self.worker.submit(message["user_id"], self._job(message, on_new_message))
            return response.text("EVENT_RECEIVED")

        @messenger_webhook.listener("before_server_stop")
        async def close(*_: Any) -> None:
            await self.worker.drain()
            await self.graph.close()
            await self.dedup.close()

        return messenger_webhook

    def _job(self, message: Dict[str, str],
             on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
        async def handle() -> None:
            text = await self.choices.resolve(message["user_id"], message["text"])
            await on_new_message(UserMessage(
                text, self.get_output_channel(), message["user_id"], input_channel=self.name(),
                metadata={"messenger": {"mid": message["message_id"]}},
            ))

        return handle
