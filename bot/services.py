"""The long-lived services the actions use, opened once per process in a start-up hook.

Nothing here does I/O at import time. The action server opens the services from
``rasa_sdk_plugins`` (Sanic start-up listener) and closes them at shut-down; tests and
CLI commands open their own with :func:`open_services`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Optional

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.catalogue.service import CatalogueService
from bot.db import create_engine
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    catalogue: CatalogueService
    dossiers: "object | None" = None  # bot.dossiers.service.DossierService

    async def close(self) -> None:
        if self.dossiers is not None and hasattr(self.dossiers, "close"):
            await self.dossiers.close()
        await self.engine.dispose()


async def open_services(settings: Optional[Settings] = None) -> Services:
    settings = settings or get_settings()
    engine = create_engine(settings.database_url)
    catalogue = CatalogueService(engine, refresh_seconds=settings.catalogue_refresh_seconds)
    await catalogue.load()
    services = Services(settings=settings, engine=engine, catalogue=catalogue)
    try:
        from bot.dossiers.service import build_dossier_service
    except ImportError:  # pragma: no cover - the dossier module is optional
        build_dossier_service = None
    if build_dossier_service is not None:
        services.dossiers = await build_dossier_service(engine, settings)
    return services


_current: Optional[Services] = None
_lock = asyncio.Lock()


async def get_services() -> Services:
    """The process-wide services, opened on first use if no start-up hook opened them."""
    global _current
    if _current is None:
        async with _lock:
            if _current is None:
                _current = await open_services()
    return _current


def set_services(services: Optional[Services]) -> None:
    """Install services (start-up hook, tests)."""
    global _current
    _current = services


async def close_services() -> None:
    global _current
    if _current is not None:
        await _current.close()
        _current = None
