"""Start the assistant's processes (action server, Rasa server) for tests and benchmarks.

Each process runs from this checkout's virtualenv on free local ports; ``Stack`` stops them
on exit. Used by the end-to-end tests and ``make bench``; ``scripts/run.sh`` is the way to run
the assistant for real.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bot.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 180.0, process: Optional[subprocess.Popen] = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


def rss_kib(pid: int) -> int:
    """Resident memory of a process, KiB (Linux)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Stack(AbstractContextManager):
    """Action server + Rasa server (REST channel, API enabled) on free ports."""

    def __init__(
        self,
        model: str = "models",
        env: Optional[Dict[str, str]] = None,
        credentials: Optional[str] = None,
        endpoints_extra: str = "",
        log_dir: Optional[Path] = None,
        rasa_args: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
        self.credentials = credentials
        self.endpoints_extra = endpoints_extra
        self.rasa_args = list(rasa_args)  # e.g. ["--cors", "*"] for a page on another origin
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="stack-"))
        self.action_port = free_port()
        self.rasa_port = free_port()
        self.processes: List[subprocess.Popen] = []
        self.rasa: Optional[subprocess.Popen] = None
        self.actions: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def _start(self, args: List[str], name: str) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            args, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes.append(process)
        return process

    def start(self) -> "Stack":
        endpoints = self.log_dir / "endpoints.yml"
        endpoints.write_text(
            f'action_endpoint:\n  url: "http://127.0.0.1:{self.action_port}/webhook"\n{self.endpoints_extra}',
            encoding="utf-8",
        )
        credentials = self.log_dir / "credentials.yml"
        credentials.write_text(self.credentials or "rest:\n", encoding="utf-8")
        self.actions = self._start(
            [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.action_port)], "actions"
        )
        self.rasa = self._start(
            [
                str(BIN / "rasa"), "run", "--enable-api", "--port", str(self.rasa_port),
                "--model", self.model, "--endpoints", str(endpoints), "--credentials", str(credentials),
                *self.rasa_args,
            ],
            "rasa",
        )
        wait_http(f"http://127.0.0.1:{self.action_port}/health", process=self.actions)
        wait_http(f"{self.url}/status", process=self.rasa)
        return self

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
