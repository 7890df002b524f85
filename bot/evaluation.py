"""Measure understanding on the held-out set: intents (NLU model) and procedures (search)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set

import yaml
from sklearn.metrics import accuracy_score, f1_score

from bot.catalogue.service import CatalogueService, ProcedureNotFound
from bot.text import has_diacritics


HELD_OUT_SET = Path("tests/evaluation/heldout.yml")
# Written for tuning, each without sight of the held-out set.
DEVELOPMENT_SETS = tuple(Path(f"tests/evaluation/{name}.yml") for name in ("dev", "dev2", "dev3", "dev4"))


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    procedures: Sequence[str] = ()  # slugs or codes; any of them counts as right

    @property
    def plain(self) -> bool:
        """Typed without any diacritic."""
        return not has_diacritics(self.text)


def load_examples(path: Path) -> List[Example]:
    items = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    examples = []
    for item in items:
        procedure = item.get("procedure")
        refs = [] if procedure is None else ([procedure] if isinstance(procedure, str) else list(procedure))
        examples.append(Example(text=str(item["text"]), intent=item["intent"], procedures=tuple(refs)))
    return examples


def nlu_examples(path: Path) -> List[str]:
    """The example messages of a Rasa NLU training file."""
    texts: List[str] = []
    for block in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["nlu"]:
        texts += [line[2:] for line in block["examples"].splitlines() if line.startswith("- ")]
    return texts


def expected_codes(catalogue: CatalogueService, refs: Iterable[str]) -> Set[str]:
    """The official codes of an example's labels (slugs or codes; a code not in the catalogue stays)."""
    codes = set()
    for ref in refs:
        try:
            codes.add(catalogue.get(ref).code)
        except ProcedureNotFound:
            codes.add(ref)
    return codes


@dataclass
class Scores:
    count: int = 0
    intent_accuracy: float = 0.0
    intent_macro_f1: float = 0.0
    procedure_count: int = 0
    procedure_top1: float = 0.0
    procedure_top3: float = 0.0
    misses: List[str] = field(default_factory=list)


def score(
    examples: Sequence[Example],
    predicted_intents: Sequence[str],
    catalogue: CatalogueService,
) -> Scores:
    result = Scores(count=len(examples))
    if not examples:
        return result
    gold = [e.intent for e in examples]
    result.intent_accuracy = accuracy_score(gold, predicted_intents)
    result.intent_macro_f1 = f1_score(gold, predicted_intents, average="macro", zero_division=0)
    top1 = top3 = 0
    for example, predicted in zip(examples, predicted_intents):
        if predicted != example.intent:
            result.misses.append(f"intent {example.intent} -> {predicted}: {example.text}")
        if not example.procedures:
            continue
        expected = expected_codes(catalogue, example.procedures)
        hits = [hit.code for hit in catalogue.search(example.text, top=3)]
        result.procedure_count += 1
        if hits[:1] and hits[0] in expected:
            top1 += 1
        else:
            result.misses.append(f"procedure {sorted(expected)} -> {hits[:1]}: {example.text}")
        if expected & set(hits):
            top3 += 1
    if result.procedure_count:
        result.procedure_top1 = top1 / result.procedure_count
        result.procedure_top3 = top3 / result.procedure_count
    return result


def report(name: str, scores: Scores) -> str:
    return (
        f"{name:<16} n={scores.count:<4} intent accuracy {scores.intent_accuracy:.3f}  "
        f"macro-F1 {scores.intent_macro_f1:.3f}  | procedures n={scores.procedure_count:<4} "
        f"top-1 {scores.procedure_top1:.3f}  top-3 {scores.procedure_top3:.3f}"
    )
