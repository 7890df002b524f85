"""A user of each messaging platform, talking to the running assistant through the fake platform."""

from __future__ import annotations

from typing import List

from bot.channels import fakes


class ZaloUser:
    """Zalo delivers to the channel's own listener (``via="listener"``) or to Rasa's port."""

    def __init__(self, stack, platforms: fakes.FakePlatforms, user_id: str, via: str = "listener") -> None:
        if via == "listener":
            self.url = f"http://127.0.0.1:{stack.env['ZALO_WEBHOOK_PORT']}/webhooks/zalo/webhook"
        else:
            self.url = f"{stack.url}/webhooks/zalo/webhook"
        self.platforms = platforms
        self.user_id = user_id
        self.acks: List[float] = []

    def _mine(self, record: fakes.Recorded) -> bool:
        return record.body.get("recipient", {}).get("user_id") == self.user_id

    def received(self) -> List[fakes.Recorded]:
        return self.platforms.of("zalo_message", self._mine)

    def send(self, text=None, **kwargs):
        body, headers = fakes.zalo_delivery(self.user_id, text, **kwargs)
        status, answer, seconds = fakes.post(self.url, body, headers)
        self.acks.append(seconds)
        return status, answer

    def say(self, text=None, **kwargs) -> List[dict]:
        """Send a message; the assistant's messages (Zalo ``message`` objects) sent back for it."""
        before = len(self.received())
        status, answer = self.send(text, **kwargs)
        assert status == 200 and "accepted" in answer, (status, answer)
        return [r.body["message"] for r in self.platforms.collect("zalo_message", self._mine, before)]


class MessengerUser:
    def __init__(self, stack, platforms: fakes.FakePlatforms, user_id: str) -> None:
        self.url = f"{stack.url}/webhooks/messenger/webhook"
        self.platforms = platforms
        self.user_id = user_id

    def _mine(self, record: fakes.Recorded) -> bool:
        return record.body.get("recipient", {}).get("id") == self.user_id

    def received(self) -> List[fakes.Recorded]:
        return self.platforms.of("messenger_message", self._mine)

    def send(self, text=None, **kwargs):
        body, headers = fakes.messenger_delivery(self.user_id, text, **kwargs)
        status, answer, _ = fakes.post(self.url, body, headers)
        return status, answer

    def say(self, text=None, **kwargs) -> List[dict]:
        before = len(self.received())
        status, answer = self.send(text, **kwargs)
        assert status == 200 and answer == "EVENT_RECEIVED", (status, answer)
        return [r.body["message"] for r in self.platforms.collect("messenger_message", self._mine, before)]


def joined(messages: List[dict]) -> str:
    return "\n".join(str(m.get("text", "")) for m in messages)


def procedure_code(payload: str) -> str:
    """The procedure code in a button payload such as /find_procedure{"procedure_code": "1.001193"}."""
    import json

    return json.loads(payload[payload.index("{"):])["procedure_code"]
