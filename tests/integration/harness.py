"""Helpers of the integration tests: the real services, fresh databases, replicas, HTTP clients.

Services (the machine's own, also in CI): PostgreSQL ``TEST_POSTGRES_URL`` (postgres@127.0.0.1:5432),
Redis ``TEST_REDIS_URL`` (redis://127.0.0.1:6379), RabbitMQ ``TEST_RABBITMQ_URL``
(amqp://guest:guest@127.0.0.1:5672). Unreachable: the tests skip, or fail with REQUIRE_SERVICES=1.
Every test run uses its own database, Redis key prefix and RabbitMQ exchange and queue, so runs in
parallel do not meet.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterable, List, Optional
from urllib.parse import urlparse

import pytest

from bot.settings import PROJECT_ROOT
from bot.stack import Stack, free_port, wait_http

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
APOLOGY_WORDS = ("Xin lỗi", "gián đoạn")


def require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def _reachable(url: str, default_port: int) -> Optional[str]:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=3):
            return None
    except OSError as error:
        return f"{parsed.hostname}:{parsed.port or default_port}: {error}"


def need_services(*names: str) -> None:
    """Skip (or fail, with REQUIRE_SERVICES=1) unless the named services answer."""
    checks = {"postgres": (PG_ADMIN_URL, 5432), "redis": (REDIS_URL, 6379), "rabbitmq": (RABBITMQ_URL, 5672)}
    missing = []
    for name in names:
        error = _reachable(*checks[name])
        if error:
            missing.append(f"{name} ({error})")
    if missing:
        message = "unreachable: " + ", ".join(missing)
        if require_services():
            pytest.fail(message + " and REQUIRE_SERVICES=1")
        pytest.skip(message)


# ------------------------------------------------------------------------------------ PostgreSQL
def _pg_admin(statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(PG_ADMIN_URL, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def pg_parts() -> Dict[str, str]:
    parsed = urlparse(PG_ADMIN_URL)
    return {"host": parsed.hostname or "127.0.0.1", "port": str(parsed.port or 5432),
            "user": parsed.username or "postgres", "password": parsed.password or ""}


def create_database(prefix: str = "it") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_query(database: str, sql: str, *params) -> List[tuple]:
    import psycopg2

    parts = pg_parts()
    connection = psycopg2.connect(host=parts["host"], port=parts["port"], user=parts["user"],
                                  password=parts["password"] or None, dbname=database, connect_timeout=5)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        connection.close()


def redis_parts() -> Dict[str, str]:
    parsed = urlparse(REDIS_URL)
    db = (parsed.path or "/0").strip("/") or "0"
    return {"host": parsed.hostname or "127.0.0.1", "port": str(parsed.port or 6379), "db": db}


def rabbit_parts() -> Dict[str, str]:
    parsed = urlparse(RABBITMQ_URL)
    return {"host": parsed.hostname or "127.0.0.1", "port": str(parsed.port or 5672),
            "user": parsed.username or "guest", "password": parsed.password or "guest"}


# --------------------------------------------------------------------------------------- replicas
def model_copy(directory: Path, attempts: int = 60) -> str:
    """A private copy of the latest model (the lead may retrain meanwhile: wait for it)."""
    from rasa.model import get_latest_model

    for _ in range(attempts):
        model = get_latest_model(str(PROJECT_ROOT / "models"))
        if model and Path(model).exists():
            target = directory / Path(model).name
            try:
                shutil.copy(model, target)
                return str(target)
            except OSError:
                pass
        time.sleep(5)
    pytest.fail("no trained model in models/ (make test trains one)")


def production_env(database: str, *, prefix: str, pg_port: Optional[int] = None,
                   redis_port: Optional[int] = None, exchange: str = "", queue: str = "") -> Dict[str, str]:
    """The environment endpoints.production.yml reads, pointed at the test services."""
    pg, redis, rabbit = pg_parts(), redis_parts(), rabbit_parts()
    return {
        "DB_HOST": pg["host"], "DB_PORT": str(pg_port or pg["port"]), "DB_NAME": database,
        "DB_USER": pg["user"], "DB_PASSWORD": pg["password"], "DB_LOGIN_DB": "",
        "REDIS_HOST": redis["host"], "REDIS_PORT": str(redis_port or redis["port"]),
        "REDIS_PASSWORD": "", "REDIS_DB": redis["db"], "REDIS_KEY_PREFIX": prefix,
        "RABBITMQ_HOST": rabbit["host"], "RABBITMQ_PORT": rabbit["port"], "RABBITMQ_USER": rabbit["user"],
        "RABBITMQ_PASSWORD": rabbit["password"], "RABBITMQ_QUEUE": queue or f"{prefix}_events",
        "RABBITMQ_EXCHANGE": exchange or f"{prefix}_exchange",
        # as in the images (deploy/Dockerfile.*): glibc keeps fewer per-thread arenas, and TensorFlow's
        # oneDNN kernels (whose memory grows with every new input length) are off
        "MALLOC_ARENA_MAX": "2",
        "TF_ENABLE_ONEDNN_OPTS": "0",
    }


def production_endpoints(lock_store: str = "atomic", broker: bool = True, tracker_store: str = "resilient") -> str:
    """endpoints.production.yml without its action_endpoint (Stack writes its own).

    ``lock_store="rasa"`` / ``tracker_store="rasa"``: Rasa's own RedisLockStore / SQLTrackerStore
    with the same settings (plain Rasa, for the race measurement)."""
    text = (PROJECT_ROOT / "endpoints.production.yml").read_text(encoding="utf-8")
    sections = _sections(text)
    sections.pop("action_endpoint")
    if not broker:
        sections.pop("event_broker")
    if lock_store == "rasa":  # Rasa's own RedisLockStore, for the race measurement
        sections["lock_store"] = sections["lock_store"].replace(
            "type: bot.resilience.lock_store.AtomicRedisLockStore", "type: redis"
        )
    if tracker_store == "rasa":
        sections["tracker_store"] = sections["tracker_store"].replace(
            "type: bot.resilience.tracker_store.ResilientSQLTrackerStore", "type: sql"
        )
    return "\n".join(sections.values()) + "\n"


def _sections(text: str) -> Dict[str, str]:
    sections: Dict[str, List[str]] = {}
    current = None
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#") and line.endswith(":"):
            current = line[:-1]
            sections[current] = [line]
        elif current and line.strip() and not line.startswith("#"):
            sections[current].append(line)
    return {name: "\n".join(lines) for name, lines in sections.items()}


class Replica(Stack):
    """One Rasa server and its action server (bot.stack.Stack), whose action server can be stopped
    and started again on the same port."""

    def stop_actions(self) -> None:
        import signal

        if self.actions is not None and self.actions.poll() is None:
            os.killpg(self.actions.pid, signal.SIGKILL)
            self.actions.wait(timeout=10)

    def start_actions(self) -> None:
        self.actions = self._start(
            [_rasa(), "run", "actions", "--actions", "actions", "--port", str(self.action_port)],
            "actions",
        )
        wait_http(f"http://127.0.0.1:{self.action_port}/health", process=self.actions)


    def pause_actions(self) -> None:
        """The action server hangs (SIGSTOP): it accepts connections and answers nothing."""
        import signal

        os.killpg(self.actions.pid, signal.SIGSTOP)

    def resume_actions(self) -> None:
        import signal

        os.killpg(self.actions.pid, signal.SIGCONT)


def _rasa() -> str:
    import sys

    return str(Path(sys.executable).parent / "rasa")


def start_all(replicas: Iterable[Stack]) -> None:
    """Start replicas side by side (each takes ~20-40 s to load the model)."""
    replicas = list(replicas)
    with ThreadPoolExecutor(len(replicas)) as pool:
        for future in [pool.submit(r.start) for r in replicas]:
            future.result()


def delete_rabbit(prefix: str) -> None:
    """Remove the queue and exchange a test run declared (best effort)."""
    import aio_pika

    async def remove():
        connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
        try:
            channel = await connection.channel()
            await channel.queue_delete(f"{prefix}_events")
            await channel.exchange_delete(f"{prefix}_exchange")
        finally:
            await connection.close()

    try:
        asyncio.run(remove())
    except Exception:  # noqa: BLE001
        pass


def delete_redis_keys(prefix: str) -> None:
    """Remove the keys a test run left in Redis (best effort)."""
    import redis

    parts = redis_parts()
    try:
        client = redis.Redis(host=parts["host"], port=int(parts["port"]), db=int(parts["db"]), socket_timeout=5)
        keys = list(client.scan_iter(f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    except Exception:  # noqa: BLE001
        pass


async def consume_events(prefix: str, expected: int, timeout: float = 20.0) -> List[Dict]:
    """Read the run's event queue until ``expected`` events came or ``timeout`` passed."""
    import aio_pika

    events: List[Dict] = []
    connection = await aio_pika.connect(RABBITMQ_URL, timeout=5)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"{prefix}_events", durable=True, passive=True)
        deadline = time.monotonic() + timeout
        while len(events) < expected and time.monotonic() < deadline:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                await asyncio.sleep(0.2)
                continue
            events.append(json.loads(message.body))
    finally:
        await connection.close()
    return events


# ------------------------------------------------------------------------------------------ HTTP
async def say(session, url: str, sender, text, timeout: float = 30.0, raw: Optional[bytes] = None):
    """POST to the REST channel; returns (status, elapsed seconds, parsed body or text)."""
    import aiohttp

    body = raw if raw is not None else json.dumps({"sender": sender, "message": text}).encode()
    started = time.perf_counter()
    async with session.post(f"{url}/webhooks/rest/webhook", data=body,
                            headers={"Content-Type": "application/json"},
                            timeout=aiohttp.ClientTimeout(total=timeout)) as response:
        payload = await response.read()
        elapsed = time.perf_counter() - started
        try:
            parsed = json.loads(payload)
        except ValueError:
            parsed = payload.decode("utf-8", "replace")
        return response.status, elapsed, parsed


def texts(messages) -> List[str]:
    return [m.get("text", "") for m in messages] if isinstance(messages, list) else []


async def tracker(session, url: str, sender: str) -> Dict:
    from urllib.parse import quote

    async with session.get(f"{url}/conversations/{quote(sender, safe='')}/tracker") as response:
        assert response.status == 200, await response.text()
        return await response.json()


def is_apology(messages) -> bool:
    joined = " ".join(texts(messages))
    return len(texts(messages)) == 1 and all(word in joined for word in APOLOGY_WORDS)


def run(coroutine):
    return asyncio.run(coroutine)


def assert_well_formed(tracker_json: Dict) -> None:
    """Every user message follows ``action_listen``, gets at least one bot message before the
    next one, and appears once (message ids are unique)."""
    events = tracker_json["events"]
    last_action = None
    answered = True
    ids = []
    for event in events:
        kind = event["event"]
        if kind == "action":
            last_action = event["name"]
        elif kind == "bot":
            answered = True
        elif kind == "user":
            assert answered, f"a message got no answer before {event.get('text')!r}"
            assert last_action == "action_listen", f"{event.get('text')!r} after {last_action}"
            ids.append(event.get("message_id"))
            answered = False
            last_action = None
    assert answered, "the last message got no answer"
    assert len(ids) == len(set(ids)), "a message is in the tracker twice"
