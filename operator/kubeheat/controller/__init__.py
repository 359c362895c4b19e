"""Controller layer: the Kubernetes side, run by ``kubeheat operator``: the Stack CRD generated from
one schema (``crd``), the operator's RBAC rules as data (``rbac``), the kopf handlers and reconcile
logic (``handlers``), the engine state kept in a compressed Secret owned by each Stack with a
sanitized summary in its status (``store``, ``status``), aggregated Kubernetes Events
(``events``), Prometheus metrics (``metrics``) and the process runner (``runner``).
"""
