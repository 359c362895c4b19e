"""Engine layer: turns a resolved template, recorded and observed state into a plan, and runs it.

It owns the stack and resource state machine (Heat's actions and statuses), planning (create,
update in place, replace, delete, adopt, no-op), the asyncio executor that walks the dependency
graph, and the state-store and event-sink interfaces. It knows nothing of Kubernetes or the CLI.
"""
