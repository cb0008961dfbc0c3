"""What a vendor plugin provides: the :class:`Adapter`.

An adapter is only vendor-specific data and small functions: its endpoint
catalog, signer, envelope decoder, error map, converter and port classes. The
core pipeline does everything else (validation, hooks, limiting, retries,
transport, structuring).

Importing an adapter class must stay cheap: ``brokerport plugins`` reads
``name``, ``version``, ``operations`` and ``extensions`` from the class without
connecting. Import heavy vendor dependencies inside methods, and name port and
extension classes as ``"module:Class"`` strings: they (and the models they
use) are imported when a client opens (:meth:`Adapter.resolve`). The error map
is built on first use (:meth:`Adapter.build_error_map`).

This module itself imports only the errors, the port table and the small value
types: the catalog, the signers and the transport (and attrs with them) load
when a client needs them. ``Endpoint`` and ``RawResponse`` are still importable
from here (resolved on first use).
"""

from __future__ import annotations

import importlib
import json
import operator
import os
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import quote

from .errors import (
    AuthenticationError,
    BrokerportError,
    DecodeError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PluginError,
    RateLimited,
    VendorUnavailable,
)
from .ports import OPERATION_NAMES, PORTS, Extension, Port
from .types import PreparedRequest, Secret

if TYPE_CHECKING:
    import cattrs

    from .catalog import Catalog, Endpoint
    from .client import Client
    from .pipeline import Call
    from .profile import Profile
    from .signing import Signer
    from .transport import RawResponse

__all__ = [
    "Adapter",
    "Endpoint",
    "ErrorMap",
    "PreparedRequest",
    "RawResponse",
    "VendorFault",
    "declare",
    "encode_value",
    "parse_json",
]


#: exported names defined in modules this one does not import (attrs-based: the
#: catalog, the transport), resolved on first use
_ELSEWHERE = {"Endpoint": "catalog", "RawResponse": "transport"}


def __getattr__(name: str) -> Any:
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __package__), name)
    globals()[name] = value
    return value


def declare(**ports: str) -> frozenset[str]:
    """Declared operations, port by port: ``declare(keys="create list")`` is
    ``frozenset({"keys.create", "keys.list"})`` (an adapter's ``operations``)."""
    return frozenset(f"{port}.{op}" for port, ops in ports.items() for op in ops.split())


class VendorFault(Exception):
    """Raised by a decoder for a vendor error envelope; the error map types it."""

    def __init__(
        self,
        code: str | None,
        message: str = "",
        *,
        http_status: int | None = None,
        data: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = None if code is None else str(code)
        self.message = message
        self.http_status = http_status
        self.data = data
        self.retry_after = retry_after


class ErrorMap:
    """Vendor code -> brokerport error class, with HTTP-status fallbacks."""

    DEFAULT_BY_STATUS: ClassVar[Mapping[int, type[BrokerportError]]] = {
        400: InvalidRequest,
        401: AuthenticationError,
        403: PermissionDenied,
        404: NotFound,
        429: RateLimited,
    }

    def __init__(
        self,
        codes: Mapping[str, type[BrokerportError]],
        *,
        by_status: Mapping[int, type[BrokerportError]] | None = None,
        default: type[BrokerportError] = BrokerportError,
        families: Mapping[str, type[BrokerportError]] | None = None,
    ) -> None:
        self.codes = {str(k): v for k, v in codes.items()}
        self.by_status = {**self.DEFAULT_BY_STATUS, **(by_status or {})}
        self.default = default
        #: code prefix -> class for codes not listed (longest prefix first)
        self.families = dict(sorted((families or {}).items(), key=lambda kv: -len(kv[0])))

    def classify(self, code: str | None, http_status: int | None) -> type[BrokerportError]:
        if code is not None:
            if code in self.codes:
                return self.codes[code]
            for prefix, cls in self.families.items():
                if code.startswith(prefix):
                    return cls
        if http_status is not None:
            if http_status in self.by_status:
                return self.by_status[http_status]
            if http_status >= 500:
                return VendorUnavailable
        return self.default

    def with_codes(self, text: str, *, vendor: str) -> ErrorMap:
        """A copy with the codes of a profile's ``error_codes`` option on top:
        ``"CODE=ClassName,CODE2=ClassName"`` naming :mod:`brokerport.errors` classes.
        Anything else is InvalidRequest, never silently ignored."""
        from . import errors as error_module

        codes = dict(self.codes)
        for item in filter(str.strip, text.split(",")):
            code, sep, name = (part.strip() for part in item.partition("="))
            cls = getattr(error_module, name, None)
            if not (sep and code and isinstance(cls, type) and issubclass(cls, BrokerportError)):
                raise InvalidRequest(
                    f"{vendor} option error_codes: cannot read {item.strip()!r} (want "
                    "CODE=ClassName, ClassName a brokerport error such as Conflict)",
                    vendor=vendor,
                )
            codes[code] = cls
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.codes = codes
        return copy

    def error(self, fault: VendorFault, *, vendor: str, endpoint: str) -> BrokerportError:
        cls = self.classify(fault.code, fault.http_status)
        kw: dict[str, Any] = {
            "vendor": vendor,
            "vendor_code": fault.code,
            "vendor_message": fault.message,
            "http_status": fault.http_status,
            "endpoint": endpoint,
        }
        if issubclass(cls, RateLimited):
            kw["retry_after"] = fault.retry_after
        return cls(fault.message or f"{vendor} error {fault.code}", **kw)


def _no_constant(name: str) -> Any:
    # NaN / Infinity are not JSON and would slip in as floats
    raise ValueError(f"non-JSON constant {name}")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant)
# JSONDecoder.decode without its two Python frames (hot path: one per response)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
#: always matches (possibly empty): the typed wrapper spares a None check per call
_BLANK = cast("Callable[[str, int], re.Match[str]]", re.compile(r"[ \t\n\r]*").match)


#: Text that ``quote(text, safe="")`` leaves as it is (RFC 3986 unreserved).
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*").fullmatch


def encode_query(pairs: list[tuple[str, str]]) -> str:
    """``k=v&...`` percent-encoded exactly once (RFC 3986 unreserved kept)."""
    u = _UNRESERVED
    return "&".join(
        [f"{k if u(k) else quote(k, safe='')}={v if u(v) else quote(v, safe='')}" for k, v in pairs]
    )


#: The deepest nesting of arrays and objects read in an answer; deeper is DecodeError
#: (vendors nest a few levels: a bound keeps every later walk off the stack limit).
MAX_ANSWER_DEPTH = 64


def _too_deep(body: bytes, limit: int) -> bool:
    """Whether the JSON text nests deeper than ``limit`` (strings skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # C-speed counts settle nearly every answer
    depth = 0
    for m in _STRUCTURE(body):
        tok = m.group()
        if tok in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif tok in (b"]", b"}"):
            depth -= 1
    return False


#: brackets, and strings (skipped whole, escapes included)
_STRUCTURE = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S).finditer


def parse_json(response: RawResponse, *, vendor: str | None = None) -> Any:
    """Decode a JSON body with every number as Decimal. Raises DecodeError.

    Answers nesting deeper than :data:`MAX_ANSWER_DEPTH` are refused before
    they are parsed (the transport and the pipeline bound their size)."""
    body = response.body
    if not body:
        raise DecodeError("empty response body", vendor=vendor, http_status=response.status)
    if _too_deep(body, MAX_ANSWER_DEPTH):
        raise DecodeError(
            f"the vendor's answer nests deeper than {MAX_ANSWER_DEPTH} levels",
            vendor=vendor,
            http_status=response.status,
        )
    try:
        text = body.decode()
        doc, end = _SCAN(text, _BLANK(text, 0).end())
        if _BLANK(text, end).end() == len(text):
            return doc
    except (ValueError, StopIteration, RecursionError):  # UnicodeDecodeError is a ValueError
        pass
    kind = "an HTML page" if body.lstrip()[:1] == b"<" else "malformed JSON"
    raise DecodeError(
        f"the vendor sent {kind} (HTTP {response.status})",
        vendor=vendor,
        http_status=response.status,
    )


def encode_value(value: Any) -> str:
    """A parameter value as wire text: Decimal exact, bools lower-case, Secrets revealed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        raise InvalidRequest("floats are not accepted; use Decimal or str")
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Secret):  # brokerport.signing.reveal_all, without importing it
        return value.reveal()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    return json.dumps(
        value, default=_json_default, separators=(",", ":"), ensure_ascii=False
    ).encode()


class _ClassErrorMap:
    """``Adapter.error_map`` unless a class assigns one: its :meth:`Adapter.build_error_map`,
    built on first read and kept on that class."""

    def __get__(self, obj: object, owner: type[Adapter]) -> ErrorMap:
        built: ErrorMap | None = owner.__dict__.get("_error_map")
        if built is None:
            built = owner._error_map = owner.build_error_map()
        return built


class Adapter:
    """Base class of vendor adapters (see the plugin-author guide)."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "0"
    description: ClassVar[str] = ""
    #: Declared capabilities: ``"port.operation"`` names.
    operations: ClassVar[frozenset[str]] = frozenset()
    #: Port name -> implementation class, or its ``"module:Class"`` name (imported
    #: when a client opens, not when plugins are listed: see :meth:`resolve`).
    ports: ClassVar[Mapping[str, type[Port] | str]] = {}
    #: Namespaced extension name -> class, or its ``"module:Class"`` name.
    extensions: ClassVar[Mapping[str, type[Extension] | str]] = {}
    #: this class's resolved ports and extensions, keyed by the mappings they came from
    _resolved: ClassVar[Resolved | None] = None
    if TYPE_CHECKING:
        #: Vendor code -> error class. Built on first use by :meth:`build_error_map`
        #: (so listing plugins imports no error table); a class may assign one instead.
        error_map: ClassVar[ErrorMap]
    else:
        error_map = _ClassErrorMap()
    #: this class's error map, once built by :meth:`build_error_map`
    _error_map: ClassVar[ErrorMap | None] = None
    #: Name of this vendor's entry in ``brokerport.sandboxes`` (None: no sandbox).
    sandbox: ClassVar[str | None] = None
    #: This plugin's samples for the kit and the demo: ``"package:samples.toml"`` (a data
    #: file, see the plugin guide) or ``"module:Class"`` of a
    #: :class:`brokerport.testing.samples.Samples`; loaded only by the demo and the kit.
    samples: ClassVar[str | None] = None
    #: Write endpoint -> its reconciliation lookup, an async
    #: ``(client, OutboxEntry) -> Reconciliation`` or its ``"module:function"``
    #: name (see :mod:`brokerport.reconcile`); used by ``client.reconcile``.
    reconcilers: ClassVar[Mapping[str, Any]] = {}
    #: Write endpoint -> the vendor code refusing a repeated idempotency key
    #: (OKX place_order: "51016"). Such a write whose answer was lost is looked
    #: up and, when not applied, sent again with the same key (re-signed); the
    #: duplicate refusal resolves to the original result. Needs a reconciler.
    deduplicates: ClassVar[Mapping[str, str]] = {}

    _catalog: ClassVar[Catalog | None] = None
    #: the profile's base URL, once read (see ``base_url``)
    _base_url: str = ""
    #: service -> base URL, once read (see ``base_url_for``)
    _base_urls: dict[str, str]

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        cls._catalog = None
        if cls.name:
            cls.check_definition()

    @classmethod
    def check_definition(cls) -> None:
        """What needs only names, at class creation; raises PluginError.

        Ports must be core ports, declared operations must be operations of a
        port the adapter lists, and ``"module:Class"`` names must be well formed.
        Classes given as classes are checked in full here; classes given by
        name when they are resolved (:meth:`resolve`), so that defining an
        adapter imports none of them.
        """
        for port_name, impl in cls.ports.items():
            if port_name not in OPERATION_NAMES:
                raise PluginError(f"{cls.name}: unknown port {port_name!r}")
            if isinstance(impl, str):
                _split_ref(cls.name, f"port {port_name!r}", impl)
        for op in sorted(cls.operations):
            port_name, _, method = op.partition(".")
            if method not in OPERATION_NAMES.get(port_name, ()):
                raise PluginError(f"{cls.name}: declares unknown operation {op!r}")
            if port_name not in cls.ports:
                raise PluginError(f"{cls.name}: declares {op!r} but does not implement it")
        for ext_name, ext in cls.extensions.items():
            if isinstance(ext, str):
                _split_ref(cls.name, f"extension {ext_name!r}", ext)
        cls._check_classes(
            {k: v for k, v in cls.ports.items() if not isinstance(v, str)},
            {k: v for k, v in cls.extensions.items() if not isinstance(v, str)},
        )

    @classmethod
    def _check_classes(cls, ports: Mapping[str, object], extensions: Mapping[str, object]) -> None:
        """The checks that need the classes: subclassing, and declared operations overridden."""
        for port_name, impl in ports.items():
            base = PORTS.get(port_name)
            if base is None:
                raise PluginError(f"{cls.name}: unknown port {port_name!r}")
            if not (isinstance(impl, type) and issubclass(impl, base)):
                name = getattr(impl, "__name__", repr(impl))
                raise PluginError(f"{cls.name}: {name} must subclass {base.__name__}")
        for op in sorted(cls.operations):
            port_name, _, method = op.partition(".")
            found = ports.get(port_name)
            if found is None or method not in OPERATION_NAMES[port_name]:
                continue  # a missing port or an unknown operation is check_definition's
            if getattr(found, method) is getattr(PORTS[port_name], method):
                raise PluginError(f"{cls.name}: declares {op!r} but does not implement it")
        for ext_name, ext in extensions.items():
            if not (isinstance(ext, type) and issubclass(ext, Extension)):
                raise PluginError(f"{cls.name}: extension {ext_name!r} is not an Extension")

    @classmethod
    def resolve(cls) -> Resolved:
        """Import and check the port and extension classes; once per class (cached).

        Called when a client opens (and by ``client.ext``), by
        ``brokerport plugins --strict`` and by the conformance kit. A module or
        class that cannot be imported, a class that does not subclass its port,
        or a declared operation it does not implement raises PluginError.
        """
        source = (cls.ports, cls.extensions, cls.operations)
        done: Resolved | None = cls.__dict__.get("_resolved")
        if done is not None and all(map(operator.is_, done.source, source)):
            return done
        ports = {
            port_name: _import_ref(cls.name, f"port {port_name!r}", impl)
            for port_name, impl in cls.ports.items()
        }
        extensions = {
            ext_name: _import_ref(cls.name, f"extension {ext_name!r}", ext)
            for ext_name, ext in cls.extensions.items()
        }
        cls._check_classes(ports, extensions)
        done = Resolved(
            source,
            cast("dict[str, type[Port]]", ports),
            cast("dict[str, type[Extension]]", extensions),
        )
        cls._resolved = done
        return done

    # --------------------------------------------------------- class data

    @classmethod
    def build_catalog(cls) -> Catalog:
        raise NotImplementedError

    @classmethod
    def catalog(cls) -> Catalog:
        if cls._catalog is None:
            cls._catalog = cls.build_catalog()
        return cls._catalog

    @classmethod
    def build_error_map(cls) -> ErrorMap:
        """The class's :attr:`error_map`, built once, when first read (a client is
        made, ``brokerport plugins --strict``): import the error table here, not at
        module level. Not called when the class assigns ``error_map`` itself."""
        return ErrorMap({})

    # ------------------------------------------------------- per client

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        error_map = type(self).error_map  # built now, if not yet: a bad table fails here
        extra = profile.option("error_codes")
        if extra:  # per-client codes shadow the class map (the pipeline reads adapter.error_map)
            vars(self)["error_map"] = error_map.with_codes(extra, vendor=self.name)
        self._base_urls = {}

    def create_signer(self) -> Signer:
        from .signing import Signer

        return Signer()

    def create_converter(self) -> cattrs.Converter:
        from .convert import make_converter

        return make_converter()

    def hook_impls(self) -> list[object]:
        """Per-client hook implementations this vendor registers (replaceable by name)."""
        return []

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        """Envelope decoder: the payload, or raise VendorFault / DecodeError."""
        data = parse_json(response, vendor=self.name)
        if response.status >= 400:
            raise VendorFault(None, f"HTTP {response.status}", http_status=response.status)
        return data

    def attach(self, client: Client) -> None:
        """The client is open (its pipeline exists): keep it for sub-requests."""

    async def recover(self, error: BrokerportError, call: Call) -> bool:
        """One chance to repair state after ``error`` (e.g. resync the clock).

        Return True to have the pipeline sign and send the call once more.
        """
        return False

    def reconciler(self, endpoint: str) -> Any:
        """The lookup declared for ``endpoint`` (None: the vendor gives none)."""
        ref = type(self).reconcilers.get(endpoint)
        if ref is None:
            return None
        return _import_ref(self.name, f"reconcilers[{endpoint!r}]", ref)

    def mint_idempotency_key(self, endpoint: Endpoint) -> str:
        """A fresh client-side id, minted once per logical call."""
        return os.urandom(16).hex()  # secrets.token_hex(16), without importing secrets

    def build_request(
        self, endpoint: Endpoint, params: Mapping[str, Any], headers: Mapping[str, str]
    ) -> PreparedRequest:
        """Fix the exact bytes: path, query text and body, before any retry.

        The query text built here is what is signed, sent and journaled: the
        transport sends it as it is (no decode and re-encode). A list value of a
        query parameter goes out as repeated keys (``a=1&a=2``). A body is sent
        for every method but GET and HEAD when the endpoint has body parameters
        (DELETE included); POST/PUT/PATCH always carry one. An endpoint tagged
        ``array_body`` sends its one (array) body parameter as the whole JSON body.
        """
        query: list[str] = []  # "k=v" parts, percent-encoded once
        body: dict[str, Any] = {}
        out_headers = dict(headers)
        u = _UNRESERVED
        for name, wire in endpoint.query_params:
            value = params.get(name)
            if value is not None:
                if type(value) is str:
                    query.append(f"{wire}={value if u(value) else quote(value, safe='')}")
                elif isinstance(value, (list, tuple)):
                    for item in value:
                        v = encode_value(item)
                        query.append(f"{wire}={v if u(v) else quote(v, safe='')}")
                else:
                    v = encode_value(value)
                    query.append(f"{wire}={v if u(v) else quote(v, safe='')}")
        for name in endpoint.body_params:
            value = params.get(name)
            if value is not None:
                body[name] = value
        for name in endpoint.header_params:
            value = params.get(name)
            if value is not None:
                out_headers[name] = encode_value(value)
        method = endpoint.method
        if not endpoint.strict:
            names = endpoint.param_names
            extra = [(k, v) for k, v in params.items() if k not in names and v is not None]
            if method in ("GET", "DELETE", "HEAD"):
                query.extend(encode_query([(k, encode_value(v))]) for k, v in extra)
            else:
                body.update(extra)
        data: bytes | None = None
        if method not in ("GET", "HEAD") and (body or method != "DELETE"):
            if endpoint.body == "form":
                data = encode_query([(k, encode_value(v)) for k, v in body.items()]).encode()
                out_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            elif "array_body" in endpoint.tags:  # the one array parameter is the whole body
                data = dumps(body.get(endpoint.body_params[0]) or [])
                out_headers.setdefault("Content-Type", "application/json")
            else:
                data = dumps(body)
                out_headers.setdefault("Content-Type", "application/json")
        return PreparedRequest(
            method,
            self.base_url_for(endpoint.service),
            endpoint.render_path(params),
            "&".join(query),
            out_headers,
            data,
            endpoint.name,
        )

    def base_url_for(self, service: str) -> str:
        """The base URL of one of the catalog's services (read from the profile once)."""
        url = self._base_urls.get(service)
        if url is None:
            option = "" if service == "default" else self.catalog().services.get(service, "")
            url = (self.profile.option(option) if option else None) or self.base_url
            url = self._base_urls[service] = url.rstrip("/")
        return url

    def endpoint(self, name: str) -> Endpoint:
        """The catalog's endpoint as this profile uses it (``path_versions`` applied)."""
        endpoint = self.catalog()[name]
        version = self._path_versions.get(name)
        if version and version != endpoint.version:
            import attrs

            if not endpoint.version:
                raise PluginError(f"{self.name}: {name} has no path version to set")
            endpoint = attrs.evolve(endpoint, version=version)
        return endpoint

    @property
    def _path_versions(self) -> Mapping[str, str]:
        """Profile option ``path_versions``: ``"name=v1,other=v2"``."""
        raw = self.profile.option("path_versions")
        if not raw:
            return {}
        out: dict[str, str] = {}
        for part in raw.split(","):
            name, sep, version = part.partition("=")
            if not sep or not name.strip() or not version.strip():
                raise InvalidRequest(
                    f"{self.name}: profile option path_versions wants name=version pairs",
                    vendor=self.name,
                )
            out[name.strip()] = version.strip()
        return out

    @property
    def base_url(self) -> str:
        url = self.profile.base_url
        if not url:
            raise PluginError(f"{self.name}: no base_url in profile")
        self._base_url = url.rstrip("/")
        return self._base_url

    # ---------------------------------------------------------- summary

    @classmethod
    def describe(cls) -> dict[str, Any]:
        ports: dict[str, list[str]] = {}
        for op in sorted(cls.operations):
            port, _, method = op.partition(".")
            ports.setdefault(port, []).append(method)
        return {
            "name": cls.name,
            "version": cls.version,
            "ports": ports,
            "extensions": sorted(cls.extensions),
        }

    def ports_for(self, client: Client) -> dict[str, Port]:
        from .ports import gate

        impls = self.resolve().ports
        out: dict[str, Port] = {}
        for port_name, base in PORTS.items():
            impl: type[Port] = impls.get(port_name) or base
            out[port_name] = gate(impl(client), self.operations, self.name)
        return out


class Resolved:
    """An adapter class's port and extension classes, imported and checked."""

    __slots__ = ("extensions", "ports", "source")

    def __init__(
        self,
        source: tuple[object, object, object],
        ports: dict[str, type[Port]],
        extensions: dict[str, type[Extension]],
    ) -> None:
        #: the (ports, extensions, operations) they were resolved from: a class whose
        #: attributes are replaced later (a test's monkeypatch) resolves again
        self.source = source
        self.ports: Mapping[str, type[Port]] = ports
        self.extensions: Mapping[str, type[Extension]] = extensions


def _split_ref(adapter: str, what: str, ref: str) -> tuple[str, str]:
    module, sep, qualname = ref.partition(":")
    if not (sep and module and qualname):
        raise PluginError(f"{adapter}: {what} must name a class as 'module:Class', not {ref!r}")
    return module, qualname


def _import_ref(adapter: str, what: str, ref: object) -> object:
    """``ref`` itself, or the object its ``"module:Class"`` name names; raises PluginError."""
    if not isinstance(ref, str):
        return ref
    module, qualname = _split_ref(adapter, what, ref)
    try:
        obj: object = importlib.import_module(module)
    except Exception as exc:
        raise PluginError(
            f"{adapter}: {what}: cannot import {module!r} ({type(exc).__name__}: {exc})",
            vendor=adapter or None,
        ) from exc
    for attr in qualname.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise PluginError(
                f"{adapter}: {what}: module {module!r} has no {qualname!r}", vendor=adapter or None
            ) from None
    return obj
