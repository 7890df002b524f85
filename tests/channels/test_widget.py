"""The chat bubble in a real headless Chromium: the demo page, a question, a button, a dossier lookup,
a network drop and a page reload.

The browser reaches the assistant through a local TCP proxy that the test can cut, as a network drop
would. Every request the page makes to anything but this machine is refused and recorded: the widget
must load nothing from the internet. ``WIDGET_SCREENSHOT=docs/widget.png`` saves the final screen.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT
from bot.stack import BIN, free_port, wait_http

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
TIMEOUT_MS = 30_000


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(reason + " (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


class TcpProxy:
    """127.0.0.1:<port> -> 127.0.0.1:<target>; ``drop()`` cuts every connection and refuses new ones
    until ``restore()``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.down = False
        self.accepted = 0
        self._writers: set = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _pipe(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_reader, client_writer) -> None:
        if self.down:
            client_writer.close()
            return
        self.accepted += 1
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.close()
            return
        self._writers |= {client_writer, server_writer}
        await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer))
        self._writers -= {client_writer, server_writer}

    def start(self) -> "TcpProxy":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", self.port), self._loop).result(10)
        return self

    def drop(self) -> None:
        def cut():
            self.down = True
            for writer in list(self._writers):
                writer.transport.abort()
        self._loop.call_soon_threadsafe(cut)

    def restore(self) -> None:
        self._loop.call_soon_threadsafe(setattr, self, "down", False)

    def stop(self) -> None:
        self.drop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@pytest.fixture
def demo_page(channel_stack, tmp_path):
    """The demo page server (as `make run` starts it), talking to the assistant through the proxy."""
    proxy = TcpProxy(channel_stack.rasa_port).start()
    port = free_port()
    log = open(tmp_path / "web.log", "wb")
    server = subprocess.Popen(
        [str(BIN / "python"), "-m", "bot.channels.web.server", "--port", str(port),
         "--socket-url", f"http://127.0.0.1:{proxy.port}"],
        cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=30, process=server)
        yield f"http://127.0.0.1:{port}/", proxy
    finally:
        server.terminate()
        server.wait(10)
        proxy.stop()


def test_the_widget_carries_a_conversation(demo_page, demo_db, trained_with):
    require(CHROMIUM is not None, "chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:  # pragma: no cover
        require(False, "playwright is not installed (requirements.lock)")
    trained_with("dossier_status_form")
    url, proxy = demo_page
    _, dossier_code, digits = demo_db
    outside = []
    console = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 820}, locale="vi-VN")

            def only_local(route):
                host = urllib.parse.urlsplit(route.request.url).hostname
                if host in ("127.0.0.1", "localhost"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", only_local)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda message: console.append(message.text))
            page.goto(url)

            answers = page.locator(".rw-response")
            page.locator(".rw-launcher").click()
            expect(answers.first).to_contain_text("Xin chào", timeout=TIMEOUT_MS)

            def answered_since(count: int, expected: str) -> str:
                """The bot's messages after the first ``count`` (Rasa's socket.io channel sends
                each paragraph as a message), once one of them contains ``expected``."""
                deadline = time.monotonic() + TIMEOUT_MS / 1000
                while True:
                    shown = "\n".join(answers.nth(i).inner_text() for i in range(count, answers.count()))
                    if expected in shown:
                        return shown
                    if time.monotonic() > deadline:
                        raise AssertionError(f"no answer with {expected!r}; got {shown!r}")
                    page.wait_for_timeout(100)

            def ask(text: str, expected: str) -> str:
                count = answers.count()
                box = page.locator(".rw-new-message")
                box.fill(text)
                box.press("Enter")
                expect(page.locator(".rw-client").last).to_contain_text(text.split()[0])
                return answered_since(count, expected)

            # Vietnamese labels.
            expect(page.locator(".rw-title")).to_have_text("Trợ lý dịch vụ công")
            assert page.locator(".rw-new-message").get_attribute("placeholder") == "Nhập câu hỏi của bạn…"

            # A procedure question, then a follow-up.
            ask("Đăng ký kết hôn có mất phí không", "1.000894")
            ask("vậy cần mang theo giấy tờ gì?", "Giấy tờ cần chuẩn bị")

            # Buttons: click the second choice.
            ask("giấy phép", "chọn đúng thủ tục")
            replies = page.locator(".rw-reply")
            expect(replies.nth(1)).to_be_visible()
            chosen = replies.nth(1).inner_text().strip()
            count = answers.count()
            replies.nth(1).click()
            assert chosen.rstrip("…")[:20] in answered_since(count, "Thủ tục phù hợp")

            # A dossier lookup.
            ask("tra cứu hồ sơ", "mã hồ sơ")
            ask(dossier_code, "4 số cuối")
            ask(digits, dossier_code)

            # The network drops, then comes back: the widget reconnects by itself.
            connects = sum("connect:" in line for line in console)
            proxy.drop()
            deadline = time.monotonic() + 20
            while not any("transport" in line for line in console) and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            assert any("transport" in line for line in console), console  # the socket saw the drop
            page.wait_for_timeout(1500)
            proxy.restore()
            deadline = time.monotonic() + 30
            while sum("connect:" in line for line in console) <= connects and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            assert sum("connect:" in line for line in console) > connects, console
            ask("Đăng ký khai sinh cần giấy tờ gì", "Giấy tờ cần chuẩn bị")

            # A reload keeps the conversation: the messages, and the context on the server.
            page.reload()
            page.wait_for_selector(".rw-launcher, .rw-conversation-container")
            answers = page.locator(".rw-response")
            if not page.locator(".rw-conversation-container").is_visible():
                page.locator(".rw-launcher").click()
            # The conversation is still on screen...
            expect(answers.filter(has_text="Giấy tờ cần chuẩn bị cho thủ tục Đăng ký khai sinh")).to_have_count(1)
            expect(page.locator(".rw-client").first).to_contain_text("Đăng ký kết hôn")
            # ... and the assistant still knows which procedure it is about.
            assert "khai sinh" in ask("mất bao lâu?", "Thời hạn giải quyết").lower()

            screenshot = os.environ.get("WIDGET_SCREENSHOT")
            if screenshot:
                page.locator(".rw-messages-container").evaluate("e => e.scrollTop = e.scrollHeight")
                page.wait_for_timeout(300)
                page.screenshot(path=str(Path(PROJECT_ROOT, screenshot)))
        finally:
            browser.close()
    assert outside == []
