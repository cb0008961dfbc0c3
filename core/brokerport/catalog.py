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
from types import MappingProxyType
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
    "Signing",
]

Location = Literal["path", "query", "body", "header"]
#: A rule takes the value and returns an error text, or None when it is fine.
Rule = Callable[[Any], "str | None"]

_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")
_VERSION = re.compile(r"[A-Za-z0-9._-]+")
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
    #: The wire type (``"string"``, ``"integer"``, ``"number"``, ``"boolean"``,
    #: ``"array"``, ``"object"``): informative, except that an ``"array"`` query
    #: parameter is sent as repeated keys (``a=1&a=2``).
    type: str = "string"


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
    #: ``path_versions`` overrides it per endpoint; see ``with_version``).
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
            if "version" in names:
                raise PluginError(f"{self.name}: a Param named 'version' and a path version")
            if not _VERSION.fullmatch(self.version):
                raise PluginError(f"{self.name}: bad path version {self.version!r}")
            route = route.replace("{version}", self.version)
        elif self.version is not None:
            raise PluginError(f"{self.name}: version {self.version!r} but no {{version}} in path")
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

    def with_version(self, version: str) -> Endpoint:
        """This endpoint at another path version (a profile's ``path_versions`` option)."""
        if self.version is None:
            raise PluginError(f"{self.name}: the path has no {{version}} to set")
        if version == self.version:
            return self
        return attrs.evolve(self, version=version)

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


#: What a signing part names: every query parameter / body field, or one of them, or a header.
_PART = re.compile(r"(query|body)(:[^\s:]+)?|(header|path):[A-Za-z0-9_-]+")


def _parts(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, str) and _PART.fullmatch(v) for v in value
    ):
        raise PluginError(
            f"{where}: a list of parts: 'query', 'body', 'query:NAME', 'body:NAME', "
            "'header:NAME', 'path:NAME'"
        )
    return tuple(value)


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _endpoint_parts(value: Mapping[str, Iterable[str]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({k: tuple(v) for k, v in value.items()})


@attrs.frozen(slots=True)
class Signing:
    """What the vendor checks on a request that is not public, as the catalog declares
    it (docs/catalog-format.md, "Signing"); the conformance kit proves each item.

    A *part* is ``"query"`` / ``"body"`` (every query parameter / top-level body
    field), ``"query:NAME"`` / ``"body:NAME"`` (one of them), ``"header:NAME"`` or
    ``"path:NAME"`` (a path parameter).
    """

    #: profile credentials (``Sandbox.credentials()`` names) whose wrong value is refused
    credentials: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    #: parts carrying credentials or the signature: a request without one is refused
    carriers: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    #: parts a signature covers, on every endpoint not in ``endpoints`` (``()``: signs nothing)
    signed: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    #: the part holding the signed timestamp, and the seconds the vendor accepts it
    timestamp: str | None = None
    window: float | None = None
    #: endpoint name -> the parts signed on that endpoint (replacing ``signed``)
    endpoints: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_endpoint_parts)

    def signed_for(self, endpoint: str) -> tuple[str, ...]:
        """The parts signed on ``endpoint``."""
        return self.endpoints.get(endpoint, self.signed)

    @classmethod
    def from_data(cls, data: object, where: str) -> Signing:
        if not isinstance(data, Mapping):
            raise PluginError(f"{where}: signing is an object")
        _no_unknown(data, _SIGNING_KEYS, f"{where}: signing")
        creds = data.get("credentials", [])
        if not isinstance(creds, list) or not all(isinstance(c, str) for c in creds):
            raise PluginError(f"{where}: signing.credentials is a list of credential names")
        endpoints = data.get("endpoints", {})
        if not isinstance(endpoints, Mapping):
            raise PluginError(f"{where}: signing.endpoints maps an endpoint to parts")
        timestamp, window = data.get("timestamp"), data.get("window")
        if timestamp is not None:
            _parts([timestamp], f"{where}: signing.timestamp")
        if (timestamp is None) != (window is None) or not (
            window is None or (isinstance(window, (int, float)) and window > 0)
        ):
            raise PluginError(f"{where}: signing.timestamp and a positive window go together")
        return cls(
            credentials=creds,
            carriers=_parts(data.get("carriers", []), f"{where}: signing.carriers"),
            signed=_parts(data.get("signed", []), f"{where}: signing.signed"),
            timestamp=timestamp,
            window=None if window is None else float(window),
            endpoints={
                k: _parts(v, f"{where}: signing.endpoints.{k}") for k, v in endpoints.items()
            },
        )


class Catalog(Mapping[str, Endpoint]):
    """An immutable, name-keyed set of endpoints."""

    __slots__ = ("_by_name", "services", "signing", "vendor")

    def __init__(
        self,
        vendor: str,
        endpoints: Iterable[Endpoint],
        services: Mapping[str, str] | None = None,
        signing: Signing | None = None,
    ) -> None:
        self.vendor = vendor
        #: what the vendor checks on requests that are not public (None: not declared)
        self.signing = signing
        #: service name -> the profile option holding its base URL ("": ``base_url``)
        self.services: Mapping[str, str] = MappingProxyType(
            dict(services) if services is not None else {"default": ""}
        )
        by_name: dict[str, Endpoint] = {}
        routes: set[tuple[str, str, str]] = set()
        for ep in endpoints:
            if ep.name in by_name:
                raise PluginError(f"{vendor}: endpoint {ep.name!r} defined twice")
            if ep.service not in self.services:
                raise PluginError(f"{vendor}: {ep.name} names unknown service {ep.service!r}")
            route = (ep.service, ep.method, ep.route)
            if route in routes:
                raise PluginError(f"{vendor}: route {ep.method} {route[2]} defined twice")
            routes.add(route)
            by_name[ep.name] = ep
        self._by_name = by_name
        unknown = sorted(set(signing.endpoints) - by_name.keys()) if signing else []
        if unknown:
            raise PluginError(f"{vendor}: signing names unknown endpoint {unknown[0]!r}")

    @classmethod
    def load(
        cls,
        package: str,
        resource: str = "catalog.json",
        *,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Catalog:
        """The catalog in ``package``'s data file (see :func:`load_catalog`)."""
        return load_catalog(package, resource, overrides=overrides)

    def evolve(self, overrides: Mapping[str, Mapping[str, Any]]) -> Catalog:
        """A copy with some endpoints' attributes replaced: ``{name: {attr: value}}``."""
        unknown = sorted(set(overrides) - self._by_name.keys())
        if unknown:
            raise PluginError(f"{self.vendor}: no endpoint named {', '.join(unknown)}")
        return Catalog(
            self.vendor,
            [
                attrs.evolve(ep, **overrides[name]) if name in overrides else ep
                for name, ep in self._by_name.items()
            ],
            services=self.services,
            signing=self.signing,
        )

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


def one_of(*choices: Any, message: str | None = None) -> Rule:
    allowed = {str(c) for c in choices}
    problem = message or f"must be one of {', '.join(sorted(allowed))}"

    def rule(value: Any) -> str | None:
        return None if str(value) in allowed else problem

    return rule


def max_len(n: int, message: str | None = None) -> Rule:
    def rule(value: Any) -> str | None:
        return None if len(str(value)) <= n else message or f"at most {n} characters"

    return rule


def int_range(lo: int, hi: int, message: str | None = None) -> Rule:
    """An integer (an int, or its plain digits) in [lo, hi]; ``message`` replaces
    the rule's own texts."""

    def rule(value: Any) -> str | None:
        try:
            v = int(str(value))
        except ValueError:
            return message or "must be an integer"
        if str(v) != str(value).strip() and not isinstance(value, int):
            return message or "must be an integer"
        return None if lo <= v <= hi else message or f"must be between {lo} and {hi}"

    return rule


def money(
    places: int,
    *,
    positive: bool = True,
    max_value: str | None = None,
    message: str | None = None,
) -> Rule:
    """A decimal amount read by :func:`brokerport.types.parse_money`: ASCII digits,
    an optional sign and one point (or an int / Decimal, never a float), at most
    ``places`` decimals, positive unless told, below ``max_value`` (default 1e18);
    ``message`` replaces the rule's own texts.

    Rejects rather than rounds. The rule's ``canonical`` gives the parsed
    amount's wire text; the pipeline sends that, never the host's spelling.
    """
    from .types import DEFAULT_MONEY_MAX, canonical_money, parse_money

    bound = DEFAULT_MONEY_MAX if max_value is None else Decimal(max_value)

    def parse(value: Any) -> Decimal:
        return parse_money(value, places=places, positive=positive, max_value=bound)

    def rule(value: Any) -> str | None:
        try:
            parse(value)
        except TypeError:
            return message or "must be a decimal amount (str or Decimal, never float)"
        except ValueError as exc:
            return message or str(exc)
        return None

    def canonical(value: Any) -> str:
        return canonical_money(parse(value))

    rule.canonical = canonical  # type: ignore[attr-defined]
    return rule


__all__ += ["int_range", "max_len", "money", "one_of", "pattern"]


# ------------------------------------------------------------ catalog data files

#: (package, resource) -> the catalog read from it: each data file is read once.
_LOADED: dict[tuple[str, str], Catalog] = {}

#: Endpoint keys of a catalog file, in the order the builder writes them.
ENDPOINT_KEYS = (
    "name",
    "method",
    "path",
    "version",
    "service",
    "auth",
    "body",
    "strict",
    "idempotent",
    "idempotency_param",
    "cost",
    "rate_limit",
    "check",
    "reconcile",
    "tags",
    "sensitive_response",
    "doc",
    "params",
)
#: Parameter keys, in the order the builder writes them.
PARAM_KEYS = ("name", "in", "type", "required", "sensitive", "rules", "doc")
_ENDPOINT_KEYS = frozenset(ENDPOINT_KEYS)
_PARAM_KEYS = frozenset(PARAM_KEYS)
_RATE_KEYS = frozenset({"count", "per", "group", "margin"})
_DOCUMENT_KEYS = frozenset(
    {"generated", "vendor", "rules_module", "services", "signing", "endpoints", "quirks"}
    | {"source"}
)
_SIGNING_KEYS = frozenset({"credentials", "carriers", "signed", "timestamp", "window"}) | {
    "endpoints"
}
_LOCATIONS = frozenset({"path", "query", "body", "header"})
PARAM_TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object"})
#: rule kind -> the number of arguments it takes (min, max); every kind but
#: ``named`` may end with its own MESSAGE (``pattern`` must)
RULE_KINDS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "pattern": (2, 2),
        "one_of": (1, 2),
        "max_len": (1, 2),
        "int_range": (2, 3),
        "money": (1, 4),
        "named": (1, 1),
    }
)


def load_catalog(
    package: str,
    resource: str = "catalog.json",
    *,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Catalog:
    """The catalog in a plugin's generated data file, read once per process.

    ``package`` is the plugin's import package (``"brokerport_okx"``); the file is
    read with :mod:`importlib.resources`, so it works from a wheel or a zip.
    ``overrides`` (``{endpoint name: {attribute: value}}``) gives a copy with some
    endpoint attributes replaced (a profile option such as OKX's
    ``oauth_token_path``); the file is still read only once.
    """
    key = (package, resource)
    catalog = _LOADED.get(key)
    if catalog is None:
        import json
        from importlib.resources import files

        source = f"{package}/{resource}"
        try:
            text = files(package).joinpath(resource).read_text(encoding="utf-8")
            document = json.loads(text)
        except (OSError, ValueError, ModuleNotFoundError) as exc:
            raise PluginError(f"cannot read catalog {source}: {exc}") from exc
        catalog = catalog_from_data(document, source=source)
        _LOADED[key] = catalog
    return catalog.evolve(overrides) if overrides else catalog


def catalog_from_data(document: Mapping[str, Any], *, source: str = "<catalog>") -> Catalog:
    """Build a :class:`Catalog` from a catalog document (docs/catalog-format.md).

    Resolves every rule and ``check`` (named ones from the document's
    ``rules_module``, imported here) and raises PluginError naming the file and
    the endpoint on anything it does not understand.
    """
    if not isinstance(document, Mapping):
        raise PluginError(f"{source}: a catalog is a JSON object")
    _no_unknown(document, _DOCUMENT_KEYS, source)
    vendor = document.get("vendor")
    if not isinstance(vendor, str) or not vendor:
        raise PluginError(f"{source}: no vendor")
    resolver = _Resolver(source, document.get("rules_module"))
    endpoints = document.get("endpoints")
    if not isinstance(endpoints, list):
        raise PluginError(f"{source}: endpoints must be a list")
    built = [_endpoint_from_data(e, resolver, source) for e in endpoints]
    services = document.get("services", {"default": ""})
    if not isinstance(services, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in services.items()
    ):
        raise PluginError(f"{source}: services maps a name to a profile option name")
    signing = document.get("signing")
    if signing is not None:
        signing = Signing.from_data(signing, source)
    return Catalog(vendor, built, services=services, signing=signing)


class _Resolver:
    """Turns rule and check names into functions; equal rules share one function."""

    def __init__(self, source: str, module_name: object) -> None:
        if module_name is not None and not isinstance(module_name, str):
            raise PluginError(f"{source}: rules_module must be a module name")
        self.source = source
        self.module_name = module_name
        self._module: Any = None
        self._rules: dict[str, Rule] = {}

    def function(self, name: object, where: str) -> Callable[..., Any]:
        if not isinstance(name, str):
            raise PluginError(f"{self.source}: {where}: a function name is a string")
        if self.module_name is None:
            raise PluginError(f"{self.source}: {where} names {name!r} but there is no rules_module")
        if self._module is None:
            import importlib

            self._module = importlib.import_module(self.module_name)
        fn = getattr(self._module, name, None)
        if not callable(fn):
            raise PluginError(
                f"{self.source}: {where}: {self.module_name} has no function {name!r}"
            )
        return fn  # type: ignore[no-any-return]

    def rule(self, spec: object, where: str) -> Rule:
        import json

        if not isinstance(spec, list) or not spec or not isinstance(spec[0], str):
            raise PluginError(f"{self.source}: {where}: a rule is a list [KIND, ARGS...]")
        key = json.dumps(spec)
        found = self._rules.get(key)
        if found is None:
            found = self._rules[key] = self._make(spec[0], spec[1:], where)
        return found

    def _make(self, kind: str, args: list[Any], where: str) -> Rule:
        arity = RULE_KINDS.get(kind)
        if arity is None:
            raise PluginError(f"{self.source}: {where}: unknown rule {kind!r}")
        if not arity[0] <= len(args) <= arity[1]:
            raise PluginError(f"{self.source}: {where}: bad arguments for {kind}: {args!r}")
        try:
            message: str | None = None
            if kind in _MESSAGE_AT and len(args) == _MESSAGE_AT[kind] + 1:
                *args, message = args
                if not isinstance(message, str):
                    raise TypeError("the last argument, the message, is text")
            if kind == "pattern":
                regex, message = args
                if not (isinstance(regex, str) and isinstance(message, str)):
                    raise TypeError("pattern takes REGEX, MESSAGE")
                return pattern(regex, message)
            if kind == "one_of":
                (choices,) = args
                if not isinstance(choices, list) or not choices:
                    raise TypeError("one_of takes a non-empty list")
                return one_of(*choices, message=message)
            if kind == "max_len":
                (n,) = args
                return max_len(_int(n), message)
            if kind == "int_range":
                lo, hi = args
                return int_range(_int(lo), _int(hi), message)
            if kind == "money":
                positive = args[1] if len(args) > 1 else True
                if not isinstance(positive, bool):
                    raise TypeError("money's second argument is true or false")
                bound = args[2] if len(args) > 2 else None
                if bound is not None:
                    if not isinstance(bound, str):
                        raise TypeError("money's third argument is the bound, as text")
                    try:
                        Decimal(bound)
                    except ArithmeticError:
                        raise TypeError(f"money's bound {bound!r} is not a number") from None
                return money(_int(args[0]), positive=positive, max_value=bound, message=message)
            fn: Rule = self.function(args[0], where)
            return fn
        except (TypeError, re.error) as exc:
            raise PluginError(f"{self.source}: {where}: bad rule {kind}: {exc}") from None

    def check(self, spec: object, where: str) -> Callable[[Mapping[str, Any]], str | None]:
        """A whole-request check: a function name, or a list of check kinds
        (``[["any_of", "ordId", "clOrdId"], ...]``, the first problem wins)."""
        if isinstance(spec, str):
            return self.function(spec, where)
        if not isinstance(spec, list) or not spec:
            raise PluginError(f"{self.source}: {where}: a function name or a list of checks")
        checks = [self._check(c, where) for c in spec]
        return lambda params: next(filter(None, (c(params) for c in checks)), None)

    def _check(self, spec: object, where: str) -> Callable[[Mapping[str, Any]], str | None]:
        if not isinstance(spec, list) or not spec or spec[0] not in CHECK_KINDS:
            kinds = ", ".join(CHECK_KINDS)
            raise PluginError(f"{self.source}: {where}: a check is [KIND, NAME...] ({kinds})")
        kind, *names = spec
        opts: Mapping[str, Any] = names.pop() if names and isinstance(names[-1], Mapping) else {}
        if kind == "named":
            return self.function(names[0] if len(names) == 1 else None, where)
        unknown = set(opts) - {"when", "why", "message"}
        low, high = CHECK_KINDS[kind]
        if unknown or not all(isinstance(n, str) for n in names) or not low <= len(names) <= high:
            raise PluginError(f"{self.source}: {where}: bad check {spec!r}")
        when = {
            k: {str(x) for x in (v if isinstance(v, list) else [v])}
            for k, v in opts.get("when", {}).items()
        }
        either = " or ".join(names)
        default = {
            "any_of": f"{either} is required{opts.get('why', '')}",
            "one_of_required": f"{either} is required{opts.get('why', '')}",
            "not_both": f"give {either}, not both",
            "requires": f"{' and '.join(names[1:])} must be given with {names[0]}",
            "ordered": f"{names[0]} must not be after {names[-1]}",
        }[kind]
        message = opts.get("message", default)

        def check(params: Mapping[str, Any]) -> str | None:
            if any(str(params.get(k)) not in v for k, v in when.items()):
                return None
            given = [n for n in names if params.get(n) is not None and params.get(n) != ""]
            bad = {
                "any_of": not given,
                "one_of_required": len(given) != 1,
                "not_both": len(given) > 1,
                "requires": names[0] in given and len(given) < len(names),
                "ordered": len(given) == 2 and str(params[names[0]]) > str(params[names[1]]),
            }[kind]
            if kind == "one_of_required" and given:
                message_now = f"give {either}, not both"
            else:
                message_now = message
            return message_now.format_map(_Params(params)) if bad else None

        return check


#: whole-request check kind -> how many parameter names it takes (docs/catalog-format.md)
CHECK_KINDS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "named": (1, 1),
        "any_of": (1, 99),
        "one_of_required": (2, 99),
        "not_both": (2, 99),
        "requires": (2, 99),
        "ordered": (2, 2),
    }
)


class _Params(dict[str, Any]):
    """A check's message ``{name}``s: the request's values (absent: empty)."""

    def __missing__(self, key: str) -> str:
        return ""


#: rule kind -> how many arguments come before an optional trailing MESSAGE
_MESSAGE_AT = {"one_of": 1, "max_len": 1, "int_range": 2, "money": 3}


def _int(value: object) -> int:
    if type(value) is not int:
        raise TypeError(f"{value!r} is not an integer")
    return value


def _no_unknown(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise PluginError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _endpoint_from_data(data: object, resolver: _Resolver, source: str) -> Endpoint:
    if not isinstance(data, Mapping):
        raise PluginError(f"{source}: an endpoint is an object")
    name = data.get("name")
    where = f"{source}: {name}"
    _no_unknown(data, _ENDPOINT_KEYS, where)
    kw: dict[str, Any] = {k: v for k, v in data.items() if k not in ("name", "method", "path")}
    params = []
    for p in kw.pop("params", ()):
        if not isinstance(p, Mapping):
            raise PluginError(f"{where}: a parameter is an object")
        pwhere = f"{where}: {p.get('name')}"
        _no_unknown(p, _PARAM_KEYS, pwhere)
        location = p.get("in", "body")
        if location not in _LOCATIONS:
            raise PluginError(f"{pwhere}: unknown location {location!r}")
        kind = p.get("type", "string")
        if kind not in PARAM_TYPES:
            raise PluginError(f"{pwhere}: unknown type {kind!r}")
        params.append(
            Param(
                p["name"],
                location,
                required=bool(p.get("required", False)),
                rules=tuple(resolver.rule(r, pwhere) for r in p.get("rules", ())),
                sensitive=bool(p.get("sensitive", False)),
                doc=p.get("doc", ""),
                type=kind,
            )
        )
    kw["params"] = tuple(params)
    limit = kw.pop("rate_limit", None)
    if limit is not None:
        if not isinstance(limit, Mapping):
            raise PluginError(f"{where}: rate_limit is an object")
        _no_unknown(limit, _RATE_KEYS, f"{where}: rate_limit")
        kw["rate_limit"] = RateLimit(**limit)
    if "check" in kw:
        kw["check"] = resolver.check(kw["check"], f"{where}: check")
    for key in ("tags", "sensitive_response"):
        if key in kw:
            kw[key] = frozenset(kw[key])
    try:
        return Endpoint(name, data.get("method"), data.get("path"), **kw)  # type: ignore[arg-type]
    except (TypeError, AttributeError) as exc:
        raise PluginError(f"{where}: {exc}") from None


__all__ += ["catalog_from_data", "load_catalog"]
