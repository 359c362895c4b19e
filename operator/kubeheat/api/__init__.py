"""API layer: Heat's Orchestration API (heat-api v1) served over HTTP by kubeheat.

It owns the aiohttp application (routes, request ids, Heat's fault body and its
exception-to-status mapping, JSON body rules), the views that shape stacks, resources and events
as Heat returns them, and the interface of the stack storage behind the API
(:class:`StackBackend`), with its embedded implementation: the engine of ``kubeheat run`` on a
local state directory. It sits above the engine and below the CLI, beside the controller, which it
never imports.
"""

from kubeheat.api.app import build_app, serve
from kubeheat.api.backend import StackBackend
from kubeheat.api.embedded import EmbeddedBackend
from kubeheat.api.faults import MAX_JSON_BODY_SIZE, ApiFault

__all__ = ["MAX_JSON_BODY_SIZE", "ApiFault", "EmbeddedBackend", "StackBackend", "build_app",
           "serve"]
