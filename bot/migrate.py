"""Run Alembic migrations programmatically (used by the CLI and the tests)."""

from __future__ import annotations

import asyncio
import concurrent.futures

from alembic import command
from alembic.config import Config

from bot.settings import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def _run(function, *args) -> None:
    """Alembic's async env runs its own event loop: use a worker thread if one is running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        function(*args)
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(function, *args).result()


def upgrade(database_url: str, revision: str = "head") -> None:
    _run(command.upgrade, alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    _run(command.downgrade, alembic_config(database_url), revision)
