"""A local stand-in for the Zalo OA API, Zalo's OAuth server and the Messenger Graph API.

For the tests and ``scripts/bench_zalo.py`` only; the running assistant never imports it.

It runs an aiohttp server on 127.0.0.1 in a thread of the test process and records every request it
receives, so tests can check what the assistant sent without any call leaving the machine. It behaves
like the real platforms where the channels depend on it:

- ``POST /v3.0/oa/message/cs``: needs a current access token in the ``access_token`` header, else
  ``{"error": -216}``;
- ``POST /v4/oa/access_token``: needs the app secret in the ``secret_key`` header and the current
  refresh token; answers a new access token *and a new refresh token* (the old one stops working);
- ``POST /{version}/me/messages``: needs the page token in ``access_token``.

``fail_next(path_part, statuses)`` makes the next requests to a path answer those HTTP statuses
(0: no answer until the client times out), to test retries.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

ZALO_APP_ID = "1234567890123456789"
ZALO_APP_SECRET = "test-zalo-app-secret"
ZALO_OA_SECRET_KEY = "test-zalo-oa-secret-key"
MESSENGER_APP_SECRET = "test-messenger-app-secret"
MESSENGER_VERIFY_TOKEN = "test-verify-token"
MESSENGER_PAGE_TOKEN = "test-page-access-token"


@dataclass
class Recorded:
    kind: str  # "zalo_message", "zalo_token", "messenger_message"
    path: str
    headers: Dict[str, str]
    query: Dict[str, str]
    body: Any
    at: float = field(default_factory=time.monotonic)


class FakePlatforms:
    def __init__(self, zalo_refresh_token: str = "zr-0", zalo_access_token: Optional[str] = None) -> None:
        self.requests: List[Recorded] = []
        self.zalo_valid_access = {zalo_access_token} if zalo_access_token else set()
        self.zalo_refresh_token = zalo_refresh_token
        self._counter = itertools.count(1)
        self._failures: Dict[str, List[int]] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None
        self.port: Optional[int] = None
        self.token_delay = 0.0

    # -- control --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, path_part: str, statuses: List[int]) -> None:
        with self._lock:
            self._failures.setdefault(path_part, []).extend(statuses)

    def expire_zalo_tokens(self) -> None:
        with self._lock:
            self.zalo_valid_access.clear()

    def of(self, kind: str, predicate: Callable[[Recorded], bool] = lambda r: True) -> List[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.kind == kind and predicate(r)]

    def wait_for(self, kind: str, count: int, predicate: Callable[[Recorded], bool] = lambda r: True,
                 timeout: float = 30.0) -> List[Recorded]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [r for r in self.requests if r.kind == kind and predicate(r)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} {kind} requests, got {len(found)}: "
                                         f"{[r.body for r in found]}")
                self._changed.wait(remaining)

    def collect(self, kind: str, predicate: Callable[[Recorded], bool], since: int,
                quiet: float = 0.5, timeout: float = 30.0) -> List[Recorded]:
        """The requests after the first ``since`` matching ones: waits for at least one, then until
        none has come for ``quiet`` seconds (a turn may send several messages)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [r for r in self.requests if r.kind == kind and predicate(r)]
                if len(found) > since:
                    last = max(r.at for r in found[since:])
                    if time.monotonic() - last >= quiet:
                        return found[since:]
                    wait = quiet - (time.monotonic() - last)
                else:
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        raise AssertionError(f"no {kind} request came within {timeout} s")
                self._changed.wait(max(0.01, min(wait, deadline - time.monotonic() + quiet)))

    def _record(self, record: Recorded) -> None:
        with self._changed:
            self.requests.append(record)
            self._changed.notify_all()

    def _failure(self, path: str) -> Optional[int]:
        with self._lock:
            for part, statuses in self._failures.items():
                if part in path and statuses:
                    return statuses.pop(0)
        return None

    # -- handlers -------------------------------------------------------------------------------
    async def _maybe_fail(self, request: web.Request) -> Optional[web.Response]:
        status = self._failure(request.path)
        if status is None:
            return None
        if status == 0:
            await asyncio.sleep(5)  # no answer: the client's timeout fires first
        return web.json_response({"error": "injected"}, status=status or 500)

    async def zalo_message(self, request: web.Request) -> web.Response:
        failed = await self._maybe_fail(request)
        if failed is not None:
            return failed
        body = await request.json()
        token = request.headers.get("access_token", "")
        with self._lock:
            valid = token in self.zalo_valid_access
        self._record(Recorded("zalo_message" if valid else "zalo_message_rejected", request.path,
                              dict(request.headers), dict(request.query), body))
        if not valid:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        return web.json_response({"error": 0, "message": "Success",
                                  "data": {"message_id": f"m{next(self._counter)}",
                                           "user_id": body["recipient"]["user_id"]}})

    async def zalo_token(self, request: web.Request) -> web.Response:
        failed = await self._maybe_fail(request)
        if failed is not None:
            return failed
        form = dict(await request.post())
        self._record(Recorded("zalo_token", request.path, dict(request.headers), {}, form))
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        with self._lock:
            ok = (request.headers.get("secret_key") == ZALO_APP_SECRET
                  and form.get("app_id") == ZALO_APP_ID
                  and form.get("grant_type") == "refresh_token"
                  and form.get("refresh_token") == self.zalo_refresh_token)
            if ok:
                number = next(self._counter)
                access, self.zalo_refresh_token = f"za-{number}", f"zr-{number}"
                self.zalo_valid_access = {access}
        if not ok:
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        return web.json_response({"access_token": access, "refresh_token": self.zalo_refresh_token,
                                  "expires_in": "90000"})

    async def messenger_message(self, request: web.Request) -> web.Response:
        failed = await self._maybe_fail(request)
        if failed is not None:
            return failed
        body = await request.json()
        valid = request.query.get("access_token") == MESSENGER_PAGE_TOKEN
        self._record(Recorded("messenger_message" if valid else "messenger_rejected", request.path,
                              dict(request.headers), dict(request.query), body))
        if not valid:
            return web.json_response({"error": {"message": "Invalid OAuth access token", "code": 190}},
                                     status=400)
        return web.json_response({"recipient_id": body["recipient"]["id"],
                                  "message_id": f"mid.{next(self._counter)}"})

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> "FakePlatforms":
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.add_routes([
                web.post("/v3.0/oa/message/cs", self.zalo_message),
                web.post("/v4/oa/access_token", self.zalo_token),
                web.post("/{version}/me/messages", self.messenger_message),
            ])
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-platforms", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake platforms did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> "FakePlatforms":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def texts(records: List[Recorded]) -> List[str]:
    """The texts of recorded outbound messages (Zalo or Messenger)."""
    return [str((r.body.get("message") or {}).get("text", "")) for r in records]


def dumps(obj: Any) -> bytes:
    """JSON as the platforms send it (UTF-8, not ASCII-escaped); a lone surrogate in a test's text
    goes out as the invalid bytes a broken client would send."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


# -- webhook deliveries as the platforms send them --------------------------------------------------
def zalo_delivery(user_id: str, text: Optional[str] = None, msg_id: Optional[str] = None,
                  event_name: str = "user_send_text", timestamp_ms: Optional[int] = None,
                  app_id: str = ZALO_APP_ID, oa_secret_key: str = ZALO_OA_SECRET_KEY,
                  attachments: Optional[list] = None):
    """A Zalo OA event body and its signed headers."""
    from bot.channels.signatures import ZALO_SIGNATURE_HEADER, zalo_signature

    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    message: Dict[str, Any] = {"msg_id": msg_id or f"msg-{time.monotonic_ns()}"}
    if text is not None:
        message["text"] = text
    if attachments is not None:
        message["attachments"] = attachments
    event = {
        "app_id": app_id, "user_id_by_app": f"app-{user_id}", "event_name": event_name,
        "timestamp": timestamp, "sender": {"id": user_id}, "recipient": {"id": "oa-1"},
        "message": message,
    }
    body = dumps(event)
    headers = {"Content-Type": "application/json",
               ZALO_SIGNATURE_HEADER: zalo_signature(app_id, body, timestamp, oa_secret_key)}
    return body, headers


def messenger_delivery(user_id: str, text: Optional[str] = None, mid: Optional[str] = None,
                       quick_reply_payload: Optional[str] = None, attachments: Optional[list] = None,
                       postback_payload: Optional[str] = None, app_secret: str = MESSENGER_APP_SECRET):
    """A Messenger webhook body (one event) and its signed headers."""
    from bot.channels.signatures import HUB_SIGNATURE_256_HEADER, hub_signature_256

    now = int(time.time() * 1000)
    event: Dict[str, Any] = {"sender": {"id": user_id}, "recipient": {"id": "page-1"}, "timestamp": now}
    mid = mid or f"m_{time.monotonic_ns()}"
    if postback_payload is not None:
        event["postback"] = {"mid": mid, "title": "button", "payload": postback_payload}
    else:
        message: Dict[str, Any] = {"mid": mid}
        if text is not None:
            message["text"] = text
        if quick_reply_payload is not None:
            message["quick_reply"] = {"payload": quick_reply_payload}
        if attachments is not None:
            message["attachments"] = attachments
        event["message"] = message
    body = dumps({"object": "page", "entry": [{"id": "page-1", "time": now, "messaging": [event]}]})
    headers = {"Content-Type": "application/json",
               HUB_SIGNATURE_256_HEADER: hub_signature_256(app_secret, body)}
    return body, headers


def post(url: str, body: bytes, headers: Dict[str, str], timeout: float = 30.0):
    """POST with urllib: (status, response text, seconds taken)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace"), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace"), time.perf_counter() - started
