"""Heat's own resource types (``OS::Heat::*``), which need no cloud.

Their objects live in the engine's native store (:class:`kubeheat.resources.base.NativeStore`),
tagged like cloud resources so that crash recovery adopts them the same way. One module per type
family; helpers live in ``_common``.
"""
