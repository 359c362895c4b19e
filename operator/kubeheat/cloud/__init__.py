"""Cloud layer: the only door to OpenStack, through openstacksdk.

It owns building connections from clouds.yaml content or the environment, retries with backoff,
per-cloud rate and concurrency limits, request timeouts and API-call counters. Credentials never
leave this layer in logs or errors.
"""
