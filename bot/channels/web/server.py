"""The demo page with the chat bubble: ``python -m bot.channels.web.server`` (``make run``: :8080).

Serves ``/`` (a mock portal page carrying the one-tag embed) and ``/static/`` (the loader
``widget.js`` and the vendored rasa-webchat bundle). The page talks to the assistant's socket.io
channel at ``--socket-url`` (default: the page's host name, port 5005).
"""

from __future__ import annotations

import argparse
import html
import logging
import os
from pathlib import Path
from typing import List, Optional

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(socket_url: str = "") -> web.Application:
    page = (STATIC_DIR / "index.html").read_text("utf-8").replace(
        "{{SOCKET_URL}}", html.escape(socket_url, quote=True)
    )

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-cache"})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.add_routes([
        web.get("/", index),
        web.get("/health", health),
        web.static("/static", STATIC_DIR, follow_symlinks=False),
    ])
    return app


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    parser.add_argument("--socket-url", default=os.environ.get("WIDGET_SOCKET_URL", ""),
                        help="the assistant's socket.io address as the browser sees it")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    web.run_app(create_app(args.socket_url), host=args.host, port=args.port,
                print=lambda *_: print(f"demo page on http://{args.host}:{args.port}/", flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
