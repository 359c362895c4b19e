"""The API served for the tests: ``kubeheat api``'s application with the embedded backend, on
127.0.0.1 (an ephemeral port), from an event loop in a thread, for the synchronous clients."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from kubeheat.api import EmbeddedBackend, build_app, serve

#: the stack both clients' workflows create (the same was run through real Heat 27.0.1)
TEMPLATE = """heat_template_version: 2018-08-31
description: api test
parameters:
  greeting:
    type: string
    default: hello
resources:
  none:
    type: OS::Heat::None
  value:
    type: OS::Heat::Value
    properties:
      value: {get_param: greeting}
  rand:
    type: OS::Heat::RandomString
    properties:
      length: 8
outputs:
  out:
    description: the value
    value: {get_attr: [value, value]}
"""



class ApiServer:
    """The served API: ``endpoint`` is Heat's orchestration endpoint for project admin."""

    def __init__(self, state_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.backend = EmbeddedBackend(state_dir)

        async def start() -> tuple[object, int]:
            return await serve(build_app(self.backend), "127.0.0.1", 0)

        self.runner, self.port = asyncio.run_coroutine_threadsafe(start(), self.loop).result(30)
        self.root = f"http://127.0.0.1:{self.port}"
        self.endpoint = f"{self.root}/v1/admin"

    def stop(self) -> None:
        async def stop() -> None:
            await self.runner.cleanup()  # type: ignore[attr-defined]

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
