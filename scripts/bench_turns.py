"""Whole turns over REST (Rasa server + action server), one user: p50 / p95 latency and memory."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request

import numpy as np
from rasa.model import get_latest_model

from bot.stack import Stack, rss_kib

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
ROUNDS = 20


def say(url: str, sender: str, text: str) -> None:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(f"{url}/webhooks/rest/webhook", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def main() -> None:
    with Stack(model=get_latest_model("models")) as stack:
        for text in CONVERSATION:  # warm-up
            say(stack.url, "warm-up", text)
        times = []
        for round_ in range(ROUNDS):
            for text in CONVERSATION:
                start = time.perf_counter()
                say(stack.url, f"bench-{round_}", text)
                times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = float(np.percentile(times, 95))
        print(
            f"REST turn, single user, {len(times)} turns: p50 {statistics.median(times):.1f} ms, "
            f"p95 {p95:.1f} ms, max {times[-1]:.1f} ms"
        )
        print(
            f"resident memory: Rasa server {rss_kib(stack.rasa.pid) / 1024:.0f} MiB, "
            f"action server {rss_kib(stack.actions.pid) / 1024:.0f} MiB"
        )


if __name__ == "__main__":
    main()
