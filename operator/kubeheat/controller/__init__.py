"""Controller layer: the Kubernetes side, run by ``kubeheat operator``.

It owns the kopf handlers for the Stack custom resource, the state store kept in the resource's
status subresource, conditions, Kubernetes Events, finalizers, drift timers and Prometheus metrics.
"""
