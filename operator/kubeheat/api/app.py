"""The aiohttp application serving heat-api v1 from a backend, and :func:`serve` to start it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubeheat.api.faults import BACKEND, MAX_JSON_BODY_SIZE, middleware
from kubeheat.api.routes import add_routes


def build_app(backend: Any) -> web.Application:
    """The application serving heat-api v1 from ``backend`` (a
    :class:`~kubeheat.api.backend.StackBackend`); closing the app closes the backend."""
    app = web.Application(client_max_size=MAX_JSON_BODY_SIZE * 4, middlewares=[middleware])
    app[BACKEND] = backend

    async def close(_app: web.Application) -> None:
        await backend.close()

    app.on_cleanup.append(close)
    add_routes(app)
    return app


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start ``app`` on ``host:port`` (0: an ephemeral port); the runner and the port bound."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, int(bound)
