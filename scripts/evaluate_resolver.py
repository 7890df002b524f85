"""How the resolver's thresholds play out on the development sets (never on the held-out set).

For every development question with a procedure label it prints what the assistant would do:
answer the right procedure, answer a wrong one, offer buttons (with or without the right one), or
say it is a matter for the courts; once with no procedure in context, once with an unrelated one
in context. Then the follow-ups about one aspect that must stay on the procedure in context, the
out-of-scope messages (training examples and development sets) that must not be overruled, and
how many procedure questions would still be answered if the NLU read them as out of scope.

Usage: python scripts/evaluate_resolver.py [NAME=VALUE ...]
NAME is a threshold of bot.catalogue.resolver (STRONG_SCORE, SWITCH_SCORE, ...) or a weight of
the search index (entry_coverage_weight, curated_bonus, ...), to compare settings before changing them.
"""

from __future__ import annotations

import asyncio
import collections
import sys
from pathlib import Path
from typing import Counter, List, Set

from bot.catalogue import resolver
from bot.catalogue.service import CatalogueService
from bot.evaluation import DEVELOPMENT_SETS, Example, expected_codes, load_examples, nlu_examples
from bot.services import open_services

CONTEXT = "1.001456"  # passport: the unrelated procedure in context (marriage when passport is asked)
CONTEXT_ELSE = "1.000894"
FOLLOW_UP_CONTEXT = "1.004873"  # marital status certificate
# Questions about one aspect of the procedure in context; several brush other procedures' names.
FOLLOW_UPS = [
    "có cần công chứng không", "có cần giấy khai sinh không", "cần mang sổ hộ khẩu không",
    "bản sao giấy khai sinh có được không", "photo công chứng mấy bản", "có cần giấy ủy quyền không",
    "nhờ người khác nộp hộ được không", "mẫu tờ khai ở đâu", "điền tờ khai thế nào", "bao giờ có kết quả",
    "khi nào thì lấy được", "mấy giờ làm việc", "vậy mất bao lâu?", "mất mấy ngày", "mat may ngay moi co",
    "nộp ở đâu", "lam online dc ko", "le phi bao nhieu", "co mat phi ko", "can giay to gi",
    "cac buoc lam the nao", "thanh toán online được không", "có phải chụp ảnh không",
    "nộp bản sao hay bản chính", "mất phí bao nhiêu vậy ad", "tờ khai tải ở đâu",
    "có cần người làm chứng không", "cần mấy ảnh 4x6", "làm ở xã hay ở tỉnh", "thứ 7 có làm không",
]


def _outcome(result: resolver.Resolution, expected: Set[str], context: str = "") -> str:
    if result.state in (resolver.FOUND, resolver.CATALOGUE_ONLY):
        if result.procedure.code in expected:
            return "right"
        return "stayed on context" if result.procedure.code == context else "wrong"
    if result.state == resolver.AMBIGUOUS:
        return "buttons, right one among them" if {h.code for h in result.choices} & expected else "buttons, wrong"
    return result.state


def _out_of_scope_texts() -> List[str]:
    texts = nlu_examples(Path("data/nlu/ask_out_of_scope.yml"))
    return texts + [e.text for path in DEVELOPMENT_SETS for e in load_examples(path) if e.intent == "ask_out_of_scope"]


def _set(catalogue: CatalogueService, assignments: List[str]) -> None:
    for assignment in assignments:
        name, value = assignment.split("=", 1)
        target = resolver if hasattr(resolver, name) else catalogue._snap.index  # noqa: SLF001
        if not hasattr(target, name):
            raise SystemExit(f"unknown setting: {name}")
        setattr(target, name, float(value))


def report(catalogue: CatalogueService) -> None:
    questions: List[Example] = [e for path in DEVELOPMENT_SETS for e in load_examples(path) if e.procedures]
    alone: Counter[str] = collections.Counter()
    in_context: Counter[str] = collections.Counter()
    overruled: Counter[str] = collections.Counter()
    for example in questions:
        expected = expected_codes(catalogue, example.procedures)
        follow_up = example.intent != "find_procedure"
        alone[_outcome(resolver.resolve(catalogue, example.text, follow_up=follow_up), expected)] += 1
        context = CONTEXT if CONTEXT not in expected else CONTEXT_ELSE
        result = resolver.resolve(catalogue, example.text, context_code=context, follow_up=follow_up)
        in_context[_outcome(result, expected, context)] += 1
        result = resolver.overrule_out_of_scope(catalogue, example.text)
        if result.state != resolver.OUT_OF_SCOPE:
            overruled["right" if result.procedure.code in expected else "wrong"] += 1
    print(f"{len(questions)} development questions with a procedure")
    print("  no context:       ", dict(sorted(alone.items())))
    print("  another in context:", dict(sorted(in_context.items())))
    print("  if read as out of scope, still answered:", dict(sorted(overruled.items())))
    leaving = [
        text
        for text in FOLLOW_UPS
        if (result := resolver.resolve(catalogue, text, context_code=FOLLOW_UP_CONTEXT, follow_up=True)).procedure
        is None
        or result.procedure.code != FOLLOW_UP_CONTEXT
    ]
    print(f"follow-ups leaving the context: {len(leaving)} of {len(FOLLOW_UPS)} {leaving}")
    chit_chat = _out_of_scope_texts()
    answered = [t for t in chit_chat if resolver.overrule_out_of_scope(catalogue, t).state != resolver.OUT_OF_SCOPE]
    print(f"out-of-scope messages answered as procedures: {len(answered)} of {len(chit_chat)} {answered}")


async def main() -> int:
    services = await open_services()
    try:
        _set(services.catalogue, sys.argv[1:])
        report(services.catalogue)
    finally:
        await services.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
