"""Load benchmark: simulated citizens over REST against one replica, ours and plain Rasa's moodbot.

N concurrent users (1, 10, 50 by default) each hold realistic multi-turn conversations, one after
another, with no think time (a closed loop: each waits for the answer before the next message):
procedure questions with follow-ups, dossier lookups (code, then the 4 digits), hand-off, greetings.
Our assistant runs as in production (endpoints.production.yml without the event broker: the
resilient SQL tracker store on PostgreSQL, the atomic Redis lock store, the action server on a
PostgreSQL application database with the catalogue and demo dossiers). Plain Rasa is the moodbot of
`rasa init` (trained once into var/bench/moodbot) with Rasa's own SQL tracker store on PostgreSQL
and Redis lock store; "moodbot*" is the same moodbot on our stores (bot/resilience), so that
ours / moodbot* is the cost of our NLU pipeline and actions alone. All run on this machine in the
same run, one loaded at a time, level by level.

Printed per level and bot: turns, throughput (turns/s), p50/p95/p99 latency, errors (HTTP errors,
timeouts, empty answers, apologies) and peak resident memory (Rasa server; + action server for
ours), then our p95 over the moodbot's. With --check the exit status is 1 unless, at 10 users, our
p95 is at most 1.5 times the moodbot's with zero errors.

    python scripts/bench_load.py [--users 1,10,50] [--duration 20] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bot.stack import BIN, free_port, rss_kib, wait_http  # noqa: E402
from tests.integration import harness as h  # noqa: E402

MOODBOT_DIR = ROOT / "var" / "bench" / "moodbot"
TARGET_USERS, TARGET_RATIO = 10, 1.5

PROCEDURE_CONVERSATIONS = [
    ["Đăng ký kết hôn có mất phí không", "vậy cần mang theo giấy tờ gì?", "mat bao lau", "nộp ở đâu?",
     "cảm ơn nhé"],
    ["xin chào", "lam ho chieu online dc ko", "cần giấy tờ gì", "lệ phí bao nhiêu", "tạm biệt"],
    ["đổi bằng lái xe cần gì", "làm online được không", "phí bao nhiêu"],
    ["đăng ký khai sinh cần giấy tờ gì", "mất bao lâu?", "các bước thế nào", "cảm ơn"],
    ["con toi moi sinh can lam giay to gi", "giấy phép", "cấp căn cước cho con dưới 14 tuổi", "lệ phí bao nhiêu"],
]
OTHER_CONVERSATIONS = [["gặp cán bộ", "cảm ơn nhé"], ["bạn là người hay máy", "trợ giúp", "tạm biệt"]]
MOODBOT_CONVERSATIONS = [
    ["hello", "I am sad", "yes", "goodbye"],
    ["hi", "great", "bye"],
    ["hey", "not good", "no", "bye"],
    ["good morning", "are you a bot?", "I am very happy", "see you later"],
]


@dataclass
class Level:
    bot: str
    users: int
    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    error_examples: List[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_mib: Dict[str, float] = field(default_factory=dict)

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        return float(np.percentile(self.latencies, q * 100)) * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class Server:
    """A process we started; stopped with its whole process group."""

    def __init__(self, name: str, args: List[str], cwd: Path, env: Dict[str, str], log: Path) -> None:
        self.name = name
        self.log = open(log, "ab")
        self.process = subprocess.Popen(args, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


# ----------------------------------------------------------------------------------- preparation
def ensure_moodbot() -> str:
    """The moodbot of `rasa init`, trained once (about a minute)."""
    models = sorted((MOODBOT_DIR / "models").glob("*.tar.gz")) if MOODBOT_DIR.exists() else []
    if models:
        return str(models[-1])
    shutil.rmtree(MOODBOT_DIR, ignore_errors=True)
    MOODBOT_DIR.mkdir(parents=True)
    print("training the moodbot of `rasa init` (once, about a minute) ...", flush=True)
    done = subprocess.run([str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(MOODBOT_DIR)],
                          cwd=MOODBOT_DIR, capture_output=True, text=True, timeout=900)
    models = sorted((MOODBOT_DIR / "models").glob("*.tar.gz"))
    if done.returncode != 0 or not models:
        sys.exit(f"rasa init failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return str(models[-1])


def prepare_app_database(name: str, env: Dict[str, str]):
    """Catalogue and demo dossiers in a PostgreSQL database; returns {state: (code, digits)}."""
    url = f"postgresql://{h.pg_parts()['user']}@{h.pg_parts()['host']}:{h.pg_parts()['port']}/{name}"
    run_env = {**env, "DATABASE_URL": url, "REDIS_URL": ""}
    for command in (["db", "up"], ["procedures", "import"], ["dossiers", "demo", "--count", "200"]):
        done = subprocess.run([str(BIN / "bot"), *command], cwd=ROOT, env=run_env, capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0:
            sys.exit(f"bot {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    found = re.findall(r"^\s+(\w+)\s+(\S+-\d{6}-\d{4})\s+(\d{4})$", done.stdout, re.M)
    samples = {state: (code, digits) for state, code, digits in found}
    if not samples:
        sys.exit("no demo dossier printed by `bot dossiers demo`")
    return url, samples


def dossier_conversations(samples: Dict[str, tuple]) -> List[List[str]]:
    conversations = []
    for code, digits in list(samples.values())[:6]:
        conversations.append(["tra cứu hồ sơ", code, digits, "cảm ơn"])
        conversations.append([f"cho mình hỏi hồ sơ {code} đến đâu rồi", digits])
    return conversations


# ------------------------------------------------------------------------------------------- load
def ours_picker(dossiers: List[List[str]]) -> Callable[[random.Random], List[str]]:
    def pick(rng: random.Random) -> List[str]:
        roll = rng.random()
        if roll < 0.6:
            return rng.choice(PROCEDURE_CONVERSATIONS)
        if roll < 0.85:
            return rng.choice(dossiers)
        return rng.choice(OTHER_CONVERSATIONS)

    return pick


async def run_level(url: str, level: Level, pick, duration: float, warmup: float, seed: int) -> None:
    import aiohttp

    from bot.resilience.settings import APOLOGY_TEXT

    apology = APOLOGY_TEXT[:30]
    stop_at = time.monotonic() + warmup + duration
    measure_from = time.monotonic() + warmup
    timeout = aiohttp.ClientTimeout(total=60)

    async def user(number: int, session) -> None:
        rng = random.Random(seed * 1000 + number)
        while time.monotonic() < stop_at:
            sender = f"bench-{level.bot}-{level.users}-{number}-{uuid.uuid4().hex[:8]}"
            for text in pick(rng):
                if time.monotonic() >= stop_at:
                    return
                started = time.monotonic()
                problem = None
                try:
                    async with session.post(f"{url}/webhooks/rest/webhook", timeout=timeout,
                                            json={"sender": sender, "message": text}) as response:
                        body = await response.read()
                        if response.status != 200:
                            problem = f"HTTP {response.status}"
                        else:
                            messages = json.loads(body)
                            joined = " ".join(str(m.get("text", "")) for m in messages)
                            if not messages:
                                problem = f"no answer to {text!r}"
                            elif apology in joined:
                                problem = f"apology for {text!r}"
                except (asyncio.TimeoutError, aiohttp.ClientError) as error:
                    problem = type(error).__name__
                ended = time.monotonic()
                if started >= measure_from:
                    level.latencies.append(ended - started)
                    if problem:
                        level.errors += 1
                        if len(level.error_examples) < 5:
                            level.error_examples.append(problem)

    connector = aiohttp.TCPConnector(limit=level.users + 5)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.monotonic()
        await asyncio.gather(*(user(n, session) for n in range(level.users)))
        level.seconds = time.monotonic() - max(began, measure_from)


class MemorySampler(threading.Thread):
    def __init__(self, processes: Dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.processes = processes
        self.peak: Dict[str, float] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            for name, pid in self.processes.items():
                try:
                    self.peak[name] = max(self.peak.get(name, 0.0), rss_kib(pid) / 1024)
                except OSError:
                    pass
            time.sleep(0.25)

    def stop(self) -> Dict[str, float]:
        self.running = False
        self.join(timeout=2)
        return self.peak


# ------------------------------------------------------------------------------------------ main
def main() -> int:
    parser = argparse.ArgumentParser(description="load benchmark, ours vs the moodbot")
    parser.add_argument("--users", default="1,10,50")
    parser.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_SECONDS", 20)))
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--check", action="store_true", help=f"exit 1 unless p95 at {TARGET_USERS} users "
                        f"is at most {TARGET_RATIO}x the moodbot's with zero errors")
    parser.add_argument("--skip-moodbot", action="store_true")
    args = parser.parse_args()
    levels = [int(n) for n in args.users.split(",")]

    for name in ("postgres", "redis"):
        error = h._reachable(*{"postgres": (h.PG_ADMIN_URL, 5432), "redis": (h.REDIS_URL, 6379)}[name])
        if error:
            sys.exit(f"{name} unreachable ({error}): bench-load needs PostgreSQL and Redis")
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    databases = [h.create_database("bench_rasa"), h.create_database("bench_app"), h.create_database("bench_mood"),
                 h.create_database("bench_mood2")]
    servers: List[Server] = []
    # The same process settings for every server, as in deploy/Dockerfile.rasa.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
           "TF_ENABLE_ONEDNN_OPTS": "0", "MALLOC_ARENA_MAX": "2"}
    try:
        mood_model = None if args.skip_moodbot else ensure_moodbot()
        app_url, samples = prepare_app_database(databases[1], env)
        ours_model = h.model_copy(work)

        # Ours: action server + Rasa server, production endpoints (no event broker).
        action_port, rasa_port = free_port(), free_port()
        ours_env = {**env, **h.production_env(databases[0], prefix=prefix), "DATABASE_URL": app_url,
                    "REDIS_URL": h.REDIS_URL}
        endpoints = work / "endpoints.yml"
        endpoints.write_text(f"action_endpoint:\n  url: http://127.0.0.1:{action_port}/webhook\n"
                             + h.production_endpoints(broker=False), encoding="utf-8")
        (work / "credentials.yml").write_text("rest:\n", encoding="utf-8")
        actions = Server("actions", [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port",
                                     str(action_port)], ROOT, ours_env, work / "actions.log")
        servers.append(actions)
        ours = Server("rasa", [str(BIN / "rasa"), "run", "--port", str(rasa_port), "--model", ours_model,
                               "--endpoints", str(endpoints), "--credentials", str(work / "credentials.yml")],
                      ROOT, ours_env, work / "rasa.log")
        servers.append(ours)

        # Plain Rasa: the moodbot, Rasa's own SQL tracker store and Redis lock store.
        mood = mood2 = None
        mood_port = mood2_port = 0
        if mood_model:
            mood_port = free_port()
            pg, redis = h.pg_parts(), h.redis_parts()
            mood_endpoints = work / "mood-endpoints.yml"
            mood_endpoints.write_text(
                "tracker_store:\n  type: sql\n  dialect: postgresql\n"
                f"  url: {pg['host']}\n  port: {pg['port']}\n  db: {databases[2]}\n  username: {pg['user']}\n"
                + (f"  password: {pg['password']}\n" if pg["password"] else "")
                + f"lock_store:\n  type: redis\n  url: {redis['host']}\n  port: {redis['port']}\n"
                f"  db: {redis['db']}\n  key_prefix: {prefix}mood\n", encoding="utf-8")
            mood = Server("moodbot", [str(BIN / "rasa"), "run", "--port", str(mood_port), "--model", mood_model,
                                      "--endpoints", str(mood_endpoints)], MOODBOT_DIR, env, work / "moodbot.log")
            servers.append(mood)
            # The same moodbot on our stores.
            mood2_port = free_port()
            mood2_endpoints = work / "mood2-endpoints.yml"
            mood2_endpoints.write_text(h.production_endpoints(broker=False), encoding="utf-8")
            mood2_env = {**env, **h.production_env(databases[3], prefix=prefix + "m"), "PYTHONPATH": str(ROOT)}
            mood2 = Server("moodbot*", [str(BIN / "rasa"), "run", "--port", str(mood2_port), "--model", mood_model,
                                        "--endpoints", str(mood2_endpoints)], MOODBOT_DIR, mood2_env,
                           work / "moodbot2.log")
            servers.append(mood2)
            wait_http(f"http://127.0.0.1:{mood_port}/", timeout=300, process=mood.process)
            wait_http(f"http://127.0.0.1:{mood2_port}/", timeout=300, process=mood2.process)
        wait_http(f"http://127.0.0.1:{action_port}/health", timeout=300, process=actions.process)
        wait_http(f"http://127.0.0.1:{rasa_port}/", timeout=300, process=ours.process)
        print(f"servers up; logs in {work}", flush=True)

        pick_ours = ours_picker(dossier_conversations(samples))
        results: List[Level] = []
        for n, users in enumerate(levels):
            order = [("moodbot", mood, mood_port), ("ours", ours, rasa_port), ("moodbot*", mood2, mood2_port)]
            if n % 2:
                order.reverse()
            for bot, server, port in order:
                if server is None:
                    continue
                url = f"http://127.0.0.1:{port}"
                pick = pick_ours if bot == "ours" else (lambda rng: rng.choice(MOODBOT_CONVERSATIONS))
                pids = {"rasa": server.process.pid}
                if bot == "ours":
                    pids["actions"] = actions.process.pid
                level = Level(bot, users)
                sampler = MemorySampler(pids)
                sampler.start()
                asyncio.run(run_level(url, level, pick, args.duration, args.warmup, seed=users))
                level.peak_mib = sampler.stop()
                results.append(level)
                print(f"  {bot:<8} {users:>3} users: {len(level.latencies)} turns, p95 {level.pct(0.95):.0f} ms, "
                      f"errors {level.errors} {level.error_examples[:2]}", flush=True)
        return report(results, args.check)
    finally:
        for server in reversed(servers):
            server.stop()
        for name in databases:
            try:
                h.drop_database(name)
            except Exception:  # noqa: BLE001
                pass
        h.delete_redis_keys(prefix)


def report(results: List[Level], check: bool) -> int:
    print()
    print(f"{'bot':<9}{'users':>6}{'turns':>8}{'turns/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}  peak memory MiB")
    for level in results:
        memory = ", ".join(f"{name} {mib:.0f}" for name, mib in level.peak_mib.items())
        print(f"{level.bot:<9}{level.users:>6}{len(level.latencies):>8}{level.throughput:>9.1f}"
              f"{level.pct(0.5):>9.0f}{level.pct(0.95):>9.0f}{level.pct(0.99):>9.0f}{level.errors:>8}  {memory}")
    by = {(level.bot, level.users): level for level in results}
    verdict = 0
    print()
    for users in sorted({level.users for level in results}):
        ours, mood, mood2 = by.get(("ours", users)), by.get(("moodbot", users)), by.get(("moodbot*", users))
        if ours and mood:
            ratio = ours.pct(0.95) / mood.pct(0.95)
            line = (f"{users:>3} users: our p95 is {ratio:.2f} x plain Rasa's (moodbot)"
                    + (f", {ours.pct(0.95) / mood2.pct(0.95):.2f} x moodbot*'s" if mood2 else "")
                    + f"; throughput {ours.throughput / mood.throughput:.2f} x; our errors {ours.errors}")
            if users == TARGET_USERS:
                ok = ratio <= TARGET_RATIO and ours.errors == 0
                line += f"  [{'PASS' if ok else 'FAIL'}: at most {TARGET_RATIO} x with zero errors]"
                verdict = 0 if ok else 1
            print(line)
    return verdict if check else 0


if __name__ == "__main__":
    sys.exit(main())
