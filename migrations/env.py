"""Alembic environment: runs migrations on the async engine of DATABASE_URL."""

import asyncio

from alembic import context

from bot.db import create_engine, metadata
from bot.settings import get_settings
import bot.catalogue.tables  # noqa: F401  (registers tables on metadata)
import bot.dossiers.tables  # noqa: F401

config = context.config
target_metadata = metadata


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_url())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_online())
