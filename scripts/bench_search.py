"""Procedure search latency over the full catalogue: p50 / p95 / max per query (ms)."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import numpy as np

from bot.evaluation import HELD_OUT_SET, load_examples, nlu_examples
from bot.services import open_services


def queries() -> list:
    texts = [example.text for example in load_examples(HELD_OUT_SET)]
    for path in sorted(Path("data/nlu").glob("*.yml")):
        texts += nlu_examples(path)
    return texts


async def main() -> None:
    services = await open_services()
    try:
        catalogue = services.catalogue
        texts = queries()
        for text in texts[:50]:  # warm-up
            catalogue.search(text, top=3)
        times = []
        for text in texts:
            start = time.perf_counter()
            catalogue.search(text, top=3)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = float(np.percentile(times, 95))
        print(
            f"procedure search over {len(catalogue)} procedures, {len(times)} queries: "
            f"p50 {statistics.median(times):.2f} ms, p95 {p95:.2f} ms, max {times[-1]:.2f} ms"
        )
    finally:
        await services.close()


if __name__ == "__main__":
    asyncio.run(main())
