"""kubeheat: OpenStack Heat's template orchestration as a Kubernetes reconciliation controller.

The package is layered: ``template`` (pure parsing and evaluation), ``engine`` (plan and execute),
``resources`` (Heat's own resource types and one package or module per OpenStack service),
``cloud`` (openstacksdk sessions), ``sandbox`` (an embedded OpenStack-compatible cloud),
``controller`` (kopf handlers), ``api`` (Heat's Orchestration API over the engine, beside the
controller) and ``cli``.
"""

__version__ = "0.1.0"
