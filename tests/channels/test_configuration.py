"""Channel configuration: credentials files, domain, rules and training data agree."""

import glob

import pytest
import yaml

from bot.settings import PROJECT_ROOT

SECRETS = ["ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_REFRESH_TOKEN",
           "MESSENGER_VERIFY_TOKEN", "MESSENGER_APP_SECRET", "MESSENGER_PAGE_ACCESS_TOKEN"]


def load(name):
    return yaml.safe_load((PROJECT_ROOT / name).read_text("utf-8"))


def test_default_credentials_need_no_secret():
    from rasa.core.run import create_http_input_channels

    text = (PROJECT_ROOT / "credentials.yml").read_text("utf-8")
    assert "${" not in text
    channels = create_http_input_channels(None, str(PROJECT_ROOT / "credentials.yml"))
    assert sorted(c.name() for c in channels) == ["rest", "socketio"]
    socketio = next(c for c in channels if c.name() == "socketio")
    assert type(socketio).__module__ == "bot.channels.socketio" and socketio.session_persistence


def test_channel_credentials_read_every_secret_from_the_environment(monkeypatch, tmp_path):
    from rasa.core.run import create_http_input_channels

    text = (PROJECT_ROOT / "credentials.channels.yml").read_text("utf-8")
    for name in SECRETS:
        assert f": ${{{name}}}\n" in text, name  # unquoted, so that Rasa expands it
    for name in SECRETS:
        monkeypatch.setenv(name, f"value-of-{name}")
    monkeypatch.setenv("ZALO_TOKEN_FILE", str(tmp_path / "tokens.json"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    channels = {c.name(): c for c in create_http_input_channels(None, str(PROJECT_ROOT / "credentials.channels.yml"))}
    assert sorted(channels) == ["messenger", "rest", "socketio", "zalo"]
    zalo, messenger = channels["zalo"], channels["messenger"]
    assert (zalo.app_id, zalo.oa_secret_key) == ("value-of-ZALO_APP_ID", "value-of-ZALO_OA_SECRET_KEY")
    assert zalo.client.app_secret == "value-of-ZALO_APP_SECRET"
    assert zalo.client.seed_refresh_token == "value-of-ZALO_REFRESH_TOKEN"
    assert zalo.client.api_base == "https://openapi.zalo.me"
    assert (messenger.fb_verify, messenger.fb_secret) == ("value-of-MESSENGER_VERIFY_TOKEN",
                                                          "value-of-MESSENGER_APP_SECRET")
    assert messenger.graph.url == "https://graph.facebook.com/v25.0/me/messages"
    assert not (tmp_path / "tokens.json").exists()  # nothing done at start-up


def test_a_missing_secret_stops_the_start(monkeypatch):
    from rasa.core.run import create_http_input_channels

    for name in SECRETS:
        monkeypatch.setenv(name, "x")
    monkeypatch.delenv("ZALO_OA_SECRET_KEY")
    with pytest.raises(Exception, match="ZALO_OA_SECRET_KEY"):
        create_http_input_channels(None, str(PROJECT_ROOT / "credentials.channels.yml"))


def test_channel_responses_are_vietnamese_and_answered_by_a_rule():
    domain = load("domain/channels.yml")
    rules = load("data/rules/channels.yml")["rules"]
    used = {step["action"] for rule in rules for step in rule["steps"] if "action" in step}
    intents = {step["intent"] for rule in rules for step in rule["steps"] if "intent" in step}
    assert set(domain["responses"]) <= used
    assert set(domain["intents"]) <= intents
    for variants in domain["responses"].values():
        for variant in variants:
            assert any(ch in variant["text"] for ch in "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựđ")


def test_the_payload_intent_has_training_examples():
    from bot.channels.zalo import UNSUPPORTED_MEDIA_PAYLOAD

    intent = UNSUPPORTED_MEDIA_PAYLOAD.lstrip("/")
    assert intent in load("domain/channels.yml")["intents"]
    examples = []
    for path in glob.glob(str(PROJECT_ROOT / "data" / "nlu" / "*.yml")):
        for item in yaml.safe_load(open(path, encoding="utf-8")).get("nlu", []):
            if item.get("intent") == intent:
                examples += [line for line in item["examples"].splitlines() if line.strip()]
    assert len(examples) >= 2


def test_the_rules_answer_the_channel_test_story(tmp_path):
    """tests/stories/test_channels.yml, replayed against a RulePolicy trained on every rule (no NLU
    model needed: the story gives the intent)."""
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.core.training_data.structures import StoryGraph

    domain = Domain.load(str(PROJECT_ROOT / "domain"))
    steps = []
    for path in sorted(glob.glob(str(PROJECT_ROOT / "data" / "rules" / "*.yml"))):
        steps += YAMLStoryReader(domain).read_from_file(path)
    trackers = TrainingDataGenerator(StoryGraph(steps), domain, augmentation_factor=0).generate()
    policy = RulePolicy.create(RulePolicy.get_default_config(), LocalModelStorage(tmp_path),
                               Resource("rules"), ExecutionContext(GraphSchema({}), "channels"))
    policy.train(trackers, domain)

    stories = YAMLStoryReader(domain).read_from_file(str(PROJECT_ROOT / "tests" / "stories" / "test_channels.yml"))
    assert stories
    for story in stories:
        tracker = DialogueStateTracker.from_events(story.block_name, [], slots=domain.slots)
        tracker.update(ActionExecuted("action_listen"), domain)
        for event in story.events:
            if isinstance(event, ActionExecuted):
                prediction = policy.predict_action_probabilities(tracker, domain)
                assert domain.action_names_or_texts[prediction.max_confidence_index] == event.action_name
            tracker.update(event, domain)
