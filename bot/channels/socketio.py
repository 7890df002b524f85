"""The website widget's channel: Rasa's socket.io channel, fixed and adapted to rasa-webchat.

- With ``session_persistence: true`` (what keeps a web conversation across page reloads), Rasa
  3.6.21's ``session_request`` handler calls ``sio.enter_room(...)`` without ``await``; in the
  python-socketio 5.x that Rasa installs that method is a coroutine, so the socket never joins its
  session's room and the answers, sent to that room, never reach the browser. Here the room is
  joined with the ``await``.
- After a network drop the browser may send a message it buffered before its new
  ``session_request``: the socket joins its session's room when a message arrives, too.
- rasa-webchat renders messages as Markdown: line breaks become hard breaks (lists of documents stay
  one item per line) and characters Markdown would eat are escaped (a masked name such as
  ``T*** A***`` must not turn into bold text). Buttons whose slot is empty are left out.

Everything else is Rasa's channel: name ``socketio``, the same credentials keys.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput

from bot.channels.choices import usable_buttons

logger = logging.getLogger(__name__)

_MARKDOWN_SPECIAL = re.compile(r"([*`~\\])")
_LINE_START_SPECIAL = re.compile(r"^(\s*)([#>+=-])", re.MULTILINE)


def widget_markdown(text: str) -> str:
    """Plain text as Markdown that renders as the same text."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = _LINE_START_SPECIAL.sub(r"\1\\\2", text)
    return re.sub(r"(?<!\n)\n(?!\n)", "  \n", text)


class WidgetOutput(SocketIOOutput):
    async def _send_message(self, socket_id: Text, response: Any) -> None:
        if isinstance(response, dict) and isinstance(response.get("text"), str):
            response = {**response, "text": widget_markdown(response["text"])}
        await super()._send_message(socket_id, response)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text,
                                     buttons: List[Dict[Text, Any]], **kwargs: Any) -> None:
        buttons = usable_buttons(buttons)
        if not buttons:
            await self.send_text_message(recipient_id, text, **kwargs)
            return
        await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)

    async def send_quick_replies(self, recipient_id: Text, text: Text,
                                 quick_replies: List[Dict[Text, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


class SocketIOInput(RasaSocketIOInput):
    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return super().get_output_channel()
        return WidgetOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> SocketBlueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio

        async def join_session(sid: Text, session_id: Text) -> None:
            if session_id not in (sio.rooms(sid, namespace=self.namespace) or []):
                await _maybe_await(sio.enter_room(sid, session_id, namespace=self.namespace))

        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            if not data.get("session_id"):
                data["session_id"] = uuid.uuid4().hex
            if self.session_persistence:
                await join_session(sid, data["session_id"])
            await sio.emit("session_confirm", data["session_id"], room=sid, namespace=self.namespace)

        async def user_message(sid: Text, data: Optional[Dict]) -> None:
            data = data if isinstance(data, dict) else {}
            if self.session_persistence:
                if not data.get("session_id"):
                    logger.warning("socket.io message without a session id ignored")
                    return
                sender_id = str(data["session_id"])
                await join_session(sid, sender_id)
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            await on_new_message(UserMessage(
                str(data.get("message") or ""), WidgetOutput(sio, self.bot_message_evt), sender_id,
                input_channel=self.name(), metadata=metadata if isinstance(metadata, dict) else {},
            ))

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, user_message, namespace=self.namespace)
        return socketio_webhook
