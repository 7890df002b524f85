"""Many conversations over two replicas at once, and the checks that nothing was mixed up or lost.

- *citizens*: multi-turn procedure conversations whose follow-ups need the context ("vậy cần mang
  theo giấy tờ gì?"); each turn goes to the other replica than the one before;
- *shared*: conversations whose messages are all sent at the same moment, half to each replica
  (a double tap, a retried webhook): context-free messages, so each has one known answer.

Checks: every response holds exactly its own answer; every tracker (read from both replicas) holds
exactly the messages sent, each followed by its own answer, in order, once; the database has as many
rows as the tracker has events; RabbitMQ got every event once.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import aiohttp

from tests.integration import harness as h

CITIZEN_SCRIPTS: List[List[Tuple[str, str]]] = [
    [
        ("Đăng ký kết hôn có mất phí không", "Lệ phí thủ tục Đăng ký kết hôn (mã 1.000894)"),
        ("vậy cần mang theo giấy tờ gì?", "Giấy tờ cần chuẩn bị cho thủ tục Đăng ký kết hôn"),
        ("mat bao lau", "Thời hạn giải quyết thủ tục Đăng ký kết hôn"),
        ("nộp ở đâu?", "Nơi giải quyết thủ tục Đăng ký kết hôn"),
        ("cảm ơn nhé", "Không có gì ạ"),
    ],
    [
        ("lam ho chieu online dc ko", "1.001456"),
        ("cần giấy tờ gì", "Giấy tờ cần chuẩn bị cho thủ tục Cấp hộ chiếu"),
        ("lệ phí bao nhiêu", "Lệ phí thủ tục Cấp hộ chiếu"),
        ("tạm biệt", "Chào bạn, chúc bạn"),
    ],
    [
        ("đổi bằng lái xe cần gì", "Giấy tờ cần chuẩn bị cho thủ tục Đổi giấy phép lái xe (mã 3.000347)"),
        ("làm online được không", "Làm trực tuyến thủ tục Đổi giấy phép lái xe"),
        ("phí bao nhiêu", "Lệ phí thủ tục Đổi giấy phép lái xe"),
    ],
]

# Context-free messages and the start of their one answer.
SHARED_MESSAGES: Dict[str, str] = {
    "xin chào": "Xin chào! Mình là trợ lý tự động",
    "cảm ơn nhé": "Không có gì ạ",
    "tạm biệt": "Chào bạn, chúc bạn",
    "bạn là người hay máy": "Mình là trợ lý tự động (chatbot)",
    "trợ giúp": "Mình có thể giúp bạn",
    "gặp cán bộ": "Bạn có thể liên hệ cán bộ hỗ trợ",  # runs a custom action too
}


@dataclass
class Outcome:
    problems: List[str] = field(default_factory=list)
    turns: int = 0
    senders: Dict[str, List[str]] = field(default_factory=dict)  # sender -> texts, in send order
    ordered: Dict[str, bool] = field(default_factory=dict)  # whether the send order is the order
    answers: Dict[Tuple[str, str], List[str]] = field(default_factory=dict)
    latencies: List[float] = field(default_factory=list)

    def latency_line(self) -> str:
        times = sorted(self.latencies) or [0.0]
        pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]  # noqa: E731
        return f"latency p50 {pick(0.5) * 1000:.0f} ms, p95 {pick(0.95) * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"


async def _say(session, url, sender, text):
    """h.say, with a timeout or connection error as status 0 (a problem, not a crash)."""
    started = time.perf_counter()
    try:
        return await h.say(session, url, sender, text, timeout=60)
    except (asyncio.TimeoutError, aiohttp.ClientError) as error:
        return 0, time.perf_counter() - started, f"{type(error).__name__}"


async def _citizen(session, urls, sender: str, script, offset: int, outcome: Outcome) -> None:
    outcome.senders[sender], outcome.ordered[sender] = [], True
    await asyncio.sleep(random.random() * 0.5)
    for number, (text, expected) in enumerate(script):
        url = urls[(offset + number) % len(urls)]
        outcome.senders[sender].append(text)
        status, elapsed, body = await _say(session, url, sender, text)
        outcome.turns += 1
        outcome.latencies.append(elapsed)
        answer = "\n".join(h.texts(body))
        if status != 200 or expected not in answer:
            outcome.problems.append(f"{sender} turn {number} {text!r} on {url}: {status} {answer[:120]!r}")


async def _shared(session, urls, sender: str, outcome: Outcome) -> None:
    texts = list(SHARED_MESSAGES)
    random.shuffle(texts)
    outcome.senders[sender], outcome.ordered[sender] = list(texts), False

    async def one(number: int, text: str):
        status, elapsed, body = await _say(session, urls[number % len(urls)], sender, text)
        outcome.turns += 1
        outcome.latencies.append(elapsed)
        answers = h.texts(body)
        outcome.answers[(sender, text)] = answers
        if status != 200 or len(answers) != 1 or not answers[0].startswith(SHARED_MESSAGES[text]):
            outcome.problems.append(f"{sender} {text!r}: {status} {answers!r}"[:300])

    await asyncio.gather(*(one(n, t) for n, t in enumerate(texts)))


async def run_scenario(urls: List[str], citizens: int = 30, shared: int = 10, tag: str = "",
                       wave: int = 10) -> Outcome:
    """All citizens at once, and the shared conversations ``wave`` at a time (each wave's messages
    all at the same moment), alongside."""
    tag = tag or uuid.uuid4().hex[:6]
    outcome = Outcome()
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def shared_waves():
            for start in range(0, shared, wave):
                await asyncio.gather(*(_shared(session, urls, f"shared-{tag}-{n}", outcome)
                                       for n in range(start, min(shared, start + wave))))

        jobs = [
            _citizen(session, urls, f"citizen-{tag}-{n}", CITIZEN_SCRIPTS[n % len(CITIZEN_SCRIPTS)], n, outcome)
            for n in range(citizens)
        ]
        await asyncio.gather(shared_waves(), *jobs)
    return outcome


def _turns(tracker_json) -> List[Tuple[str, List[str]]]:
    """(user text, bot texts until the next user message), in tracker order."""
    turns: List[Tuple[str, List[str]]] = []
    for event in tracker_json["events"]:
        if event["event"] == "user":
            turns.append((event.get("text"), []))
        elif event["event"] == "bot" and turns:
            turns[-1][1].append(event.get("text") or "")
    return turns


async def check_trackers(urls: List[str], outcome: Outcome, database: str) -> Dict[str, int]:
    """Compare every conversation's tracker (from each replica) and rows with what was sent."""
    counts: Dict[str, int] = {}
    async with aiohttp.ClientSession() as session:
        for sender, sent in outcome.senders.items():
            trackers = [await h.tracker(session, url, sender) for url in urls]
            first = trackers[0]
            for other in trackers[1:]:
                if other["events"] != first["events"]:
                    outcome.problems.append(f"{sender}: the replicas read different trackers")
            try:
                h.assert_well_formed(first)
            except AssertionError as error:
                outcome.problems.append(f"{sender}: {error}")
            turns = _turns(first)
            got = [text for text, _ in turns]
            if outcome.ordered[sender]:
                if got != sent:
                    outcome.problems.append(f"{sender}: tracker has {got}, sent {sent}")
            elif Counter(got) != Counter(sent):
                outcome.problems.append(f"{sender}: tracker has {sorted(got)}, sent {sorted(sent)}")
            if not outcome.ordered[sender]:
                for text, bots in turns:
                    expected = SHARED_MESSAGES.get(text, "\0")
                    if len(bots) != 1 or not bots[0].startswith(expected):
                        outcome.problems.append(f"{sender}: {text!r} followed by {bots!r}"[:300])
            rows = h.pg_query(database, "select count(*) from events where sender_id = %s", sender)[0][0]
            if rows != len(first["events"]):
                outcome.problems.append(f"{sender}: {rows} rows, tracker has {len(first['events'])} events")
            counts[sender] = rows
    return counts


async def check_broker(prefix: str, counts: Dict[str, int], outcome: Outcome) -> int:
    """Every stored event was published once (same number per conversation)."""
    expected = sum(counts.values())
    events = await h.consume_events(prefix, expected, timeout=30)
    published = Counter(event.get("sender_id") for event in events)
    for sender, count in counts.items():
        if published.get(sender, 0) != count:
            outcome.problems.append(f"{sender}: {published.get(sender, 0)} events published, {count} stored")
    extra = await h.consume_events(prefix, 1, timeout=1)
    if extra:
        outcome.problems.append(f"{len(extra)}+ events published more than stored")
    return len(events)
