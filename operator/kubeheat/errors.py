"""The root of kubeheat's errors: every error kubeheat raises on purpose is a
:class:`KubeheatError`, whichever layer raises it (a template problem, a refused engine request,
a cloud error), so a front end catches this one type and shows ``str(error)``."""


class KubeheatError(Exception):
    """Base of every error kubeheat raises on purpose."""


__all__ = ["KubeheatError"]
