"""Zalo Official Account API: customer-service messages and the rotating OA tokens.

Replies go to ``POST {api_base}/v3.0/oa/message/cs`` with the access token in the ``access_token``
header. Zalo answers HTTP 200 with ``{"error": 0, ...}`` on success; ``error: -216`` means the access
token expired or was revoked.

Access tokens last about 25 hours. They are renewed at ``POST {oauth_base}/v4/oa/access_token``
(header ``secret_key`` = the app secret; form ``refresh_token``, ``app_id``,
``grant_type=refresh_token``), and every renewal also replaces the refresh token: the old one stops
working. With several replicas, two that renew at once would break the chain, so:

- the tokens live in one shared place (a token store: a file by default, Redis when ``REDIS_URL`` is
  set), never only in a process;
- renewal happens under a lock held across replicas (an exclusive file lock, or a Redis lock), and
  whoever takes the lock first re-reads the store: if another replica already renewed, it uses that
  token instead of renewing again;
- the refresh token given in the configuration only seeds an empty store.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import logging
import os
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional

from bot.channels.http import HttpClient

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://openapi.zalo.me"
DEFAULT_OAUTH_BASE = "https://oauth.zaloapp.com"
TOKEN_EXPIRED_ERRORS = frozenset({-216})
MAX_BUTTONS = 5
BUTTON_TITLE_LIMIT = 100
BUTTON_PAYLOAD_LIMIT = 1000


class ZaloApiError(Exception):
    def __init__(self, code: Any, message: str) -> None:
        super().__init__(f"Zalo API error {code}: {message}")
        self.code = code
        self.message = message


class ZaloTokenError(ZaloApiError):
    """No usable access token: the refresh token was rejected (see the README to re-seed it)."""


@dataclass(frozen=True)
class ZaloTokens:
    access_token: str
    refresh_token: str
    # Epoch seconds; 0 when unknown (then only an "expired" answer triggers a renewal).
    expires_at: float = 0.0

    def expiring(self, now: float, margin: float) -> bool:
        return bool(self.expires_at) and self.expires_at - margin <= now

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: Optional[str]) -> Optional["ZaloTokens"]:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(str(data.get("access_token") or ""), str(data.get("refresh_token") or ""),
                       float(data.get("expires_at") or 0))
        except (ValueError, TypeError, AttributeError):
            logger.error("the Zalo token store holds unreadable data")
            return None


class TokenStore(ABC):
    """Where the current tokens live, and the lock taken to renew them."""

    @abstractmethod
    async def get(self) -> Optional[ZaloTokens]:
        """The stored tokens, or None when there are none (or they are unreadable)."""

    @abstractmethod
    async def put(self, tokens: ZaloTokens) -> None:
        """Store renewed tokens."""

    @abstractmethod
    def lock(self) -> "contextlib.AbstractAsyncContextManager[None]":
        """Held while renewing, so that one holder at a time spends the rotating refresh token."""

    async def close(self) -> None:
        pass


class FileTokenStore(TokenStore):
    """A JSON file readable by its owner only, replaced atomically; the lock is an exclusive
    ``flock`` on a companion file, so processes on the same host (replicas, workers) take turns.
    Replicas on several hosts need the Redis store."""

    def __init__(self, path: os.PathLike, lock_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.lock_timeout = lock_timeout
        self._in_process: Optional[asyncio.Lock] = None  # made in the running loop

    def _read(self) -> Optional[str]:
        try:
            return self.path.read_text("utf-8")
        except FileNotFoundError:
            return None

    def _write(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    async def get(self) -> Optional[ZaloTokens]:
        return ZaloTokens.from_json(await asyncio.to_thread(self._read))

    async def put(self, tokens: ZaloTokens) -> None:
        await asyncio.to_thread(self._write, tokens.to_json())

    @contextlib.asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        if self._in_process is None:
            self._in_process = asyncio.Lock()
        async with self._in_process:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                deadline = time.monotonic() + self.lock_timeout
                while True:
                    try:
                        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as error:
                        if error.errno not in (errno.EAGAIN, errno.EACCES):
                            raise
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"Zalo token lock {self.lock_path} held too long")
                        await asyncio.sleep(0.05)
                try:
                    yield
                finally:
                    fcntl.flock(descriptor, fcntl.LOCK_UN)
            finally:
                os.close(descriptor)


class RedisTokenStore(TokenStore):
    """One key in Redis shared by every replica; renewal under a Redis lock with a time limit."""

    def __init__(self, url: str, key: str, lock_timeout: float = 30.0) -> None:
        self.url = url
        self.key = key
        self.lock_timeout = lock_timeout
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import redis.asyncio as redis_asyncio

            self._client = redis_asyncio.from_url(
                self.url, socket_timeout=5.0, socket_connect_timeout=3.0, decode_responses=True
            )
        return self._client

    async def get(self) -> Optional[ZaloTokens]:
        return ZaloTokens.from_json(await self.client.get(self.key))

    async def put(self, tokens: ZaloTokens) -> None:
        await self.client.set(self.key, tokens.to_json())

    @contextlib.asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        lock = self.client.lock(self.key + ":lock", timeout=self.lock_timeout,
                                blocking_timeout=self.lock_timeout)
        if not await lock.acquire():
            raise TimeoutError("Zalo token lock held too long")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # expired meanwhile: nothing to release
                await lock.release()

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()
            await client.connection_pool.disconnect()


def open_token_store(redis_url: Optional[str], token_file: os.PathLike, app_id: str,
                     prefix: str = "tlvdc:channels:") -> TokenStore:
    if redis_url:
        return RedisTokenStore(redis_url, f"{prefix}zalo:tokens:{app_id}")
    return FileTokenStore(token_file)


def _title(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= BUTTON_TITLE_LIMIT else text[: BUTTON_TITLE_LIMIT - 1] + "…"


def quick_actions(buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Rasa buttons as Zalo buttons: a URL opens, anything else is sent back hidden as the user's
    message (``oa.query.hide``), which is how a Rasa payload reaches the bot when tapped."""
    actions = []
    for button in buttons[:MAX_BUTTONS]:
        if button.get("type") == "web_url" or (button.get("url") and not button.get("payload")):
            actions.append({"title": _title(button["title"]), "type": "oa.open.url",
                            "payload": {"url": button.get("url") or button.get("payload")}})
        elif len(button["payload"]) <= BUTTON_PAYLOAD_LIMIT:
            actions.append({"title": _title(button["title"]), "type": "oa.query.hide",
                            "payload": button["payload"]})
    return actions


class ZaloClient:
    """Sends customer-service messages; renews the access token when needed (see module doc)."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        store: TokenStore,
        http: Optional[HttpClient] = None,
        api_base: str = DEFAULT_API_BASE,
        oauth_base: str = DEFAULT_OAUTH_BASE,
        seed_refresh_token: Optional[str] = None,
        seed_access_token: Optional[str] = None,
        refresh_margin: float = 300.0,
        clock=time.time,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.store = store
        self.http = http or HttpClient()
        self.api_base = api_base.rstrip("/")
        self.oauth_base = oauth_base.rstrip("/")
        self.seed_refresh_token = seed_refresh_token or None
        self.seed_access_token = seed_access_token or None
        self.refresh_margin = refresh_margin
        self.clock = clock
        self._cached: Optional[ZaloTokens] = None
        self._unsaved: Optional[ZaloTokens] = None
        self._refreshing: Optional[asyncio.Lock] = None
        self.refreshes = 0  # renewals this process made (for tests and logs)

    # -- tokens ---------------------------------------------------------------------------------
    def _local_lock(self) -> asyncio.Lock:
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        return self._refreshing

    def _usable(self, tokens: Optional[ZaloTokens]) -> bool:
        return bool(tokens and tokens.access_token) and not tokens.expiring(self.clock(), self.refresh_margin)

    async def access_token(self) -> str:
        if self._unsaved is not None:
            await self._save(self._unsaved)
        if self._usable(self._cached):
            return self._cached.access_token
        tokens = await self.store.get()
        if tokens is None and self.seed_access_token:
            async with self.store.lock():
                tokens = await self.store.get()
                if tokens is None:
                    tokens = ZaloTokens(self.seed_access_token, self.seed_refresh_token or "", 0.0)
                    await self.store.put(tokens)
        if self._usable(tokens):
            self._cached = tokens
            return tokens.access_token
        return await self.refresh(failed_token=tokens.access_token if tokens else None)

    async def refresh(self, failed_token: Optional[str]) -> str:
        """A fresh access token: renewed here, or taken from the store if another replica (or
        another coroutine of this one) renewed it since ``failed_token`` was read."""
        async with self._local_lock():
            if self._usable(self._cached) and self._cached.access_token != failed_token:
                return self._cached.access_token
            async with self.store.lock():
                current = await self.store.get()
                if self._usable(current) and current.access_token != failed_token:
                    self._cached = current
                    return current.access_token
                candidates = []
                for token in ((current.refresh_token if current else None), self.seed_refresh_token):
                    if token and token not in candidates:
                        candidates.append(token)
                if not candidates:
                    raise ZaloTokenError("no_refresh_token", "no refresh token in the store or the configuration")
                for refresh_token in candidates:
                    renewed = await self._renew(refresh_token)
                    if renewed is not None:
                        self._cached = renewed
                        self.refreshes += 1
                        await self._save(renewed)
                        logger.info("Zalo access token renewed (valid until %s)",
                                    time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(renewed.expires_at)))
                        return renewed.access_token
                raise ZaloTokenError("refresh_rejected", "Zalo rejected the refresh token")

    async def _save(self, tokens: ZaloTokens) -> None:
        try:
            await self.store.put(tokens)
            self._unsaved = None
        except Exception as error:  # noqa: BLE001 - keep them in memory and store them later
            self._unsaved = tokens
            logger.error("could not store the renewed Zalo tokens (%s); will retry", error)

    async def _renew(self, refresh_token: str) -> Optional[ZaloTokens]:
        result = await self.http.request(
            "POST", f"{self.oauth_base}/v4/oa/access_token", what="Zalo token renewal",
            headers={"secret_key": self.app_secret},
            form={"refresh_token": refresh_token, "app_id": self.app_id, "grant_type": "refresh_token"},
        )
        data = result.data
        if result.status != 200 or not data.get("access_token"):
            logger.error("Zalo refused to renew the token: HTTP %s, error %s %s", result.status,
                         data.get("error"), data.get("error_name") or data.get("message") or "")
            return None
        try:
            lifetime = float(data.get("expires_in") or 0)
        except (TypeError, ValueError):
            lifetime = 0.0
        return ZaloTokens(
            access_token=str(data["access_token"]),
            refresh_token=str(data.get("refresh_token") or refresh_token),
            expires_at=self.clock() + lifetime if lifetime > 0 else 0.0,
        )

    # -- messages -------------------------------------------------------------------------------
    async def _post_message(self, token: str, body: Dict[str, Any]) -> Dict[str, Any]:
        result = await self.http.request(
            "POST", f"{self.api_base}/v3.0/oa/message/cs", what="Zalo message",
            headers={"access_token": token, "Content-Type": "application/json"}, json_body=body,
        )
        if result.status != 200:
            raise ZaloApiError(f"HTTP {result.status}", result.text[:200])
        return result.data

    async def send_message(self, user_id: str, message: Dict[str, Any]) -> Dict[str, Any]:
        body = {"recipient": {"user_id": user_id}, "message": message}
        token = await self.access_token()
        data = await self._post_message(token, body)
        if data.get("error") in TOKEN_EXPIRED_ERRORS:
            token = await self.refresh(failed_token=token)
            data = await self._post_message(token, body)
        if data.get("error", 0) != 0:
            raise ZaloApiError(data.get("error"), str(data.get("message", "")))
        return data

    async def send_text(self, user_id: str, text: str,
                        buttons: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
        message: Dict[str, Any] = {"text": text}
        actions = quick_actions(buttons or [])
        if actions:
            message["attachment"] = {"type": "template", "payload": {"buttons": actions}}
        return await self.send_message(user_id, message)

    async def close(self) -> None:
        await self.http.close()
        await self.store.close()
