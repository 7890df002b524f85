"""Measure the race of Rasa's open-source RedisLockStore between replicas, against ours.

1. Lock level: two processes take the same conversation's lock at the same moment, round after round
   (tests/integration/lockrace.py); counts the rounds where both were inside.
2. Whole stack (``--stack``): two Rasa servers + two action servers on one PostgreSQL and Redis, with
   each lock store in turn; conversations whose messages reach both replicas at once; counts the
   conversations whose tracker lost, doubled or mixed up messages and answers.

Needs PostgreSQL, Redis, RabbitMQ on 127.0.0.1 (TEST_POSTGRES_URL, TEST_REDIS_URL, TEST_RABBITMQ_URL)
and a trained model in models/. Usage: python scripts/measure_lock_race.py [--rounds 100] [--stack]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration import harness as h  # noqa: E402
from tests.integration import replica_scenario as scenario  # noqa: E402
from tests.integration.lockrace import measure  # noqa: E402


def stack_run(lock_store: str, tracker_store: str, shared: int, citizens: int, catalogue_url: str) -> None:
    database = h.create_database("race")
    prefix = f"race{uuid.uuid4().hex[:8]}"
    work = Path(tempfile.mkdtemp(prefix="lockrace-"))
    env = h.production_env(database, prefix=prefix)
    env["DATABASE_URL"] = catalogue_url
    model = h.model_copy(work)
    pair = [h.Replica(model=model, env=env, endpoints_extra=h.production_endpoints(lock_store, False, tracker_store),
                      log_dir=work / f"replica{n}") for n in range(2)]
    for replica in pair:
        replica.log_dir.mkdir(parents=True, exist_ok=True)
    try:
        h.start_all(pair)
        urls = [replica.url for replica in pair]
        outcome = asyncio.run(scenario.run_scenario(urls, citizens=citizens, shared=shared))
        answers = len(outcome.problems)
        asyncio.run(scenario.check_trackers(urls, outcome, database))
        broken = {problem.split(":")[0].split(" ")[0] for problem in outcome.problems[answers:]}
        name = {"rasa": "RedisLockStore", "atomic": "AtomicRedisLockStore"}[lock_store] + " + " + {
            "rasa": "SQLTrackerStore", "resilient": "ResilientSQLTrackerStore"}[tracker_store]
        print(f"{name:<48} {len(outcome.senders)} conversations, {outcome.turns} messages: "
              f"{answers} wrong or missing answers, {len(broken)} conversations with a broken tracker; "
              f"{outcome.latency_line()}")
        kinds = {}
        for problem in outcome.problems:
            kind = classify(problem)
            kinds[kind] = kinds.get(kind, 0) + 1
        for kind, count in sorted(kinds.items()):
            print(f"    {count:>4}  {kind}")
    finally:
        for replica in pair:
            replica.stop()
        h.drop_database(database)


def classify(problem: str) -> str:
    if "': 0 " in problem or ": 0 '" in problem or "TimeoutError" in problem:
        return "message not answered within 60 s (client timeout)"
    if "Xin lỗi" in problem:
        return "apology (lock or store error caught by the turn guard)"
    if "tracker has" in problem:
        return "tracker: a message missing, doubled or out of order"
    if "followed by" in problem:
        return "tracker: a message followed by another message's answer"
    if "rows, tracker has" in problem:
        return "database rows differ from the tracker"
    if "got no answer" in problem or "after " in problem:
        return "tracker: turns interleaved (a message between another's message and answer)"
    if "twice" in problem:
        return "tracker: an event stored twice"
    if "different trackers" in problem:
        return "the two replicas read different trackers"
    return "wrong answer: " + problem[:80]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--stack", action="store_true", help="also run the two-replica stack test")
    parser.add_argument("--shared", type=int, default=30, help="conversations sent to both replicas at once")
    parser.add_argument("--citizens", type=int, default=0, help="multi-turn conversations alternating replicas")
    parser.add_argument("--catalogue", default="", help="DATABASE_URL of the action servers (default var/bot.db)")
    args = parser.parse_args()
    redis = h.redis_parts()
    print(f"lock level, {args.rounds} rounds of two replicas taking one conversation at once:")
    for kind in ("rasa", "atomic"):
        print("  " + measure(kind, redis, rounds=args.rounds).line(), flush=True)
    if args.stack:
        from bot.settings import default_database_url

        print("whole stack:")
        for lock, tracker in (("rasa", "rasa"), ("rasa", "resilient"), ("atomic", "resilient")):
            stack_run(lock, tracker, args.shared, args.citizens, args.catalogue or default_database_url())


if __name__ == "__main__":
    main()
