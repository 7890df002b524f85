"""Outbound HTTP for the channels: one aiohttp session, timeouts, a retry on transient errors.

The session opens lazily inside the running event loop (never at import, never in another loop) and
is shared by every request of the process. Transient failures (connection errors, timeouts, HTTP 429
and 5xx) are retried with a short backoff; other answers are returned to the caller, which knows the
platform's error format. A retried request may reach the platform twice if only its answer was lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

import aiohttp

logger = logging.getLogger(__name__)


@dataclass
class HttpResult:
    status: int
    data: Dict[str, Any]
    text: str


class TransientHttpError(Exception):
    """The request kept failing with transient errors until the retries ran out."""


class HttpClient:
    def __init__(
        self,
        total_timeout: float = 10.0,
        connect_timeout: float = 3.0,
        retries: int = 2,
        backoff: float = 0.3,
        limit: int = 32,
    ) -> None:
        self.timeout = aiohttp.ClientTimeout(total=total_timeout, connect=connect_timeout)
        self.retries = retries
        self.backoff = backoff
        self.limit = limit
        self._session: Optional[aiohttp.ClientSession] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    async def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                connector=aiohttp.TCPConnector(limit=self.limit),
                headers={"User-Agent": "tro-ly-dich-vu-cong"},
            )
            self._loop = loop
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        headers: Optional[Mapping[str, str]] = None,
        params: Optional[Mapping[str, str]] = None,
        json_body: Any = None,
        form: Optional[Mapping[str, str]] = None,
    ) -> HttpResult:
        """Send a request, retrying transient failures. ``what`` names it in logs (never the URL,
        which may carry a token)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                session = await self.session()
                async with session.request(
                    method, url, headers=headers, params=params, json=json_body, data=form
                ) as response:
                    text = await response.text()
                    status = response.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                reason = f"{type(error).__name__}: {error}"
                status, text = 0, ""
            else:
                if status != 429 and status < 500:
                    return HttpResult(status, _json(text), text)
                reason = f"HTTP {status}"
            if attempt > self.retries:
                raise TransientHttpError(f"{what}: {reason} after {attempt} attempts")
            delay = self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random())
            logger.warning("%s: %s, retrying in %.2f s", what, reason, delay)
            await asyncio.sleep(delay)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _json(text: str) -> Dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {"data": data}
