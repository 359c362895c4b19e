"""Cloud layer: the only door to OpenStack, through openstacksdk.

It owns building connections from clouds.yaml content or the environment, retries with backoff,
per-cloud rate and concurrency limits, request timeouts and API-call counters, all applied by
one requests adapter under the keystoneauth session that openstacksdk uses (openstacksdk itself
is never patched). Credentials never leave this layer in logs or errors.
"""

from kubeheat.cloud._guard import CloudMetrics, RetryPolicy, SessionOptions
from kubeheat.cloud.session import (
    CloudConfigError,
    CloudError,
    CloudSession,
    connect,
    from_env,
    region_cloud,
)

__all__ = [
    "CloudConfigError",
    "CloudError",
    "CloudMetrics",
    "CloudSession",
    "RetryPolicy",
    "SessionOptions",
    "connect",
    "from_env",
    "region_cloud",
]
