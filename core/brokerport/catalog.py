"""Vendor endpoint catalogs: vendor definitions as data (the botocore way).

A plugin describes each endpoint once: name, method, path, where each
parameter goes, what is required, the rule each value must meet, the
rate-limit bucket, and whether the call is safe to repeat. The core pipeline
reads nothing else about an endpoint, and the sandbox toolkit registers its
routes from the same data, so the client and sandbox cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

import attrs

from .errors import InvalidRequest, PluginError

__all__ = [
    "Catalog",
    "Endpoint",
    "Param",
    "RateLimit",
    "Rule",
]

Location = Literal["path", "query", "body", "header"]
#: A rule takes the value and returns an error text, or None when it is fine.
Rule = Callable[[Any], "str | None"]

_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")
#: Characters that may not appear in a header (CR/LF would inject headers).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@attrs.frozen(slots=True)
class RateLimit:
    """At most ``count`` requests in any window of ``per`` seconds.

    ``scope`` names what the vendor counts against: ``"endpoint"`` (the
    default: one window per endpoint per credential) or a shared group name;
    endpoints with the same group share one window.
    """

    count: int
    per: float
    group: str | None = None
    #: Seconds kept free after each window for network jitter (the vendor counts
    #: arrivals, we count departures). None: 2 % of the window, 5–250 ms.
    margin: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.count < 1 or self.per <= 0:
            raise PluginError(f"bad rate limit {self.count}/{self.per}s")

    def describe(self) -> str:
        per = self.per
        unit = (
            "s"
            if per == 1
            else f"{per:g}s"
            if per < 60
            else "min"
            if per == 60
            else "h"
            if per == 3600
            else f"{per:g}s"
        )
        return f"{self.count}/{unit}"


@attrs.frozen(slots=True)
class Param:
    """One request parameter of an endpoint."""

    name: str
    location: Location = "body"
    required: bool = False
    rules: tuple[Rule, ...] = ()
    #: Sensitive values are redacted from logs and hook payloads.
    sensitive: bool = False
    doc: str = ""


@attrs.frozen(slots=True)
class Endpoint:
    """One vendor endpoint, as data."""

    name: str
    method: str
    path: str
    params: tuple[Param, ...] = ()
    #: How the request is authenticated: a name the adapter's signer knows
    #: (``"signed"``, ``"public"``, ``"bearer"``, ...).
    auth: str = "signed"
    rate_limit: RateLimit | None = None
    #: Tokens one call costs against its bucket.
    cost: int = 1
    #: Safe to send twice. Defaults to True for GET, False otherwise.
    idempotent: bool | None = None
    #: A parameter the pipeline fills once, before any retry, when the host
    #: leaves it empty: the key a host reconciles an unknown outcome with.
    idempotency_param: str | None = None
    #: What a host should look up after an UnknownOutcome.
    reconcile: str = ""
    #: Body encoding: "json" or "form".
    body: Literal["json", "form"] = "json"
    #: Reject parameters the endpoint does not declare.
    strict: bool = True
    doc: str = ""
    #: A whole-request rule: takes the parameters, returns an error or None.
    check: Callable[[Mapping[str, Any]], str | None] | None = None
    tags: frozenset[str] = frozenset()
    #: Answer fields (besides the usual credential names) to redact from hook payloads.
    sensitive_response: frozenset[str] = frozenset()
    #: Which base URL (a name in the catalog's services; "default": the profile's).
    service: str = "default"
    #: The path version filling ``{version}`` in ``path`` (profile option
    #: ``path_versions`` overrides it per endpoint).
    version: str | None = None
    _names: frozenset[str] = attrs.field(init=False, repr=False, eq=False, default=frozenset())
    #: The path with its version filled in (``path`` keeps ``{version}``).
    route: str = attrs.field(init=False, repr=False, eq=False, default="")
    #: True when the path has ``{placeholders}`` to fill.
    templated: bool = attrs.field(init=False, repr=False, eq=False, default=False)
    #: (name, percent-encoded name) of each query parameter, in order: the request
    #: builder's hot loop, computed once
    query_params: tuple[tuple[str, str], ...] = attrs.field(
        init=False, repr=False, eq=False, default=()
    )
    #: names of body and header parameters, in order
    body_params: tuple[str, ...] = attrs.field(init=False, repr=False, eq=False, default=())
    header_params: tuple[str, ...] = attrs.field(init=False, repr=False, eq=False, default=())

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        if self.idempotent is None:
            object.__setattr__(self, "idempotent", self.method in ("GET", "HEAD"))
        names = frozenset(p.name for p in self.params)
        object.__setattr__(self, "_names", names)
        route = self.path
        if "{version}" in route:
            if not self.version:
                raise PluginError(f"{self.name}: path has {{version}} but no version")
            route = route.replace("{version}", self.version)
        object.__setattr__(self, "route", route)
        object.__setattr__(self, "templated", "{" in route)
        by = self.params_at
        object.__setattr__(self, "query_params", tuple((n, quote(n, safe="")) for n in by("query")))
        object.__setattr__(self, "body_params", by("body"))
        object.__setattr__(self, "header_params", by("header"))
        for placeholder in _PLACEHOLDER.findall(route):
            if placeholder not in names:
                raise PluginError(f"{self.name}: path placeholder {{{placeholder}}} has no Param")
        if len(names) != len(self.params):
            raise PluginError(f"{self.name}: duplicate parameter names")
        if self.method in ("GET", "HEAD"):
            dropped = [p.name for p in self.params if p.location == "body"]
            if dropped:
                # the request builder sends no body for these methods
                raise PluginError(
                    f"{self.name}: {self.method} has no body for {', '.join(dropped)}"
                    " (give them location='query')"
                )
        if self.idempotency_param and self.strict and self.idempotency_param not in names:
            # the pipeline fills it in, and strict validation would then refuse every call
            raise PluginError(
                f"{self.name}: idempotency_param {self.idempotency_param!r} has no Param"
            )
        if self.cost < 1 or (self.rate_limit is not None and self.cost > self.rate_limit.count):
            # a cost the bucket can never hold would wait forever (or fail in the limiter)
            raise PluginError(f"{self.name}: cost {self.cost} does not fit its rate limit")

    def params_at(self, location: Location) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.location == location)

    @property
    def param_names(self) -> frozenset[str]:
        return self._names

    @property
    def is_idempotent(self) -> bool:
        return bool(self.idempotent)

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    @property
    def sensitive_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params if p.sensitive)

    def validate(self, params: Mapping[str, Any], *, vendor: str | None = None) -> None:
        """Check params against this endpoint; raise InvalidRequest. No I/O."""
        if self.strict and not params.keys() <= self._names:
            unknown = sorted(k for k in params if k not in self._names)
            names = ", ".join(unknown)
            raise self._invalid(
                vendor, f"unknown parameter(s) for {self.name}: {names}", unknown[0]
            )
        for p in self.params:
            value = params.get(p.name)
            if value is None or value == "":
                if p.required or p.location == "path":
                    raise self._invalid(vendor, f"{p.name} is required", p.name)
                continue
            if type(value) is not str:  # text, the common case, needs neither check
                if isinstance(value, float):
                    raise self._invalid(
                        vendor, f"{p.name}: floats are not accepted; use Decimal or str", p.name
                    )
                if isinstance(value, Decimal) and not value.is_finite():
                    raise self._invalid(vendor, f"{p.name}: {value} is not a finite amount", p.name)
            location = p.location
            if location == "header" and CONTROL_CHARS.search(str(value)):
                raise self._invalid(
                    vendor, f"{p.name}: control characters are not allowed in a header", p.name
                )
            if location == "path" and {".", ".."} & set(re.split(r"[/\\]", str(value))):
                # servers and proxies decode %2F and resolve dot segments: another endpoint
                raise self._invalid(
                    vendor, f"{p.name}: {value!r} is not a valid path segment", p.name
                )
            for rule in p.rules:
                try:
                    problem = rule(value)
                except Exception as exc:  # a rule choking on odd input still means "invalid"
                    problem = f"invalid value ({type(exc).__name__})"
                if problem:
                    raise self._invalid(vendor, f"{p.name}: {problem}", p.name)
        if self.check is not None:
            try:
                problem = self.check(params)
            except Exception as exc:
                problem = f"invalid request ({type(exc).__name__})"
            if problem:
                raise self._invalid(vendor, problem)

    def _invalid(self, vendor: str | None, msg: str, field: str | None = None) -> InvalidRequest:
        return InvalidRequest(msg, field=field, vendor=vendor, endpoint=self.name)

    def render_path(self, params: Mapping[str, Any]) -> str:
        if not self.templated:
            return self.route
        return _PLACEHOLDER.sub(lambda m: quote(str(params[m.group(1)]), safe=""), self.route)


class Catalog(Mapping[str, Endpoint]):
    """An immutable, name-keyed set of endpoints."""

    __slots__ = ("_by_name", "services", "vendor")

    def __init__(
        self,
        vendor: str,
        endpoints: Iterable[Endpoint],
        services: Mapping[str, str] | None = None,
    ) -> None:
        self.vendor = vendor
        #: service name -> the profile option holding its base URL ("": base_url)
        self.services: Mapping[str, str] = dict(services or {"default": ""})
        by_name: dict[str, Endpoint] = {}
        routes: set[tuple[str, str]] = set()
        for ep in endpoints:
            if ep.name in by_name:
                raise PluginError(f"{vendor}: endpoint {ep.name!r} defined twice")
            route = (ep.method, ep.route)
            if route in routes:
                raise PluginError(f"{vendor}: route {ep.method} {ep.path} defined twice")
            routes.add(route)
            if ep.service not in self.services:
                raise PluginError(f"{vendor}: {ep.name} names unknown service {ep.service!r}")
            by_name[ep.name] = ep
        self._by_name = by_name

    def __getitem__(self, name: str) -> Endpoint:
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidRequest(
                f"{self.vendor} has no endpoint named {name!r}", vendor=self.vendor
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __repr__(self) -> str:
        return f"Catalog({self.vendor!r}, {len(self)} endpoints)"


# ---------------------------------------------------------------- common rules


def pattern(regex: str, message: str) -> Rule:
    compiled = re.compile(regex)

    def rule(value: Any) -> str | None:
        return None if isinstance(value, str) and compiled.fullmatch(value) else message

    return rule


def one_of(*choices: Any) -> Rule:
    allowed = {str(c) for c in choices}

    def rule(value: Any) -> str | None:
        return None if str(value) in allowed else f"must be one of {', '.join(sorted(allowed))}"

    return rule


def max_len(n: int) -> Rule:
    def rule(value: Any) -> str | None:
        return None if len(str(value)) <= n else f"at most {n} characters"

    return rule


def int_range(lo: int, hi: int) -> Rule:
    def rule(value: Any) -> str | None:
        try:
            v = int(str(value))
        except ValueError:
            return "must be an integer"
        if str(v) != str(value).strip() and not isinstance(value, int):
            return "must be an integer"
        return None if lo <= v <= hi else f"must be between {lo} and {hi}"

    return rule


def money(places: int, *, positive: bool = True) -> Rule:
    """A decimal amount (str/int/Decimal, never float) with at most ``places`` decimals.

    Rejects rather than rounds: the host must send what the vendor can represent.
    """
    from .types import decimal_places, parse_decimal

    def rule(value: Any) -> str | None:
        try:
            amount = parse_decimal(value)
        except (TypeError, ValueError):
            return "must be a decimal amount (str or Decimal, never float)"
        if positive and amount <= 0:
            return "must be greater than zero"
        if decimal_places(amount) > places:
            return f"at most {places} decimal places (it would have to be rounded)"
        return None

    return rule


__all__ += ["int_range", "max_len", "money", "one_of", "pattern"]
