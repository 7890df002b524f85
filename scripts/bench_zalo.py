"""Zalo webhook acknowledgement time while the assistant is busy with other conversations.

Starts the assistant (action server + Rasa with every channel, credentials.channels.yml) and a local
fake of the Zalo and Messenger APIs; nothing leaves the machine. While several REST users hold
conversations without pause, signed Zalo deliveries arrive at a steady rate (each one also a new
conversation turn handled in the background), alternately on the Zalo channel's own listener (the
address to give Zalo) and on Rasa's port. Prints the acknowledgement time (HTTP round trip of the
webhook call) p50/p95/max for each, and how busy the assistant was meanwhile. Bounded: a fixed number
of deliveries, at most a couple of minutes. Exit status 1 if the listener's p95 is 200 ms or more.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
from rasa.model import get_latest_model

from bot.channels import fakes
from bot.settings import PROJECT_ROOT
from bot.stack import Stack, free_port, wait_http

CONVERSATION = [
    "xin chào",
    "con toi moi sinh can lam giay to gi",
    "vậy cần mang theo giấy tờ gì?",
    "mất bao lâu?",
    "nộp ở đâu?",
    "Đăng ký kết hôn có mất phí không",
    "lam ho chieu online dc ko",
    "các bước đổi bằng lái xe",
    "giấy phép",
    "cảm ơn nhé",
]
TARGET_P95_MS = 200.0


def percentile(values, fraction):
    return float(np.percentile(values, fraction * 100))


def rest_turn(url: str, sender: str, text: str) -> float:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(f"{url}/webhooks/rest/webhook", data=body, method="POST")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=200, help="Zalo webhook calls to time")
    parser.add_argument("--rate", type=float, default=10.0, help="Zalo deliveries per second")
    parser.add_argument("--busy-users", type=int, default=4, help="REST users talking meanwhile")
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="bench-zalo-"))
    with fakes.FakePlatforms(zalo_refresh_token="zr-0") as platforms:
        env = {
            "ZALO_APP_ID": fakes.ZALO_APP_ID, "ZALO_APP_SECRET": fakes.ZALO_APP_SECRET,
            "ZALO_OA_SECRET_KEY": fakes.ZALO_OA_SECRET_KEY, "ZALO_REFRESH_TOKEN": "zr-0",
            "MESSENGER_VERIFY_TOKEN": fakes.MESSENGER_VERIFY_TOKEN,
            "MESSENGER_APP_SECRET": fakes.MESSENGER_APP_SECRET,
            "MESSENGER_PAGE_ACCESS_TOKEN": fakes.MESSENGER_PAGE_TOKEN,
            "ZALO_API_BASE": platforms.url, "ZALO_OAUTH_BASE": platforms.url, "GRAPH_API_BASE": platforms.url,
            "ZALO_TOKEN_FILE": str(state / "zalo_tokens.json"), "REDIS_URL": "",
            "ZALO_WEBHOOK_PORT": str(free_port()), "ZALO_WEBHOOK_HOST": "127.0.0.1",
        }
        credentials = (PROJECT_ROOT / "credentials.channels.yml").read_text("utf-8")
        with Stack(model=get_latest_model("models"), env=env, credentials=credentials, log_dir=state) as stack:
            webhooks = {
                "Zalo channel listener": f"http://127.0.0.1:{env['ZALO_WEBHOOK_PORT']}/webhooks/zalo/webhook",
                "Rasa's port": f"{stack.url}/webhooks/zalo/webhook",
            }
            wait_http(webhooks["Zalo channel listener"].rsplit("/", 1)[0] + "/", timeout=30)
            for text in CONVERSATION:  # warm-up, both paths
                rest_turn(stack.url, "warm-up", text)
                for url in webhooks.values():
                    fakes.post(url, *fakes.zalo_delivery("warm-up", text))
            platforms.wait_for("zalo_message", 2 * len(CONVERSATION), timeout=60)

            stop = threading.Event()
            busy_turns: list = []

            def busy_user(index: int) -> None:
                turn = 0
                while not stop.is_set():
                    text = CONVERSATION[turn % len(CONVERSATION)]
                    busy_turns.append(rest_turn(stack.url, f"busy-{index}-{turn // len(CONVERSATION)}", text))
                    turn += 1

            workers = [threading.Thread(target=busy_user, args=(i,), daemon=True) for i in range(args.busy_users)]
            for worker in workers:
                worker.start()
            time.sleep(2.0)  # let the load settle

            acks = {name: [] for name in webhooks}
            statuses = {}
            started = time.perf_counter()
            deadline = started + 120
            for number in range(args.deliveries):
                due = started + number / args.rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                if time.perf_counter() > deadline:
                    break
                user = f"zalo-bench-{number % 25}"
                text = CONVERSATION[(number // 25) % len(CONVERSATION)]
                name = list(webhooks)[number % 2]
                status, _, seconds = fakes.post(webhooks[name],
                                                *fakes.zalo_delivery(user, text, msg_id=f"bench-{number}"))
                acks[name].append(seconds * 1000)
                statuses[status] = statuses.get(status, 0) + 1
            window = time.perf_counter() - started
            stop.set()
            for worker in workers:
                worker.join(timeout=60)
            delivered = sum(len(values) for values in acks.values())
            try:
                replies = len(platforms.wait_for("zalo_message", 2 * len(CONVERSATION) + delivered, timeout=90))
            except AssertionError:
                replies = len(platforms.of("zalo_message"))
            replies -= 2 * len(CONVERSATION)

    busy_in_window = [t * 1000 for t in busy_turns]
    print(f"Zalo webhook acknowledgement, {delivered} signed deliveries at {args.rate:.0f}/s "
          f"(HTTP {dict(sorted(statuses.items()))}), target p95 < {TARGET_P95_MS:.0f} ms:")
    for name, values in acks.items():
        print(f"  {name:<22} {len(values)} calls: p50 {statistics.median(values):.1f} ms, "
              f"p95 {percentile(values, 0.95):.1f} ms, max {max(values):.1f} ms")
    print(f"meanwhile {args.busy_users} REST users: {len(busy_turns)} turns in {window:.1f} s "
          f"({len(busy_turns) / window:.1f} turns/s), turn p50 {statistics.median(busy_in_window):.0f} ms, "
          f"p95 {percentile(busy_in_window, 0.95):.0f} ms; Zalo replies sent: {replies} for {delivered} deliveries")
    return 0 if percentile(acks["Zalo channel listener"], 0.95) < TARGET_P95_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
