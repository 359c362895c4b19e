"""Custom constraints (``custom_constraint: <name>``): the plugin interface
(:class:`CustomConstraint`), the :class:`ConstraintRegistry` that finds them by name, and the
ones that need no cloud, registered in :data:`DEFAULT_CONSTRAINTS`: ``ip_addr``, ``net_cidr``,
``mac_addr``, ``dns_name``, ``rel_dns_name``, ``dns_domain``, ``iso_8601``, ``expiration``,
``timezone``, ``cron_expression``, ``json_string`` and ``test_constr``.

:mod:`kubeheat.template.constraints` (the template's own constraints) builds on this module and
re-exports its names. Facts follow Heat's ``heat/engine/constraints.py`` and
``heat/engine/constraint/common_constraints.py``; the implementations are kubeheat's own.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, NamedTuple

from kubeheat.template.errors import KubeheatError


class ConstraintViolation(KubeheatError):
    """A value broke a constraint.

    ``message`` is Heat's wording and may quote the value; ``redacted`` says the same without any
    part of the value, for hidden parameters (``None`` when the checker had no such wording: the
    caller then falls back to a generic one).
    """

    def __init__(self, message: str, *, redacted: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.redacted = redacted

    def text(self, hide: bool, fallback: str = "") -> str:
        """The message to show: the redacted one (or ``fallback``) when ``hide``."""
        if not hide:
            return self.message
        return self.redacted if self.redacted is not None else fallback


def show(value: Any) -> str:
    """A value as Heat's ``'%s' % value`` renders it."""
    return str(value)


def to_number(value: Any) -> int | float:
    """Heat's ``Schema.str_to_num``: numbers pass, strings become int, else float.

    Raises ``ValueError``/``TypeError`` like ``int()``/``float()`` do.
    """
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    try:
        return int(value)
    except ValueError:
        return float(value)


# ---------------------------------------------------------------------------------------------
# Custom constraints: plugin interface and registry
# ---------------------------------------------------------------------------------------------


class CustomConstraint(ABC):
    """A named check for ``custom_constraint: <name>``, like a cfn-lint rule.

    Subclasses set ``name`` and ``description`` (what a valid value is, for listings),
    optionally ``message`` (Heat's attribute of that name: the rule as shown to users in place of
    "Value must be of type <name>"), ``needs_cloud`` when checking asks a cloud (flavors,
    images ...), and implement
    :meth:`check`, which raises :class:`ConstraintViolation` carrying the reason (Heat's
    ``_error_message``; may be empty). Set ``redacted`` on it when the reason quotes nothing of
    the value, so hidden parameters can show it too. Use :meth:`fail` for both.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    message: ClassVar[str | None] = None
    needs_cloud: ClassVar[bool] = False

    @abstractmethod
    def check(self, value: Any) -> None:
        """Raise :class:`ConstraintViolation` if ``value`` is not acceptable."""

    @staticmethod
    def fail(reason: str = "", *, quotes_value: bool = True) -> ConstraintViolation:
        """The violation to raise; ``quotes_value=False`` lets hidden parameters show it."""
        return ConstraintViolation(reason, redacted=None if quotes_value else reason)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class ConstraintRegistry:
    """Custom constraints by name, optionally layered over a parent registry.

    ``registry.child()`` gives a registry that sees everything in ``registry`` plus what is
    registered on the child, so a cloud layer can extend :data:`DEFAULT_CONSTRAINTS` without
    changing it.
    """

    def __init__(self, constraints: Iterable[CustomConstraint] = (), *,
                 parent: ConstraintRegistry | None = None) -> None:
        self._parent = parent
        self._own: dict[str, CustomConstraint] = {}
        for constraint in constraints:
            self.register(constraint)

    def register(self, constraint: CustomConstraint, *, replace: bool = False) -> CustomConstraint:
        """Add ``constraint`` under its ``name``; a second one with the same name needs
        ``replace=True``."""
        name = constraint.name
        if not replace and name in self._own:
            raise ValueError(f"custom constraint {name!r} is already registered")
        self._own[name] = constraint
        return constraint

    def get(self, name: str) -> CustomConstraint | None:
        found = self._own.get(name)
        if found is None and self._parent is not None:
            return self._parent.get(name)
        return found

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def names(self) -> list[str]:
        """Every known name, sorted."""
        parent = self._parent.names() if self._parent is not None else []
        return sorted(set(parent) | set(self._own))

    def __iter__(self) -> Iterator[CustomConstraint]:
        for name in self.names():
            found = self.get(name)
            assert found is not None
            yield found

    def child(self) -> ConstraintRegistry:
        return ConstraintRegistry(parent=self)


#: The cloud-free custom constraints.
DEFAULT_CONSTRAINTS = ConstraintRegistry()


def builtin(cls: type[CustomConstraint]) -> type[CustomConstraint]:
    """Class decorator: register one instance of ``cls`` in :data:`DEFAULT_CONSTRAINTS`."""
    DEFAULT_CONSTRAINTS.register(cls())
    return cls


# -- network ----------------------------------------------------------------------------------


@builtin
class IPAddress(CustomConstraint):
    """``ip_addr``: an IPv4 (dotted quad, no leading zeros) or IPv6 address."""

    name = "ip_addr"
    description = "Value must be an IPv4 or IPv6 address."

    def check(self, value: Any) -> None:
        if not _is_ip(value):
            raise self.fail("Invalid IP address", quotes_value=False)


def _is_ip(value: Any) -> bool:
    if not isinstance(value, str) or value != value.strip() or "%" in value:
        return False
    if ":" not in value and value.count(".") != 3:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@builtin
class NetCIDR(CustomConstraint):
    """``net_cidr``: an address with a prefix length, written canonically (host bits allowed,
    as neutron's ``validate_subnet`` does)."""

    name = "net_cidr"
    description = "Value must be a network address in CIDR notation."

    def check(self, value: Any) -> None:
        if not isinstance(value, str):
            raise self.fail(f"'{show(value)}' is not a valid IP subnet")
        try:
            iface = ipaddress.ip_interface(value)
        except ValueError:
            # Heat 27.0.1's words: netaddr's error, after "Invalid net cidr" (trailing space)
            raise self.fail(f"Invalid net cidr invalid IPNetwork {value} ") from None
        if "/" not in value or (iface.version == 4 and str(iface) != value):
            raise self.fail(f"'{value}' isn't a recognized IP subnet cidr, "
                            f"'{iface.network}' is recommended")


_MAC_FORMATS = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5}",
    r"[0-9a-f]{1,2}(?:-[0-9a-f]{1,2}){5}",
    r"[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){2}",
    r"[0-9a-f]{1,4}(?:-[0-9a-f]{1,4}){2}",
    r"[0-9a-f]{1,4}(?:\.[0-9a-f]{1,4}){2}",
    r"[0-9a-f]{5,6}[-:][0-9a-f]{5,6}",
    r"[0-9a-f]{11,12}",
))


@builtin
class MACAddress(CustomConstraint):
    """``mac_addr``: an EUI-48 address in the notations netaddr accepts (colon, dash, Cisco
    dotted, PostgreSQL, bare)."""

    name = "mac_addr"
    description = "Value must be a MAC address."

    def check(self, value: Any) -> None:
        if not (isinstance(value, str) and any(p.fullmatch(value) for p in _MAC_FORMATS)):
            raise self.fail("Invalid MAC address.", quotes_value=False)


# -- DNS --------------------------------------------------------------------------------------

FQDN_MAX_LEN = 255
DNS_LABEL_MAX_LEN = 63
_DNS_LABEL = re.compile(rf"[a-z0-9-]{{1,{DNS_LABEL_MAX_LEN}}}")


def dns_format_error(data: str) -> str | None:
    """Why ``data`` is not a DNS name (Heat's ``validate_dns_format``), or None."""
    if not data:
        return None
    trimmed = data[:-1] if data.endswith(".") else data
    if len(trimmed) > FQDN_MAX_LEN:
        return f"'{trimmed}' exceeds the {FQDN_MAX_LEN} character FQDN limit"
    names = trimmed.split(".")
    for label in names:
        if not label:
            return "Encountered an empty component."
        if label.startswith("-") or label.endswith("-"):
            return f"Name '{label}' must not start or end with a hyphen."
        if not _DNS_LABEL.fullmatch(label):
            return (f"Name '{label}' must be 1-{DNS_LABEL_MAX_LEN} characters long, each of "
                    "which can only be alphanumeric or a hyphen.")
    if data.endswith(".") and len(names) > 1 and names[-1].isdigit():
        return f"TLD '{names[-1]}' must not be all numeric."
    return None


@builtin
class DNSName(CustomConstraint):
    """``dns_name``: lower-case labels of letters, digits and hyphens, dot-separated."""

    name = "dns_name"
    description = "Value must be a DNS name."

    def check(self, value: Any) -> None:
        if not isinstance(value, str):
            raise self.fail(f"'{show(value)}' not in valid format. Reason: not a string")
        reason = dns_format_error(value)
        if reason is not None:
            raise self.fail(f"'{value}' not in valid format. Reason: {reason}")


@builtin
class RelativeDNSName(DNSName):
    """``rel_dns_name``: a DNS name without the trailing dot, short enough to take a domain."""

    name = "rel_dns_name"
    description = "Value must be a relative DNS name."

    def check(self, value: Any) -> None:
        if isinstance(value, str) and value:
            if value.endswith("."):
                raise self.fail(f"'{value}' is a FQDN. It should be a relative domain name.")
            if len(value) > FQDN_MAX_LEN - 3:
                raise self.fail(f"'{value}' contains '{len(value)}' characters. Adding a domain "
                                "name will cause it to exceed the maximum length of a FQDN of "
                                f"'{FQDN_MAX_LEN}'.")
        super().check(value)


@builtin
class DNSDomain(DNSName):
    """``dns_domain``: a DNS name ending with a dot."""

    name = "dns_domain"
    description = "Value must be a DNS domain ending with '.'."

    def check(self, value: Any) -> None:
        if value == "":
            return
        super().check(value)
        if not value.endswith("."):
            raise self.fail(f"'{value}' must end with '.'.")


# -- time -------------------------------------------------------------------------------------

_ISO_8601 = re.compile(r"""
    (?P<year>\d{4})
    (?:
        (?:-(?P<month_dash>\d{1,2}) | (?P<month>\d{2})(?!$))
        (?:
            (?:-(?P<day_dash>\d{1,2}) | (?P<day>\d{2}))
            (?:
                [ T](?P<hour>\d{2})
                (?::?(?P<minute>\d{2}))?
                (?::?(?P<second>\d{1,2})(?:[.,](?P<fraction>\d+))?)?
                (?P<tz>Z | (?P<tz_sign>[-+])(?P<tz_hour>\d{2}):?(?P<tz_minute>\d{2})?)?
            )?
        )?
    )?
    """, re.VERBOSE)


def parse_iso8601(text: str) -> _dt.datetime:
    """Parse an ISO 8601 date or date-time (the forms the ``iso8601`` library reads: ``YYYY``,
    ``YYYY-MM``, ``YYYY-MM-DD``, basic ``YYYYMMDD``, times with optional minutes, seconds,
    fraction and zone). A value without a zone is UTC. Raises ``ValueError``."""
    found = _ISO_8601.fullmatch(text)
    if found is None:
        raise ValueError(f"Unable to parse date string {text!r}")
    part = found.groupdict()

    def num(*names: str, default: int = 0) -> int:
        for name in names:
            if part[name] is not None:
                return int(part[name])
        return default

    zone = _dt.UTC
    if part["tz_sign"]:
        minutes = num("tz_hour") * 60 + num("tz_minute")
        sign = -1 if part["tz_sign"] == "-" else 1
        zone = _dt.timezone(_dt.timedelta(minutes=sign * minutes))
    micro = int((part["fraction"] or "0")[:6].ljust(6, "0"))
    return _dt.datetime(num("year"), num("month_dash", "month", default=1),
                        num("day_dash", "day", default=1), num("hour"), num("minute"),
                        num("second"), micro, tzinfo=zone)


@builtin
class ISO8601(CustomConstraint):
    """``iso_8601``: an ISO 8601 date or date-time."""

    name = "iso_8601"
    description = "Value must be an ISO 8601 date/time."

    def check(self, value: Any) -> None:
        try:
            parse_iso8601(value)
        except (TypeError, ValueError, OverflowError):
            raise self.fail() from None


@builtin
class Expiration(CustomConstraint):
    """``expiration``: an ISO 8601 date-time in the future (empty is accepted)."""

    name = "expiration"
    description = "Value must be an ISO 8601 date/time in the future."

    def check(self, value: Any) -> None:
        if not value:
            return
        try:
            when = parse_iso8601(value.strip())
        except (AttributeError, TypeError, ValueError, OverflowError) as exc:
            raise self.fail(f"Expiration {value} is invalid: {exc}") from None
        if when <= _dt.datetime.now(_dt.UTC):
            raise self.fail(f"Expiration {value} is invalid: Expiration time is out of date.")


@builtin
class Timezone(CustomConstraint):
    """``timezone``: an IANA time zone name (empty is accepted)."""

    name = "timezone"
    description = "Value must be a time zone name."

    def check(self, value: Any) -> None:
        import zoneinfo  # here: only a template with this constraint pays for the import

        if not value:
            return
        try:
            if not isinstance(value, str):
                raise TypeError(value)
            zoneinfo.ZoneInfo(value)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError) as exc:
            # Heat 27.0.1's words: zoneinfo's error (a KeyError reads quoted)
            reason = str(exc)
        except (TypeError, OSError):
            reason = repr(show(value))
        else:
            return
        raise self.fail(f"Invalid timezone: {reason}")


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_ALIASES = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily",
                           "@midnight", "@hourly"})


class _CronField(NamedTuple):
    """One field of a cron expression (a NamedTuple: cheaper than a dataclass at import)."""

    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_from: int = 0
    any_mark: bool = False  # '?' allowed
    last: bool = False      # 'L' allowed (day of month)
    nth: bool = False       # 'day#n' allowed (day of week)

    def number(self, text: str) -> int:
        lowered = text.lower()
        if lowered in self.names:
            return self.names.index(lowered) + self.names_from
        if not text.isdigit():
            raise ValueError
        value = int(text)
        if not self.low <= value <= self.high:
            raise ValueError
        return value

    def check_item(self, item: str) -> None:
        """One comma-separated item: ``*``, ``?``, ``L``, ``n``, ``a-b``, ``d#n``, each with
        an optional ``/step``."""
        base, slash, step = item.partition("/")
        if slash and not (step.isdigit() and int(step) > 0):
            raise ValueError
        if base == "*" or (self.any_mark and base == "?" and not slash):
            return
        if self.last and base.upper() == "L" and not slash:
            return
        if self.nth and "#" in base and not slash:
            day, _, nth = base.partition("#")
            self.number(day)
            if not (nth.isdigit() and 1 <= int(nth) <= 5):
                raise ValueError
            return
        low, dash, high = base.partition("-")
        first = self.number(low)
        if dash and self.number(high) < first:
            raise ValueError


_CRON_FIELDS = (
    _CronField("minute", 0, 59),
    _CronField("hour", 0, 23),
    _CronField("day of month", 1, 31, any_mark=True, last=True),
    _CronField("month", 1, 12, _MONTHS, names_from=1),
    _CronField("day of week", 0, 7, _DAYS, any_mark=True, nth=True),
    _CronField("second", 0, 59),
    _CronField("year", 1970, 2099),
)


def cron_error(expression: str) -> str | None:
    """Why ``expression`` is not a cron expression, or None.

    Five fields (minute hour day-of-month month day-of-week), six (a trailing seconds field,
    as croniter reads it) or seven (then a year, 1970 to 2099, as the croniter of Heat 27.0.1
    takes it); ``@daily``-style aliases; names for months and days; ``?``, ``L`` and ``#``
    where croniter takes them.
    """
    if expression.strip().lower() in _CRON_ALIASES:
        return None
    columns = expression.split()
    if len(columns) not in (5, 6, 7):
        return "Exactly 5, 6 or 7 columns has to be specified for iterator expression."
    for spec, column in zip(_CRON_FIELDS, columns, strict=False):
        for item in column.split(","):
            try:
                spec.check_item(item)
            except ValueError:
                return f"[{expression}] is not acceptable ({spec.label} field: {column!r})"
    return None


@builtin
class CronExpression(CustomConstraint):
    """``cron_expression``: a 5-, 6- or 7-field cron line (empty is accepted)."""

    name = "cron_expression"
    description = "Value must be a cron expression."

    def check(self, value: Any) -> None:
        if not value:
            return
        reason = cron_error(value) if isinstance(value, str) else "not a string"
        if reason is not None:
            raise self.fail(f"Invalid CRON expression: {reason}")


# -- data -------------------------------------------------------------------------------------


@builtin
class JSONString(CustomConstraint):
    """``json_string``: a string holding a JSON document."""

    name = "json_string"
    description = "Value must be a JSON string."

    def check(self, value: Any) -> None:
        if not isinstance(value, str):
            raise self.fail("Value must be a string", quotes_value=False)
        try:
            json.loads(value)
        except ValueError as exc:
            # json's messages give positions, never the text itself
            raise self.fail(f"Invalid JSON: {exc}", quotes_value=False) from None


@builtin
class TestConstraint(CustomConstraint):
    """``test_constr``: Heat's test constraint (``TestConstraintDelay``), which sleeps for the
    value's number of seconds and accepts it. kubeheat does not sleep; it accepts any finite
    number (or numeric string) and rejects everything else."""

    __test__ = False  # not a pytest test class
    name = "test_constr"
    description = "Value must be a number of seconds (test constraint)."

    def check(self, value: Any) -> None:
        try:
            number = float(to_number(value))
        except (TypeError, ValueError):
            raise self.fail() from None
        if not math.isfinite(number):
            raise self.fail()


__all__ = [
    "DEFAULT_CONSTRAINTS",
    "ConstraintRegistry",
    "ConstraintViolation",
    "CustomConstraint",
    "builtin",
    "cron_error",
    "dns_format_error",
    "parse_iso8601",
    "show",
    "to_number",
]
