"""The sandbox server: a vendor's protocol in process, driven by its catalog data.

A plugin subclasses :class:`Sandbox` and gives it the same catalog the client
uses, the vendor's :class:`~brokerport.wire.Envelope` and
:class:`~brokerport.wire.ErrorTable`, and the vendor codes of the toolkit's own
refusals (``codes``). The toolkit then

* routes **every** catalog endpoint (method, path and service from the data; an
  operation the vendor serves at more than one path, e.g. two path versions, at
  each of its :meth:`Sandbox.routes`);
* parses each request's parameters where the catalog puts them (query, path,
  header, JSON or form body; a JSON-array body for endpoints tagged
  ``array_body``) and validates them with the very rules the client checks
  (:meth:`Endpoint.validate`), answering failures with the vendor's code;
* answers unknown paths and wrong methods the way the vendor does (its
  envelope and status, never aiohttp's plain text);
* serves read-only reference data from declared :class:`Fixture` data, so a
  plugin writes handlers (``@handles("name")``) only for what changes state;
* turns a handler's return value into the success envelope and a raised
  :class:`Reject` into the error envelope with the table's status and message
  (the endpoint's own envelope, :meth:`Sandbox.envelope_of`, where a vendor's
  operations answer in variants of it);
* keeps the :class:`~brokerport.sandbox.kit.Journal`, the clock, the fault
  plan and the catalog's rate limits.

Signatures are the plugin's :meth:`Sandbox.authenticate`: its own code written
from the vendor's document, never a call into the client's signer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from importlib import resources
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qsl

import attrs
from aiohttp import web

from ..catalog import Catalog, Endpoint
from ..errors import BrokerportError, InvalidRequest
from ..profile import Profile
from ..ratelimit import SlidingWindow
from ..wire import Envelope, ErrorTable
from .kit import (
    Fault,
    FaultPlan,
    Journal,
    JournalEntry,
    SandboxClock,
    json_response,
)
from .push import PushHub

log = logging.getLogger("brokerport.sandbox")

__all__ = ["BODY", "JOURNAL_ENTRY", "Fixture", "Reject", "Sandbox", "handles"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

BODY = web.RequestKey("brokerport_body", bytes)
JOURNAL_ENTRY = web.RequestKey("brokerport_journal", JournalEntry)

_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>"
)


class Reject(Exception):
    """A refusal in the vendor's words: ``code`` (looked up in the error table for
    status and message, ``args`` filling its ``{0}``...), or an explicit
    ``status`` / ``message``; ``data`` goes in the envelope; ``rejected`` marks the
    journal entry (``"auth"``, ``"signature"``) for the conformance kit; ``headers``
    are sent with the answer."""

    def __init__(
        self,
        code: str,
        *args: object,
        message: str | None = None,
        status: int | None = None,
        data: Any = None,
        rejected: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message or ''}")
        self.code, self.args_, self.message = code, args, message
        self.status, self.data, self.rejected, self.headers = status, data, rejected, headers

    @classmethod
    def absent(cls, value: T | None, code: str, *args: object, **kw: Any) -> T:
        """``value`` itself; raise when it is None (``Reject.absent(found, "404")``)."""
        if value is None:
            raise cls(code, *args, **kw)
        return value

    @classmethod
    def when(cls, condition: object, code: str, *args: object, **kw: Any) -> None:
        """``Reject.when(condition, code, *args)``: raise when the condition holds."""
        if condition:
            raise cls(code, *args, **kw)


def handles(*endpoints: str) -> Callable[[F], F]:
    """Mark a method ``(self, request, params) -> data`` as the handler of endpoints."""

    def mark(fn: F) -> F:
        before = getattr(fn, "__sandbox_endpoints__", ())  # stacked @handles add up
        fn.__sandbox_endpoints__ = (*endpoints, *before)  # type: ignore[attr-defined]
        return fn

    return mark


@attrs.frozen(slots=True)
class Fixture:
    """Reference data answered as it is: the list at ``key`` of the sandbox's
    fixture data, keeping items whose fields equal the request's ``match``
    parameters (a comma-separated value matches any of its parts)."""

    key: str
    match: tuple[str, ...] = ()


class _Dropped(Exception):
    pass


class Sandbox:
    """Base of every vendor sandbox. See the module docstring."""

    vendor: ClassVar[str] = ""
    #: the vendor's envelope and error table (shared with the adapter's decoder)
    envelope: ClassVar[Envelope | None] = None
    errors: ClassVar[ErrorTable | None] = None
    #: vendor codes of the toolkit's refusals: ``missing`` / ``invalid`` (a parameter;
    #: ``{0}`` is its name), ``check`` (a whole-request rule), ``not_json``,
    #: ``empty_body``, ``content_type``, ``not_found`` / ``method`` (unknown path /
    #: wrong method), ``rate_limited``, ``server_error``. Unlisted: not checked
    #: (``empty_body``, ``content_type``) or a plain JSON answer. ``"<endpoint>:<kind>"``
    #: and ``"<kind>:<field>"`` keys refine them (see :meth:`refusal`).
    codes: ClassVar[Mapping[str, str]] = {}
    #: endpoint -> fixture answered from :meth:`fixture_data`
    fixtures: ClassVar[Mapping[str, Fixture]] = {}
    #: (package, resource) of a JSON file holding the fixture data
    fixture_file: ClassVar[tuple[str, str] | None] = None
    #: refuse parameters the endpoint does not declare (most vendors ignore them)
    strict: ClassVar[bool] = False

    def __init__(
        self,
        catalog: Catalog,
        *,
        clock: SandboxClock | None = None,
        enforce_rate_limits: bool = True,
        seed: int | None = None,
    ) -> None:
        self.catalog = catalog
        self.clock = clock or SandboxClock()
        self.journal = Journal()
        self.faults = FaultPlan()
        self.enforce_rate_limits = enforce_rate_limits
        #: with a seed, generated keys and ids repeat from run to run
        self.random = random.Random(seed) if seed is not None else None
        self._windows: dict[str, SlidingWindow] = {}
        #: the clock the rate-limit windows count with; the conformance kit injects a
        #: virtual one (shared with the client's limiter) so long windows take no time
        self.monotonic: Callable[[], float] = time.monotonic
        self._handlers: dict[Handler, Endpoint] = {}
        self._routed: set[str] = set()
        self._inflight: set[asyncio.Transport] = set()
        self._sockets: dict[Handler, str] = {}
        #: the subscribed websockets and their push faults (see brokerport.sandbox.push)
        self.push = PushHub()
        self.app = web.Application(middlewares=[self._middleware], client_max_size=8 * 1024**2)
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None
        self._route_declared()

    @classmethod
    def factory(cls, **options: Any) -> Sandbox:
        """``create_sandbox(**options)`` for the ``brokerport.sandboxes`` entry point: a
        wrong option is a BrokerportError naming the vendor, not a TypeError."""
        try:
            return cls(**options)
        except TypeError as exc:
            raise BrokerportError(
                f"bad {cls.vendor} sandbox option: {exc}", vendor=cls.vendor
            ) from None

    # --------------------------------------------------------- routing

    def add_route(self, endpoint: str | Endpoint, handler: Handler) -> None:
        """Serve ``endpoint`` (a catalog name, or an :class:`Endpoint` the vendor serves
        outside its spec) at its :meth:`routes` with a raw aiohttp ``handler``;
        :meth:`serve` is the data-driven form."""
        if isinstance(endpoint, str):
            endpoint = self.catalog[endpoint]

        async def routed(request: web.Request) -> web.StreamResponse:
            return await handler(request)

        self._handlers[routed] = endpoint
        self._routed.add(endpoint.name)
        for path in self.routes(endpoint):
            self.app.router.add_route(endpoint.method, path, routed)

    def routes(self, endpoint: Endpoint) -> tuple[str, ...]:
        """The paths ``endpoint`` is served at: its catalog route, and more where the
        vendor serves it at several (another path version). Default: the route."""
        return (endpoint.route,)

    def add_websocket(self, path: str, handler: Handler) -> None:
        """Serve the vendor's websocket at ``path`` (GET, on the REST port) with an
        aiohttp ``handler``; journaled as endpoint ``"websocket:<path>"``, never
        refused as an unknown route. The handler authenticates as the vendor does."""

        async def socket(request: web.Request) -> web.StreamResponse:
            return await handler(request)

        self._sockets[socket] = path
        self.app.router.add_get(path, socket)

    def tick(self, n: int = 1) -> None:
        """Let the vendor's own time pass ``n`` steps (resting orders fill, ...): the
        sandbox's deterministic schedule. Default: nothing happens."""

    def serve(
        self, endpoint: str | Endpoint, fn: Callable[[web.Request, dict[str, Any]], Any]
    ) -> None:
        """Serve ``endpoint`` (as :meth:`add_route`) with ``fn(request, params) -> data``:
        parameters parsed and validated from the catalog, data wrapped in the endpoint's
        envelope (:meth:`envelope_of`), :class:`Reject` answered from the error table.
        ``fn`` may return a response of its own."""
        ep = self.catalog[endpoint] if isinstance(endpoint, str) else endpoint

        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                params = self.params_of(request, ep)
                self.validate(ep, params)
                result = fn(request, params)
                if inspect.isawaitable(result):
                    result = await result
            except Reject as rej:
                if rej.rejected:
                    self.mark_rejected(request, rej.rejected)
                return self.reject_response(rej, ep)
            if isinstance(result, web.StreamResponse):
                return result
            return self.answer(result, endpoint=ep)

        self.add_route(ep, handler)

    def _route_declared(self) -> None:
        seen: set[str] = set()
        for klass in type(self).__mro__:
            for attr, fn in vars(klass).items():
                if attr in seen:
                    continue
                seen.add(attr)
                for name in getattr(fn, "__sandbox_endpoints__", ()):
                    self.serve(name, getattr(self, attr))
        for name, fixture in self.fixtures.items():
            self.serve(name, functools.partial(self._fixture, fixture))

    def unrouted(self) -> list[str]:
        """Catalog endpoints with no handler (a faithful sandbox has none)."""
        return sorted(set(self.catalog) - self._routed)

    # -------------------------------------------------- parameters

    def params_of(self, request: web.Request, endpoint: Endpoint) -> dict[str, Any]:
        """Every parameter where the catalog puts it: query (an ``array`` one as a
        list), body (JSON numbers as Decimal, or a form), header and path. A header or
        path parameter is read from there, whatever a body field of its name says."""
        params = self.query_of(request, endpoint)
        if endpoint.method not in ("GET", "HEAD"):
            params.update(self._body_params(request, endpoint))
        for name in endpoint.header_params:
            if name in request.headers:
                params[name] = request.headers[name]
        params.update(request.match_info)
        return params

    def query_of(self, request: web.Request, endpoint: Endpoint) -> dict[str, Any]:
        """The query's parameters, decoded: an ``array`` one as a list, any other
        repeated one its first value (override where the vendor reads another)."""
        arrays = {p.name for p in endpoint.params if p.type == "array"}
        query = request.query
        return {k: (query.getall(k) if k in arrays else query[k]) for k in query}

    def _body_params(self, request: web.Request, endpoint: Endpoint) -> Mapping[str, Any]:
        body = request[BODY]
        ctype = request.content_type.lower()
        if endpoint.body == "form":
            if "content_type" in self.codes and ctype != "application/x-www-form-urlencoded":
                raise self.refusal(endpoint, "content_type", "Content-Type")
            try:  # strict: a vendor's form parser refuses bytes that are not UTF-8
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise self.refusal(endpoint, "not_form", "", "the body is not UTF-8") from None
            return dict(parse_qsl(text, keep_blank_values=True))
        if not body:
            if "empty_body" in self.codes and endpoint.method == "POST":
                raise self.refusal(endpoint, "empty_body", "")
            return {}
        if "content_type" in self.codes and ctype != "application/json":
            raise self.refusal(endpoint, "content_type", "Content-Type")
        parsed = self.json_of(request)
        if "array_body" in endpoint.tags and isinstance(parsed, list):
            parsed = {endpoint.body_params[0]: parsed}
        if not isinstance(parsed, dict):
            raise self.refusal(endpoint, "not_json", "")
        return parsed

    def validate(self, endpoint: Endpoint, params: Mapping[str, Any]) -> None:
        """The client's own checks (:meth:`Endpoint.validate`), as vendor refusals."""
        known = (
            params
            if self.strict
            else {k: v for k, v in params.items() if k in endpoint.param_names}
        )
        try:
            endpoint.validate(known, vendor=self.vendor)
        except InvalidRequest as exc:
            field = exc.field
            if field is None:
                kind = "check"
            elif known.get(field) in (None, "") and field in endpoint.param_names:
                kind = "missing"
            else:
                kind = "invalid"
            raise self.refusal(endpoint, kind, field or "", exc.message) from None

    def refusal(self, endpoint: Endpoint, kind: str, field: str, detail: str = "") -> Reject:
        """The vendor's answer to a request the toolkit refuses: the code ``codes`` gives
        for ``"<endpoint>:<kind>"``, else ``"<kind>:<field>"``, else ``kind`` (else
        ``invalid``); a ``{0}`` in its message is the parameter (a whole-request check's
        message starts with the parameter it is about), else the message is the detail."""
        keys = (f"{endpoint.name}:{kind}", f"{kind}:{field}", kind, "invalid")
        code = next((self.codes[k] for k in keys if k in self.codes), "invalid")
        template = self.errors.message(code) if self.errors else ""
        if "{0}" in template:
            return Reject(code, field if kind != "check" else (detail.split() or [""])[0])
        return Reject(code, message=detail or template or f"{kind} {field}".strip())

    # ---------------------------------------------------- answers

    def envelope_of(self, endpoint: Endpoint | None) -> Envelope | None:
        """The envelope of ``endpoint``'s answers and refusals (None: the toolkit's own
        answers: authentication, rate limits, faults, unknown paths). Default: the
        vendor's one ``envelope``; a vendor whose operations answer in variants of it
        gives each its own."""
        return self.envelope

    def answer(
        self, data: Any, status: int = 200, endpoint: Endpoint | None = None
    ) -> web.Response:
        """The success envelope (of ``endpoint``) around ``data``."""
        envelope = self.envelope_of(endpoint)
        return json_response(envelope.wrap(data) if envelope else data, status=status)

    def reject_response(self, rej: Reject, endpoint: Endpoint | None = None) -> web.Response:
        """The error envelope (of ``endpoint``) for ``rej``: status and message from the
        error table unless the refusal gives its own."""
        table, envelope = self.errors, self.envelope_of(endpoint)
        status = rej.status or (table.status(rej.code) if table else 400)
        message = (
            rej.message
            if rej.message is not None
            else (table.message(rej.code, *rej.args_) if table else rej.code)
        )
        doc = (
            envelope.fail(rej.code, message, rej.data)
            if envelope
            else {"error": rej.code, "message": message}
        )
        return json_response(doc, status=status, headers=rej.headers)

    def fail(self, code: str, *args: object, **kw: Any) -> web.Response:
        """The vendor's error answer for ``code`` (a response, for non-handler code)."""
        return self.reject_response(Reject(code, *args, **kw))

    def _fixture(self, fixture: Fixture, _request: web.Request, params: Mapping[str, Any]) -> Any:
        return self.from_fixture(fixture, params)

    def from_fixture(self, fixture: Fixture, params: Mapping[str, Any]) -> Any:
        items = self.fixture_data()[fixture.key]
        for name in fixture.match:
            wanted = params.get(name)
            if wanted not in (None, ""):
                choices = set(str(wanted).split(","))
                items = [i for i in items if str(i.get(name)) in choices]
        return items

    _fixture_cache: ClassVar[dict[tuple[str, str], Any]] = {}

    def fixture_data(self) -> Mapping[str, Any]:
        """The JSON file named by ``fixture_file`` (numbers as Decimal), read once."""
        if self.fixture_file is None:
            return {}
        cached = Sandbox._fixture_cache.get(self.fixture_file)
        if cached is None:
            package, resource = self.fixture_file
            text = resources.files(package).joinpath(resource).read_text("utf-8")
            cached = Sandbox._fixture_cache[self.fixture_file] = json.loads(
                text, parse_float=Decimal
            )
        return cached  # type: ignore[no-any-return]

    # ----------------------------------------------------- to override

    def credentials(self) -> dict[str, str]:
        """Credentials a client needs to talk to this sandbox (safe to print)."""
        return {}

    def credential_sets(self) -> dict[str, dict[str, str]]:
        """Every set of credentials the sandbox accepts (``brokerport sandbox`` prints
        them all); the first is :meth:`credentials`."""
        return {"default": self.credentials()}

    def identifiers(self) -> dict[str, str]:
        """Ids a client needs besides credentials (broker code, user ids, ...)."""
        return {}

    def profile_options(self) -> dict[str, str]:
        """Profile options a client of this sandbox defaults to (e.g. a server id)."""
        return {}

    def authenticate(
        self, request: web.Request, endpoint: Endpoint, body: bytes
    ) -> web.StreamResponse | None:
        """Verify auth headers / signature; a response rejects the request. Raising
        :class:`Reject` does the same through the error table."""
        return None

    def serves(self, request: web.Request, endpoint: Endpoint) -> bool:
        """Whether the host the request reached serves ``endpoint`` (its catalog
        ``service``); one that does not answers as for an unknown path. Default: all."""
        return True

    def rate_limit_key(self, request: web.Request, endpoint: Endpoint) -> str:
        """Who the vendor counts a request against (API key, user id, tenant)."""
        return ""

    def rate_limited(self, endpoint: Endpoint) -> web.StreamResponse:
        """The vendor's own rate-limit answer."""
        if "rate_limited" in self.codes:
            return self.fail(self.codes["rate_limited"])
        return web.json_response({"error": "too many requests"}, status=429)

    def server_error(self, status: int) -> web.StreamResponse:
        """The vendor's own answer to an internal failure (used by ``status`` faults)."""
        if "server_error" in self.codes:
            return self.fail(self.codes["server_error"], status=status)
        return web.json_response({"error": "internal error"}, status=status)

    def unknown_route(self, request: web.Request, status: int) -> web.StreamResponse:
        """An unknown path (404) or a wrong method (405), in the vendor's words."""
        kind = "not_found" if status == 404 else "method"
        if kind in self.codes:
            return self.fail(self.codes[kind], request.path, status=status)
        reason = "Not Found" if status == 404 else "Method Not Allowed"
        return web.json_response({"error": reason}, status=status)

    def reset(self) -> None:
        """Forget all state: subclasses clear theirs and call this."""
        self.journal.clear()
        self.faults.clear()
        self.push.faults.clear()
        self._windows.clear()

    # ------------------------------------------------------ for handlers

    def token_hex(self, n: int = 16) -> str:
        """Random hex (repeatable with a ``seed``)."""
        if self.random is None:
            return secrets.token_hex(n)
        return self.random.randbytes(n).hex()

    def effect(self, request: web.Request, result: T) -> T:
        """Mark the request as having changed state (:meth:`mark_effect`); ``result``."""
        self.mark_effect(request)
        return result

    def mark_effect(self, request: web.Request) -> None:
        """A handler that changed state calls this (the journal counts effects)."""
        entry = request.get(JOURNAL_ENTRY)
        if entry is not None:
            entry.effect = True

    def mark_rejected(self, request: web.Request, reason: str = "auth") -> None:
        """A handler that refused a request for its signature or credentials says so
        (authenticate() rejections are marked automatically)."""
        entry = request.get(JOURNAL_ENTRY)
        if entry is not None:
            entry.rejected = reason

    @staticmethod
    def endpoint_of(request: web.Request) -> str:
        """The catalog name of the endpoint a request reached (one handler, several)."""
        return request[JOURNAL_ENTRY].endpoint or ""

    @staticmethod
    def body_of(request: web.Request) -> bytes:
        return request[BODY]

    @staticmethod
    def json_of(request: web.Request) -> Any:
        """The JSON body with Decimal numbers, or None if it is not JSON."""
        body = request[BODY]
        if not body:
            return {}
        try:
            return json.loads(body, parse_float=Decimal)
        except ValueError:
            return None

    def profile(self, name: str = "sandbox", **options: str) -> Profile:
        if self.base_url is None:
            raise RuntimeError("sandbox not started")
        return Profile(
            vendor=self.vendor,
            name=name,
            base_url=self.base_url,
            credentials=self.credentials(),
            options={**self.profile_options(), **options},
        )

    # ------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._runner is not None:
            assert self.base_url is not None
            return self.base_url
        runner = web.AppRunner(
            self.app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=0.5,
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_address=True)
        await site.start()
        self._runner = runner
        sock_host, sock_port = runner.addresses[0][:2]
        self.base_url = f"http://{sock_host}:{sock_port}"
        return self.base_url

    async def stop(self) -> None:
        """Stop serving; connections with a request in flight are closed, not left open."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            self.push.close_all()
            for transport in list(self._inflight):
                transport.abort()
            self._inflight.clear()
            await runner.cleanup()
        self.base_url = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------ the middleware

    def _check_rate(self, request: web.Request, endpoint: Endpoint) -> bool:
        limit = endpoint.rate_limit
        if limit is None or not self.enforce_rate_limits:
            return True
        key = f"{self.rate_limit_key(request, endpoint)}|{limit.group or endpoint.name}"
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = SlidingWindow(limit.count, limit.per)
        now = self.monotonic()
        if window.delay(now) > 0:
            return False
        window.take(now)
        return True

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        transport = request.transport
        if transport is not None:
            self._inflight.add(transport)
        try:
            return await self._journaled(request, handler)
        finally:
            if transport is not None:
                self._inflight.discard(transport)

    async def _journaled(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        socket_path = self._sockets.get(request.match_info.handler)
        if socket_path is not None:
            return await self._socket(request, handler, socket_path)
        body = await request.read()
        request[BODY] = body
        endpoint = self._handlers.get(request.match_info.handler)
        if endpoint is not None and not self.serves(request, endpoint):
            endpoint = None  # another service's host: an unknown path here
        entry = JournalEntry(
            seq=len(self.journal.entries) + 1,
            at=self.clock.now(),
            method=request.method,
            path=request.path,
            query=request.rel_url.raw_query_string,
            headers=dict(request.headers),
            body=body,
            endpoint=endpoint.name if endpoint else None,
            raw_path=request.rel_url.raw_path,
        )
        self.journal.entries.append(entry)
        request[JOURNAL_ENTRY] = entry
        try:
            response = await self._serve(request, handler, endpoint, entry)
        except _Dropped:
            entry.status = None
            raise asyncio.CancelledError() from None
        except web.HTTPException as exc:
            entry.status = exc.status
            raise
        entry.status = response.status
        return response

    async def _socket(
        self, request: web.Request, handler: Handler, path: str
    ) -> web.StreamResponse:
        entry = JournalEntry(
            seq=len(self.journal.entries) + 1,
            at=self.clock.now(),
            method=request.method,
            path=request.path,
            query=request.rel_url.raw_query_string,
            headers=dict(request.headers),
            body=b"",
            endpoint=f"websocket:{path}",
            raw_path=request.rel_url.raw_path,
        )
        self.journal.entries.append(entry)
        request[JOURNAL_ENTRY] = entry
        response = await handler(request)
        entry.status = response.status
        return response

    async def _serve(
        self,
        request: web.Request,
        handler: Handler,
        endpoint: Endpoint | None,
        entry: JournalEntry,
    ) -> web.StreamResponse:
        fault = self.faults.pick(entry.endpoint)
        if fault is not None:
            entry.fault = fault.kind
            early = await self._fault_before(request, fault)
            if early is not None:
                return early
        if endpoint is None:
            error = request.match_info.http_exception
            return self.unknown_route(request, error.status if error is not None else 404)
        try:
            denied = self.authenticate(request, endpoint, entry.body)
        except Reject as rej:
            denied = self.reject_response(rej)
        if denied is not None:
            entry.rejected = "auth"
            return denied
        if not self._check_rate(request, endpoint):
            entry.rejected = "rate_limit"
            return self.rate_limited(endpoint)
        try:
            response = await handler(request)
        except (web.HTTPException, asyncio.CancelledError, _Dropped):
            raise
        except Exception:  # a handler bug still answers in the vendor's own shape
            log.exception("sandbox handler for %s failed", endpoint.name)
            entry.rejected = "server_error"
            return self.server_error(500)
        if fault is not None:
            return await self._fault_after(request, fault, response)
        return response

    async def _fault_before(self, request: web.Request, fault: Fault) -> web.StreamResponse | None:
        kind = fault.kind
        if kind == "latency":
            await asyncio.sleep(fault.delay or 0.1)
            return None
        if kind == "status":
            return self.server_error(fault.status or 503)
        if kind == "html":
            return web.Response(body=_HTML, status=fault.status or 502, content_type="text/html")
        if kind == "not_json":
            return web.Response(text="Service temporarily unavailable", status=fault.status or 200)
        if kind == "empty":
            return web.Response(body=b"", status=fault.status or 200)
        if kind == "reset":
            self._drop(request)
        if kind == "timeout" and not fault.after_effect:
            await asyncio.sleep(fault.delay or 5.0)
            self._drop(request)
        return None

    async def _fault_after(
        self, request: web.Request, fault: Fault, response: web.StreamResponse
    ) -> web.StreamResponse:
        kind = fault.kind
        if kind == "lost":
            self._drop(request)
        if kind == "timeout" and fault.after_effect:
            await asyncio.sleep(fault.delay or 5.0)
            self._drop(request)
        if kind == "truncate" and isinstance(response, web.Response) and response.body:
            raw = response.body
            data = raw if isinstance(raw, bytes) else str(raw).encode()
            return web.Response(
                body=data[: max(1, len(data) // 2)],
                status=response.status,
                content_type="application/json",
            )
        return response

    @staticmethod
    def _drop(request: web.Request) -> None:
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise _Dropped()


def coerce_options(factory: Callable[..., Any], options: Mapping[str, str]) -> dict[str, Any]:
    """Text options (``--option key=value``) typed by the defaults of the sandbox's
    keywords (``factory``'s, or for ``Sandbox.factory`` those of every ``__init__`` of
    its class, mixins' and the toolkit's included): bool (true/false/1/0), int, float,
    tuple (comma-separated), else str."""
    owner = getattr(factory, "__self__", None)
    functions = [factory]
    if isinstance(owner, type):
        functions = [vars(k)["__init__"] for k in owner.__mro__[:-1] if "__init__" in vars(k)]
    params: dict[str, inspect.Parameter] = {}
    for fn in reversed(functions):
        with contextlib.suppress(TypeError, ValueError):
            params |= inspect.signature(fn).parameters
    out: dict[str, Any] = {}
    for key, text in options.items():
        param = params.get(key)
        default = None if param is None else param.default
        if default is None and param is not None:  # ``int | None = None``: the annotation says
            hint = str(param.annotation)
            default = next((t() for t in (bool, int, float) if t.__name__ in hint), None)
        out[key] = _typed(text, default)
    return out


def _typed(text: str, default: Any) -> Any:
    if isinstance(default, bool):
        if text.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(f"not a boolean: {text!r}")
        return text.lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    if isinstance(default, tuple):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text
