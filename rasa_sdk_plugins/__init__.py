"""Start-up and shut-down hooks of the action server (rasa-sdk >= 3.6 plugin package).

The database engine and the catalogue index open when the server starts and close when it
stops, never at import time.
"""

import logging

import pluggy

logger = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa_sdk")


@hookimpl
def attach_sanic_app_extensions(app) -> None:
    from bot.services import close_services, get_services

    @app.listener("before_server_start")
    async def _open(_app, _loop):
        services = await get_services()
        logger.info("services open: %d procedures", len(services.catalogue))

    @app.listener("after_server_stop")
    async def _close(_app, _loop):
        await close_services()


def init_hooks(manager: pluggy.PluginManager) -> None:
    import sys

    manager.register(sys.modules[__name__])
