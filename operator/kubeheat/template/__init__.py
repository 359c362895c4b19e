"""Template layer: everything about reading a Heat template without touching the outside world.

It owns parsing HOT and CloudFormation documents (YAML or JSON) under size and alias limits, the
per-version tables of sections, keys and intrinsic functions, parameter schemas and constraints,
environments and the resource registry, the unevaluated function trees that properties stay as
until the engine asks for their values, conditions, and the resource dependency graph. It does no
I/O: files arrive as a map from the caller, and anything that needs a cloud (resource attributes,
custom constraints) comes in through resolver and registry interfaces.
"""
