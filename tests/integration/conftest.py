"""Integration tests: real PostgreSQL, Redis and RabbitMQ, several Rasa processes (see harness)."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.integration)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "integration: needs the real PostgreSQL, Redis and RabbitMQ and several processes"
    )
