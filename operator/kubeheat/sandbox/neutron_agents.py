"""Neutron's agent schedulers in the sandbox (``l3_agent_scheduler``, ``dhcp_agent_scheduler``):
one L3 agent and one DHCP agent per host of a fixed set, routers added to and removed from L3
agents, networks to and from DHCP agents, and the listings both ways. Each router keeps the
ids of its agents in ``_l3_agents``, each network in ``_dhcp_agents``."""

from __future__ import annotations

from typing import Any, Protocol

from kubeheat.sandbox._http import ApiError, Req, Resp
from kubeheat.sandbox.state import Record

_HOSTS = ("sandbox-net-1", "sandbox-net-2")
#: agent type -> (id prefix, binary, topic)
_KINDS = {"L3 agent": ("l3", "neutron-l3-agent", "l3_agent"),
          "DHCP agent": ("dhcp", "neutron-dhcp-agent", "dhcp_agent")}


def agents() -> list[Record]:
    """The fixed agents (ids ``l3-agent-1``, ``dhcp-agent-2`` ...)."""
    out: list[Record] = []
    for kind, (prefix, binary, topic) in _KINDS.items():
        for n, host in enumerate(_HOSTS, start=1):
            out.append({"id": f"{prefix}-agent-{n}", "agent_type": kind, "binary": binary,
                        "topic": topic, "host": host, "admin_state_up": True, "alive": True,
                        "availability_zone": "nova", "description": None,
                        "configurations": {}, "resources_synced": None,
                        "created_at": "2019-01-01T00:00:00Z",
                        "started_at": "2019-01-01T00:00:00Z",
                        "heartbeat_timestamp": "2019-01-01T00:00:00Z"})
    return out


class _Neutron(Protocol):
    state: Any

    def error(self, status: int, message: str, kind: str | None = None) -> ApiError: ...

    def find(self, coll: str, ident: str, project_id: str | None = None) -> Record: ...


class Agents:
    """The agent routes, registered on the Neutron service's router."""

    def __init__(self, neutron: _Neutron) -> None:
        self.neutron = neutron
        self.agents = {a["id"]: a for a in agents()}

    def register(self, router: Any) -> None:
        router.add("GET", "/v2.0/agents", self.list_agents)
        router.add("GET", "/v2.0/agents/{id}", self.show_agent)
        router.add("POST", "/v2.0/agents/{id}/l3-routers", self.add_router)
        router.add("DELETE", "/v2.0/agents/{id}/l3-routers/{hosted}", self.remove_router)
        router.add("GET", "/v2.0/routers/{id}/l3-agents", self.router_agents)
        router.add("POST", "/v2.0/agents/{id}/dhcp-networks", self.add_network)
        router.add("DELETE", "/v2.0/agents/{id}/dhcp-networks/{hosted}", self.remove_network)
        router.add("GET", "/v2.0/networks/{id}/dhcp-agents", self.network_agents)

    def _agent(self, ident: str, kind: str) -> Record:
        agent = self.agents.get(ident)
        if agent is None:
            raise self.neutron.error(404, f"Agent {ident} could not be found.",
                                     "AgentNotFound")
        if agent["agent_type"] != kind:
            raise self.neutron.error(400, f"Agent {ident} is not a valid {kind} Agent or has "
                                     "been disabled", "InvalidL3Agent" if kind == "L3 agent"
                                     else "InvalidDHCPAgent")
        return agent

    def list_agents(self, req: Req) -> Resp:
        items = list(self.agents.values())
        for key in ("agent_type", "host", "binary", "topic"):
            if key in req.query:
                items = [a for a in items if a[key] == req.query[key]]
        return Resp(200, {"agents": items})

    def show_agent(self, req: Req) -> Resp:
        agent = self.agents.get(req.params["id"])
        if agent is None:
            raise self.neutron.error(404, f"Agent {req.params['id']} could not be found.",
                                     "AgentNotFound")
        return Resp(200, {"agent": agent})

    def _add(self, req: Req, kind: str, coll: str, key: str) -> Resp:
        agent = self._agent(req.params["id"], kind)
        body = req.json(self.neutron.error)
        field = "router_id" if coll == "routers" else "network_id"
        ident = body.get(field) if isinstance(body, dict) else None
        if not isinstance(ident, str):
            raise self.neutron.error(400, f"Invalid input: {field} is required")
        record = self.neutron.find(coll, ident, req.project_id)
        hosted = record.setdefault(key, [])
        if agent["id"] in hosted:
            what = "router" if coll == "routers" else "network"
            raise self.neutron.error(409, f"The {what} {ident} has been already hosted by the "
                                     f"{kind} {agent['id']}.")
        hosted.append(agent["id"])
        return Resp(201, {})

    def _remove(self, req: Req, kind: str, coll: str, key: str) -> Resp:
        agent = self._agent(req.params["id"], kind)
        record = self.neutron.find(coll, req.params["hosted"], req.project_id)
        hosted = record.get(key, [])
        if agent["id"] not in hosted:
            what = "Router" if coll == "routers" else "Network"
            raise self.neutron.error(404, f"{what} {record['id']} is not hosted by {kind} "
                                     f"{agent['id']}.")
        hosted.remove(agent["id"])
        return Resp(204)

    def _hosting(self, req: Req, coll: str, key: str) -> Resp:
        record = self.neutron.find(coll, req.params["id"], req.project_id)
        return Resp(200, {"agents": [self.agents[a] for a in record.get(key, [])]})

    def add_router(self, req: Req) -> Resp:
        return self._add(req, "L3 agent", "routers", "_l3_agents")

    def remove_router(self, req: Req) -> Resp:
        return self._remove(req, "L3 agent", "routers", "_l3_agents")

    def router_agents(self, req: Req) -> Resp:
        return self._hosting(req, "routers", "_l3_agents")

    def add_network(self, req: Req) -> Resp:
        return self._add(req, "DHCP agent", "networks", "_dhcp_agents")

    def remove_network(self, req: Req) -> Resp:
        return self._remove(req, "DHCP agent", "networks", "_dhcp_agents")

    def network_agents(self, req: Req) -> Resp:
        return self._hosting(req, "networks", "_dhcp_agents")


__all__ = ["Agents", "agents"]
