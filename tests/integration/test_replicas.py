"""Two replicas for real: two Rasa servers and two action servers on one PostgreSQL, Redis and
RabbitMQ (endpoints.production.yml), many conversations at once, some of them on both replicas at
the same moment. See replica_scenario for what is checked."""

from __future__ import annotations

import uuid

import pytest

from tests.integration import harness as h
from tests.integration import replica_scenario as scenario

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, catalogue_db):
    h.need_services("postgres", "redis", "rabbitmq")
    database = h.create_database("replicas")
    prefix = f"replicas{uuid.uuid4().hex[:8]}"
    env = h.production_env(database, prefix=prefix)
    env["DATABASE_URL"] = catalogue_db
    model_dir = tmp_path_factory.mktemp("model")
    model = h.model_copy(model_dir)
    pair = [
        h.Replica(model=model, env=env, endpoints_extra=h.production_endpoints(),
                  log_dir=tmp_path_factory.mktemp(f"replica{n}"))
        for n in range(2)
    ]
    try:
        h.start_all(pair)
        yield pair, database, prefix
    finally:
        for replica in pair:
            replica.stop()
        h.delete_rabbit(prefix)
        h.drop_database(database)


def test_many_conversations_on_two_replicas(replicas):
    pair, database, prefix = replicas
    urls = [replica.url for replica in pair]
    outcome = h.run(scenario.run_scenario(urls, citizens=30, shared=10))
    assert not outcome.problems, "\n".join(outcome.problems[:20])
    counts = h.run(scenario.check_trackers(urls, outcome, database))
    published = h.run(scenario.check_broker(prefix, counts, outcome))
    assert not outcome.problems, "\n".join(outcome.problems[:20])
    assert outcome.turns == sum(len(v) for v in outcome.senders.values())
    assert published == sum(counts.values()) > 0
