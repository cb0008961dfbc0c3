"""The WhaleAPI gateway, in process: signature checks, routing and answers from data.

Built on the ``brokerport.sandbox`` toolkit (written against its predecessor; it
uses the toolkit's journal, clock, faults and factory, and routes and shapes answers
itself from the data below). What is data, not code:

* **routes**: every catalog endpoint at its path version (and the 12 operations
  the vendor moved to /v2 at both versions), from ``catalog.json``;
* **answers**: the envelope of each operation (``message``/``msg``,
  ``data``/``datas``, integer or string code, or none) and the example values of
  read-only operations that keep no state, from the spec's response schemas
  (``responses.json``, see :mod:`.spec`); a stateful handler returns only what
  it knows, and the rest of each required field is filled from the schema, so
  every answer of every operation validates against the spec;
* **input**: parameter placement and rules are the catalog's (checked by the
  same ``Endpoint.validate`` the client runs), answered with the vendor's 400.

The signature check is written from the vendor-docs README, independently of
the client's signer. State lives in :mod:`.state`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web
from brokerport.catalog import Endpoint
from brokerport.errors import InvalidRequest
from brokerport.ratelimit import SlidingWindow
from brokerport.sandbox import (
    JOURNAL_ENTRY,
    Sandbox,
    SandboxClock,
    json_response,
    verify_digest,
)

from ..catalog import MOVED_TO_V2
from ..wire import ENVELOPE, ERRORS
from . import spec

__all__ = ["Call", "Fail", "GatewayCore", "example", "fill"]

#: the access key id a request was signed with
KEY_ID = web.RequestKey("whale_key", str)
#: seconds a request timestamp may be off the sandbox clock (ASSUMPTION: not documented)
WINDOW = 60.0


class Fail(Exception):
    """A vendor refusal: ``{code, message, data}`` with an HTTP status (by default the
    one ``errors.toml`` lists for the code, shared with the client's decoder)."""

    def __init__(
        self, code: int, message: str, status: int | None = None, data: Any = None
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data
        self.status = status if status is not None else ERRORS.status(str(code))


class Call:
    """What a handler sees: the merged parameters and a way to mark an effect."""

    def __init__(self, request: web.Request, endpoint: Endpoint, params: dict[str, Any]) -> None:
        self.request = request
        self.endpoint = endpoint
        self.p = params
        self.key_id: str = request.get(KEY_ID, "")

    def __getitem__(self, name: str) -> Any:
        value = self.p.get(name)
        if value is None or value == "":
            raise Fail(400, f"{name} is required")
        return value

    def get(self, name: str, default: Any = None) -> Any:
        value = self.p.get(name)
        return default if value is None or value == "" else value

    def effect(self) -> None:
        entry = self.request.get(JOURNAL_ENTRY)
        if entry is not None:
            entry.effect = True


# ------------------------------------------------------------- schema data


_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
}


def example(schema: Any, hints: Mapping[str, Any] | None = None, key: str = "") -> Any:
    """A value of ``schema``: the first enum value, ``"0"`` / 0 / false, every property;
    a string property named like a request parameter echoes it."""
    if not isinstance(schema, dict):
        return {}
    kind = schema.get("type") or ("object" if "properties" in schema else "string")
    typed = [v for v in schema.get("enum") or () if isinstance(v, _TYPES.get(kind, object))]
    if typed:  # an enum whose values are not of the type (the spec has some) is ignored
        return typed[0]
    if kind == "object":
        return {k: example(v, hints, k) for k, v in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}), hints, key)]
    if kind == "string":
        hint = (hints or {}).get(key)
        return hint if isinstance(hint, str) and hint else "0"
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    return "0"


def fill(schema: Any, value: Any) -> Any:
    """``value`` with every required property the schema names and it lacks filled in
    (recursively); what the handler gave is kept."""
    if not isinstance(schema, dict):
        return value
    kind = schema.get("type") or ("object" if "properties" in schema else None)
    if kind == "object" and isinstance(value, dict):
        props = schema.get("properties") or {}
        out = dict(value)
        for name in schema.get("required") or ():
            if name not in out or out[name] is None:
                out[name] = example(props.get(name, {}), None, name)
        for name, sub in props.items():
            if name in out and out[name] is not None:
                out[name] = fill(sub, out[name])
        return out
    if kind == "array" and isinstance(value, list):
        return [fill(schema.get("items", {}), v) for v in value]
    return value


class Shape:
    """How one operation answers, read from its documented response schema."""

    def __init__(self, schemas: Mapping[str, Any]) -> None:
        ok = self.schema = schemas.get("200") or {}
        props = ok.get("properties") or {}
        self.bare = bool(props) and "code" not in props
        self.code_text = (props.get("code") or {}).get("type") == "string"
        self.message = "msg" if "msg" in props and "message" not in props else "message"
        self.data = "datas" if "datas" in props and "data" not in props else "data"
        self.data_schema: Any = ok if self.bare else props.get(self.data, {})
        bad = (schemas.get("400") or {}).get("properties") or {}
        self.error_code_text = (bad.get("code") or {}).get("type") == "string"
        self.error_message = "msg" if "msg" in bad and "message" not in bad else "message"

    def success(self, payload: Any) -> dict[str, Any]:
        if self.bare:
            return fill(self.data_schema, payload)  # type: ignore[no-any-return]
        data = fill(self.data_schema, {} if payload is None else payload)
        envelope = {"code": "0" if self.code_text else 0, self.message: "success", self.data: data}
        return fill(self.schema, envelope)  # type: ignore[no-any-return]  # top-level extras


# ------------------------------------------------------------- the gateway


class GatewayCore(Sandbox):
    """Routing, authentication, envelopes. :class:`~.state.WhaleSandbox` adds the state."""

    vendor = "whale"
    envelope = ENVELOPE
    errors = ERRORS
    #: the toolkit's own answers (unknown path or method, rate limit, faults) as codes
    codes: ClassVar[Mapping[str, str]] = {
        "not_found": "404", "method": "405", "rate_limited": "429002", "server_error": "500000",
    }  # fmt: skip
    #: endpoint name -> method name of the state handler
    HANDLERS: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        rate_limit: int | None = None,
        require_token: bool = True,
        token_invalid_status: int = 401,
    ) -> None:
        from ..adapter import WhaleAdapter

        super().__init__(WhaleAdapter.catalog(), clock=clock, enforce_rate_limits=False)
        self.schemas = spec.load()
        self.shapes = {name: Shape(s) for name, s in self.schemas.items()}
        self.require_token = require_token
        self.token_invalid_status = token_invalid_status
        self.rate_limit = rate_limit
        self._per_key: dict[str, SlidingWindow] = {}
        self.app_key, self.app_secret, self.access_token = "whale-app-key", "whale-app-secret", ""
        for name in self.catalog:
            self._route(self.catalog[name])

    # ---------------------------------------------------------- routing

    def _route(self, endpoint: Endpoint) -> None:
        async def routed(request: web.Request) -> web.StreamResponse:
            return await self._answer(request, endpoint)

        routes = [endpoint.route]
        if endpoint.name in MOVED_TO_V2:
            moved = (MOVED_TO_V2[endpoint.name] or endpoint.path).replace("{version}", "v2")
            routes.append(moved)
        for path in routes:
            handler = _copy(routed)
            self._handlers[handler] = endpoint
            self.app.router.add_route(endpoint.method, path, handler)
        self._routed.add(endpoint.name)

    async def _answer(self, request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
        shape = self.shapes[endpoint.name]
        if self.rate_limit and not self._take(request.get(KEY_ID, "")):
            entry = request.get(JOURNAL_ENTRY)
            if entry is not None:
                entry.rejected = "rate_limit"
            return self.rate_limited(endpoint)
        try:
            params = self._params(request, endpoint)
            try:
                endpoint.validate(params, vendor="whale")
            except InvalidRequest as exc:
                raise Fail(400, f"invalid params: {exc.message}") from None
            method = self.HANDLERS.get(endpoint.name)
            call = Call(request, endpoint, params)
            if method is None:  # read-only, stateless: the documented example
                payload = example(shape.data_schema, params)
            else:
                payload = getattr(self, method)(call)
            return json_response(shape.success(payload))
        except Fail as fail:
            code: int | str = str(fail.code) if shape.error_code_text else fail.code
            body = {"code": code, shape.error_message: fail.message, "data": fail.data or {}}
            return json_response(body, fail.status)

    @staticmethod
    def _params(request: web.Request, endpoint: Endpoint) -> dict[str, Any]:
        from urllib.parse import parse_qsl

        raw_query = request.raw_path.partition("?")[2]
        params: dict[str, Any] = dict(parse_qsl(raw_query, keep_blank_values=True))
        body = Sandbox.body_of(request)
        if body and request.method not in ("GET", "HEAD"):
            if endpoint.body == "form":
                params.update(parse_qsl(body.decode(), keep_blank_values=True))
            else:
                try:
                    doc = json.loads(body, parse_float=Decimal)
                except ValueError:
                    raise Fail(400, "invalid params: the body is not JSON") from None
                if not isinstance(doc, dict):
                    raise Fail(400, "invalid params: the body is not an object")
                params.update(doc)
        for name in endpoint.header_params:
            if name in request.headers:
                params[name] = request.headers[name]
        params.update(request.match_info)
        return params

    # ---------------------------------------------------------- answers

    def error(
        self, code: int | str, message: str, status: int | None = None, data: Any = None
    ) -> web.StreamResponse:
        """The gateway's refusal: the envelope and error table the decoder reads."""
        return self.fail(str(code), message=message, status=status, data=data)

    # ---------------------------------------------------------- auth

    def credentials(self) -> dict[str, str]:
        return {
            "app_key": self.app_key,
            "app_secret": self.app_secret,
            "access_token": self.access_token,
        }

    def key_record(self, key_id: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def authenticate(
        self, request: web.Request, endpoint: Endpoint, body: bytes
    ) -> web.StreamResponse | None:
        """As the gateway: key, signature over the raw query and body, timestamp, token,
        IP allow-list, rate limit (whale-endpoints.md §3-4)."""
        h = request.headers
        key = self.key_record(h.get("X-Api-Key", ""))
        if key is None or key["disable"]:
            return self.error(403203, "apikey illegal")
        sig = h.get("X-Api-Signature", "")
        names, _, given = sig.removeprefix("HMAC-SHA256 SignedHeaders=").partition(", Signature=")
        signed = names.split(";")
        if not sig.startswith("HMAC-SHA256 ") or not {"x-api-key", "x-timestamp"} <= set(signed):
            return self.error(403201, "signature invalid")
        path, _, query = request.raw_path.partition("?")
        values = "".join(f"{n}:{h.get(n, '')}\n" for n in signed)
        canonical = f"{request.method}|{path}|{query}|{values}|{names}|"
        if body:
            canonical += hashlib.sha1(body).hexdigest()
        to_sign = "HMAC-SHA256|" + hashlib.sha1(canonical.encode()).hexdigest()
        expected = hmac.new(key["secret"].encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not verify_digest(expected, given):
            return self.error(403201, "signature invalid")
        try:
            ts = float(h.get("X-Timestamp", ""))
        except ValueError:
            ts = 0.0
        if abs(self.clock.now() - ts) > WINDOW:
            return self.error(403201, "signature invalid: timestamp expired")
        token = h.get("Authorization") if "authorization" in signed else None
        if token is not None or self.require_token:
            refusal = self.check_token(key, token or "")
            if refusal is not None:
                return refusal
        nets = key.get("ip_whitelist") or []
        if nets and not _ip_allowed(request.remote or "", nets):
            return self.error(403305, "ip is not allowed")
        request[KEY_ID] = key["access_key_id"]
        return None

    def check_token(self, key: dict[str, Any], token: str) -> web.StreamResponse | None:
        record = next((t for t in key["tokens"] if t["token"] == token), None)
        if record is None or record["disable"]:
            return self.error(401004, "token invalid", self.token_invalid_status)
        if record["expires"] <= self.clock.now():
            return self.error(401003, "token expired")
        return None

    def _take(self, key: str) -> bool:
        window = self._per_key.get(key)
        if window is None:
            window = self._per_key[key] = SlidingWindow(self.rate_limit or 1, 1.0)
        now = time.monotonic()
        if window.delay(now) > 0:
            return False
        window.take(now)
        return True


def _ip_allowed(remote: str, nets: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(remote)
        return any(ip in ipaddress.ip_network(n, strict=False) for n in nets)
    except ValueError:
        return False


def _copy(fn: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
    """A distinct handler object per route (the toolkit maps handlers to endpoints)."""

    async def handler(request: web.Request) -> Any:
        return await fn(request)

    return handler
