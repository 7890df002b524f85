"""The conversation design: domain, rules and the test stories agree.

The project's only policy is the RulePolicy, so the test stories are replayed here against a
RulePolicy trained on every rule in data/rules (ours and the others': a conflict fails training).
This needs no NLU model: the intents and entities come from the stories.
"""

import glob
import os
from pathlib import Path

import pytest
import yaml

from bot.settings import PROJECT_ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DOMAIN_FILE = PROJECT_ROOT / "domain" / "dossiers.yml"
RULES_FILE = PROJECT_ROOT / "data" / "rules" / "dossiers.yml"
STORIES_FILE = PROJECT_ROOT / "tests" / "stories" / "test_dossiers.yml"
OUTCOMES = ["received", "processing", "supplement_requested", "completed", "returned", "rejected",
            "cancelled", "not_found", "locked", "invalid_code", "invalid_digits", "unavailable"]


def load(path: Path):
    return yaml.safe_load(path.read_text("utf-8"))


def test_domain_file_shape():
    domain = load(DOMAIN_FILE)
    assert domain["version"] == "3.1"
    assert set(domain["actions"]) == {"validate_dossier_status_form", "action_lookup_dossier"}
    for name, slot in domain["slots"].items():
        assert "influence_conversation" in slot, name
        assert slot["influence_conversation"] is (name == "dossier_state"), name
    assert domain["slots"]["dossier_state"]["values"] == OUTCOMES
    assert domain["forms"]["dossier_status_form"]["required_slots"] == [
        "dossier_code", "verification_digits"]


def test_outcomes_match_the_service():
    from bot.dossiers.service import OUTCOMES as SERVICE_OUTCOMES

    assert sorted(SERVICE_OUTCOMES) == sorted(OUTCOMES)


def test_every_response_is_vietnamese_and_used_in_a_rule():
    responses = load(DOMAIN_FILE)["responses"]
    used = set()
    for rule in load(RULES_FILE)["rules"]:
        used |= {step["action"] for step in rule["steps"] if "action" in step}
    assert set(responses) <= used, set(responses) - used
    for name, variants in responses.items():
        for variant in variants:
            text = variant["text"]
            assert any(ch in text for ch in "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ"), name


def test_every_outcome_has_a_rule():
    states = set()
    for rule in load(RULES_FILE)["rules"]:
        for step in rule["steps"]:
            for item in step.get("slot_was_set", []):
                if isinstance(item, dict) and "dossier_state" in item:
                    states.add(item["dossier_state"])
    assert states == set(OUTCOMES)


def test_response_placeholders_are_slots():
    import re

    domain = load(DOMAIN_FILE)
    core = load(PROJECT_ROOT / "domain" / "core.yml") if (PROJECT_ROOT / "domain" / "core.yml").exists() else {}
    slots = set(domain["slots"]) | set((core or {}).get("slots", {}))
    for name, variants in domain["responses"].items():
        for variant in variants:
            for placeholder in re.findall(r"{([^{}]+)}", variant["text"]):
                assert placeholder in slots, (name, placeholder)


@pytest.fixture(scope="module")
def rule_policy():
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.core.training_data.structures import StoryGraph

    domain = Domain.load(str(PROJECT_ROOT / "domain"))
    steps = []
    for path in sorted(glob.glob(str(PROJECT_ROOT / "data" / "rules" / "*.yml"))):
        steps += YAMLStoryReader(domain).read_from_file(path)
    trackers = TrainingDataGenerator(StoryGraph(steps), domain, augmentation_factor=0).generate()
    import tempfile

    storage = LocalModelStorage(Path(tempfile.mkdtemp(prefix="rules-")))
    policy = RulePolicy.create(RulePolicy.get_default_config(), storage, Resource("rules"),
                               ExecutionContext(GraphSchema({}), "dossier-tests"))
    policy.train(trackers, domain)  # raises on contradicting rules
    return policy, domain


def replay(policy, domain, story):
    """The first wrong prediction of a story, or None."""
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker.from_events(story.block_name, [], slots=domain.slots)
    tracker.update(ActionExecuted("action_listen"), domain)

    def predicted():
        prediction = policy.predict_action_probabilities(tracker, domain)
        return domain.action_names_or_texts[prediction.max_confidence_index]

    for index, event in enumerate(story.events):
        if isinstance(event, UserUttered) and tracker.latest_action_name != "action_listen":
            if predicted() != "action_listen":
                return index, "action_listen", predicted()
            tracker.update(ActionExecuted("action_listen"), domain)
        if isinstance(event, ActionExecuted) and predicted() != event.action_name:
            return index, event.action_name, predicted()
        tracker.update(event, domain)
    if predicted() != "action_listen":
        return "end", "action_listen", predicted()
    return None


def read_stories(domain, path):
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    return YAMLStoryReader(domain).read_from_file(str(path))


def test_the_rules_play_every_test_story(rule_policy):
    policy, domain = rule_policy
    stories = read_stories(domain, STORIES_FILE)
    assert len(stories) >= 10
    failures = {s.block_name: replay(policy, domain, s) for s in stories}
    assert {name: f for name, f in failures.items() if f} == {}


def test_the_replay_catches_a_wrong_answer(rule_policy, tmp_path):
    policy, domain = rule_policy
    wrong = STORIES_FILE.read_text("utf-8").replace(
        "utter_dossier_processing", "utter_dossier_returned", 1)
    path = tmp_path / "wrong.yml"
    path.write_text(wrong, "utf-8")
    results = [replay(policy, domain, s) for s in read_stories(domain, path)]
    assert results[0] is not None and results[0][1] == "utter_dossier_returned"
