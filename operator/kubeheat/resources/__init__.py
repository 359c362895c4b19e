"""Resource layer: schema-first resource type plugins: Heat's own types in ``heat``, the
OpenStack services' in ``openstack`` (one sub-package or module per service).

Each plugin declares its properties, attributes and which properties update in place, and
implements create, read, update, delete and find-existing handlers against a cloud session. A
registry maps type names to plugins.
"""
