"""Software config records as the native store keeps them: their kinds, and finding one by id.

Heat's config types (``kubeheat.resources.heat.software_config``) write these records; other
resources accept a config's id where they take its text (a MultipartMime part's ``config``, an
``OS::Nova::Server``'s ``user_data``). Both sides import this module, so the OpenStack plugins
never import Heat's types (nor the other way round).
"""

from __future__ import annotations

import uuid
from typing import Any

from kubeheat.resources.base import NativeStore

SOFTWARE_CONFIG = "OS::Heat::SoftwareConfig"
CLOUD_CONFIG = "OS::Heat::CloudConfig"
MULTIPART_MIME = "OS::Heat::MultipartMime"
STRUCTURED_CONFIG = "OS::Heat::StructuredConfig"
#: every kind whose records are software configs (looked up by id for MultipartMime parts)
CONFIG_KINDS = (SOFTWARE_CONFIG, CLOUD_CONFIG, MULTIPART_MIME, STRUCTURED_CONFIG)


def is_uuid_like(value: Any) -> bool:
    """Whether ``value`` is a UUID in any of its usual spellings (as oslo.utils checks)."""
    if not isinstance(value, str):
        return False
    try:
        parsed = uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    bare = value.lower().replace("urn:", "").replace("uuid:", "").strip("{}").replace("-", "")
    return parsed.hex == bare


def find_config(native: NativeStore, config_id: str) -> dict[str, Any] | None:
    """The software config record with this id, of any config kind."""
    for kind in CONFIG_KINDS:
        found = native.get(kind, config_id)
        if found is not None:
            return found
    return None
