"""Print intent accuracy / macro-F1 and procedure top-1 / top-3 on the held-out set.

Usage: python scripts/evaluate.py [--model models/] [--set tests/evaluation/heldout.yml] [--misses]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="models")
    parser.add_argument(
        "--set",
        action="append",
        help="YAML sets to score (default: the held-out set, then the four development sets used for tuning)",
    )
    parser.add_argument("--misses", action="store_true", help="print the misclassified messages")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    import structlog  # Rasa's structured parse logs: only warnings and up here

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    from rasa.core.agent import Agent
    from rasa.model import get_latest_model

    from bot.evaluation import DEVELOPMENT_SETS, HELD_OUT_SET, load_examples, report, score
    from bot.services import open_services

    model = get_latest_model(args.model)
    if model is None:
        print("no trained model: run `make train`", file=sys.stderr)
        return 1
    agent = Agent.load(model)
    services = await open_services()
    try:
        for path in args.set or (HELD_OUT_SET, *DEVELOPMENT_SETS):
            examples = load_examples(Path(path))
            predicted = []
            for example in examples:
                parsed = await agent.parse_message(example.text)
                predicted.append((parsed.get("intent") or {}).get("name") or "")
            everything = score(examples, predicted, services.catalogue)
            plain_idx = [i for i, e in enumerate(examples) if e.plain]
            plain = score([examples[i] for i in plain_idx], [predicted[i] for i in plain_idx], services.catalogue)
            print(f"\n{path} (model {Path(model).name})")
            print(report("all", everything))
            print(report("no diacritics", plain))
            if args.misses:
                print("\n".join(everything.misses))
    finally:
        await services.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
