"""Bad input at scale: thousands of random and hostile messages through REST and the Zalo and
Messenger webhooks (the production stack: PostgreSQL, Redis, RabbitMQ; every channel enabled).

Empty and 100 kB messages, control characters, invalid UTF-8 and broken JSON in the body, wrong JSON
types, SQL and script injection, random dossier-like codes, forged and valid signatures. Expected:
no 5xx, no process dies, resident memory flat, and a citizen is answered normally afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid

import aiohttp
import pytest

from bot.channels import fakes
from bot.settings import PROJECT_ROOT
from bot.stack import rss_kib
from tests.integration import fuzzing
from tests.integration import harness as h

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = int(os.environ.get("FUZZ_SEED", "20261122"))
REST_MESSAGES = int(os.environ.get("FUZZ_REST_MESSAGES", "2000"))
CHANNEL_MESSAGES = int(os.environ.get("FUZZ_CHANNEL_MESSAGES", "300"))  # per channel
BIG_MESSAGES = int(os.environ.get("FUZZ_BIG_MESSAGES", "12"))  # 100 kB each, spread over the run
CONCURRENCY = 8
# Resident memory may grow this much after the warm-up (allocator noise, lazily built caches).
MEMORY_SLACK_MIB = 60


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory, catalogue_db):
    h.need_services("postgres", "redis", "rabbitmq")
    database = h.create_database("fuzz")
    prefix = f"fuzz{uuid.uuid4().hex[:8]}"
    state = tmp_path_factory.mktemp("fuzz-state")
    try:
        with fakes.FakePlatforms(zalo_refresh_token="zr-0") as platforms:
            env = h.production_env(database, prefix=prefix)
            env.update(
                DATABASE_URL=catalogue_db,
                ZALO_APP_ID=fakes.ZALO_APP_ID, ZALO_APP_SECRET=fakes.ZALO_APP_SECRET,
                ZALO_OA_SECRET_KEY=fakes.ZALO_OA_SECRET_KEY, ZALO_REFRESH_TOKEN="zr-0",
                MESSENGER_VERIFY_TOKEN=fakes.MESSENGER_VERIFY_TOKEN,
                MESSENGER_APP_SECRET=fakes.MESSENGER_APP_SECRET,
                MESSENGER_PAGE_ACCESS_TOKEN=fakes.MESSENGER_PAGE_TOKEN,
                ZALO_API_BASE=platforms.url, ZALO_OAUTH_BASE=platforms.url, GRAPH_API_BASE=platforms.url,
                ZALO_TOKEN_FILE=str(state / "zalo_tokens.json"),
                REDIS_URL=h.REDIS_URL, CHANNELS_KEY_PREFIX=prefix,
            )
            log_dir = tmp_path_factory.mktemp("fuzz")
            replica = h.Replica(
                model=h.model_copy(log_dir), env=env, endpoints_extra=h.production_endpoints(broker=os.environ.get("FUZZ_BROKER", "1") == "1", tracker_store=os.environ.get("FUZZ_TRACKER", "resilient")),
                credentials=(PROJECT_ROOT / "credentials.channels.yml").read_text("utf-8"), log_dir=log_dir,
            )
            with replica:
                yield replica, platforms
    finally:
        h.delete_rabbit(prefix)
        h.drop_database(database)
        h.delete_redis_keys(prefix)


class Tally:
    def __init__(self) -> None:
        self.statuses: dict = {}
        self.server_errors: list = []
        self.sent = 0

    def add(self, where: str, status: int, body: bytes, answer) -> None:
        self.sent += 1
        self.statuses[(where, status)] = self.statuses.get((where, status), 0) + 1
        if status >= 500:
            self.server_errors.append(f"{where} {status} for {body[:120]!r}: {str(answer)[:200]}")


async def _post(session, url: str, body: bytes, headers: dict):
    async with session.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=120)) as response:
        return response.status, await response.read()


def _signed_or_forged(rng: random.Random, build, user: str, text: str):
    # The platforms send valid UTF-8; a lone surrogate arrives as a JSON escape, signed like the rest.
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text) or rng.randrange(40) == 0:
        text = "PLACEHOLDER"
    body, headers = build(user, text)
    if text == "PLACEHOLDER":
        body = body.replace(b"PLACEHOLDER", b"\\ud800 \\udfff")
        headers = _resign(build, body, headers)
    choice = rng.randrange(10)
    if choice == 0:
        headers = {k: (v[:-2] + "00" if "ignature" in k else v) for k, v in headers.items()}  # forged
    elif choice == 1:
        headers = {"Content-Type": "application/json"}  # unsigned
    elif choice == 2:
        body = body[: max(1, len(body) // 2)]  # truncated after signing
    return body, headers


def _resign(build, body: bytes, headers: dict) -> dict:
    from bot.channels.signatures import (HUB_SIGNATURE_256_HEADER, ZALO_SIGNATURE_HEADER,
                                         hub_signature_256, zalo_signature)

    headers = dict(headers)
    if build is fakes.zalo_delivery:
        timestamp = json.loads(body)["timestamp"]
        headers[ZALO_SIGNATURE_HEADER] = zalo_signature(fakes.ZALO_APP_ID, body, timestamp,
                                                        fakes.ZALO_OA_SECRET_KEY)
    else:
        headers[HUB_SIGNATURE_256_HEADER] = hub_signature_256(fakes.MESSENGER_APP_SECRET, body)
    return headers


def test_hostile_input_at_scale(fuzz_stack):
    replica, platforms = fuzz_stack
    rng = random.Random(SEED)
    senders = [f"fuzz-{n}" for n in range(150)] + ["'; DROP TABLE events; --", "<script>", "ngườidùng"]
    big_at = set(rng.sample(range(REST_MESSAGES), BIG_MESSAGES))
    tally = Tally()
    memory = []

    def sample_memory() -> None:
        memory.append((rss_kib(replica.rasa.pid) / 1024, rss_kib(replica.actions.pid) / 1024))

    async def rest_worker(queue, session):
        while True:
            item = await queue.get()
            if item is None:
                return
            number, body = item
            status, answer = await _post(session, f"{replica.url}/webhooks/rest/webhook", body,
                                         {"Content-Type": "application/json"})
            tally.add("rest", status, body, answer)

    async def channel_worker(queue, session):
        while True:
            item = await queue.get()
            if item is None:
                return
            where, url, body, headers = item
            status, answer = await _post(session, url, body, headers)
            tally.add(where, status, body, answer)

    async def main():
        connector = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=connector) as session:
            queue: asyncio.Queue = asyncio.Queue(maxsize=64)
            workers = [asyncio.ensure_future(rest_worker(queue, session)) for _ in range(CONCURRENCY)]
            channel_queue: asyncio.Queue = asyncio.Queue(maxsize=16)
            channel_workers = [asyncio.ensure_future(channel_worker(channel_queue, session)) for _ in range(2)]
            zalo = f"{replica.url}/webhooks/zalo/webhook"
            messenger = f"{replica.url}/webhooks/messenger/webhook"
            channel_every = max(1, REST_MESSAGES // max(1, CHANNEL_MESSAGES))
            for number in range(REST_MESSAGES):
                if number % (REST_MESSAGES // 10) == 0 and number:
                    sample_memory()  # every tenth of the run
                body, _ = fuzzing.rest_body(rng, senders, big=number in big_at)
                await queue.put((number, body))
                if number % channel_every == 0:
                    user = f"z{rng.randrange(60)}"
                    text = fuzzing.hostile_text(rng)[:2000]
                    body, headers = _signed_or_forged(rng, fakes.zalo_delivery, user, text)
                    await channel_queue.put(("zalo", zalo, body, headers))
                    body, headers = _signed_or_forged(rng, fakes.messenger_delivery, f"m{rng.randrange(60)}", text)
                    await channel_queue.put(("messenger", messenger, body, headers))
            for _ in workers:
                await queue.put(None)
            for _ in channel_workers:
                await channel_queue.put(None)
            await asyncio.gather(*workers, *channel_workers)

    started = time.monotonic()
    h.run(main())
    elapsed = time.monotonic() - started
    time.sleep(3)  # the channels answer in the background
    sample_memory()
    print(f"\nfuzz: {tally.sent} requests in {elapsed:.0f} s; statuses {sorted(tally.statuses.items())}; "
          f"resident memory (Rasa, actions) MiB by tenths: {[(round(r), round(a)) for r, a in memory]}")

    assert not tally.server_errors, "\n".join(tally.server_errors[:10])
    assert replica.rasa.poll() is None and replica.actions.poll() is None, "a server died"
    # Flat: after the first fifth (model warm-up, allocator pools), no steady growth.
    base = memory[min(1, len(memory) - 1)]
    rasa_growth = memory[-1][0] - base[0]
    actions_growth = memory[-1][1] - base[1]
    assert rasa_growth < MEMORY_SLACK_MIB, f"Rasa server grew {rasa_growth:.0f} MiB"
    assert actions_growth < MEMORY_SLACK_MIB, f"action server grew {actions_growth:.0f} MiB"
    assert sum(n for (where, status), n in tally.statuses.items() if status == 200) > tally.sent // 2

    async def still_answers():
        async with aiohttp.ClientSession() as session:
            status, _, body = await h.say(session, replica.url, f"after-fuzz-{uuid.uuid4().hex[:6]}",
                                          "Đăng ký kết hôn có mất phí không")
            return status, "\n".join(h.texts(body))

    status, answer = h.run(still_answers())
    assert status == 200 and "1.000894" in answer
