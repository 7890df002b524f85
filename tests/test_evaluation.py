"""The evaluation sets are well-formed and labelled with procedures and intents that exist."""

from pathlib import Path

import pytest
import yaml

from bot.catalogue.importer import DEFAULT_CURATED, DEFAULT_NATIONAL
from bot.catalogue.records import load_curated, read_national
from bot.evaluation import load_examples

SETS = sorted(Path("tests/evaluation").glob("*.yml"))
DOMAIN_INTENTS = {
    intent
    for path in Path("domain").glob("*.yml")
    for intent in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents", [])
}


@pytest.fixture(scope="module")
def known_procedures():
    return {r.slug for r in load_curated(DEFAULT_CURATED)} | {r["code"] for r in read_national(DEFAULT_NATIONAL)}


@pytest.mark.parametrize("path", SETS, ids=[p.name for p in SETS])
def test_labels_exist(path, known_procedures):
    examples = load_examples(path)
    assert len(examples) >= 200
    assert {e.intent for e in examples} <= DOMAIN_INTENTS
    assert all(set(e.procedures) <= known_procedures for e in examples)


def test_the_sets_share_no_message():
    texts = [e.text for path in SETS for e in load_examples(path)]
    assert len(texts) == len(set(texts))
