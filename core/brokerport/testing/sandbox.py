"""Sandbox toolkit: build a vendor's in-process server as an aiohttp app.

A plugin subclasses :class:`Sandbox`, registers one handler per catalog
endpoint (method and path come from the catalog, so client and sandbox cannot
drift), and overrides :meth:`Sandbox.authenticate`, :meth:`Sandbox.rate_limited`
and :meth:`Sandbox.credentials`. The base class gives it:

* a request :class:`Journal` (every request, its exact bytes, whether it
  changed state) — what the conformance kit reads to prove "no request was
  sent" and "at most one effect per logical call";
* a deterministic :class:`SandboxClock`;
* rate-limit enforcement from the catalog's ``RateLimit`` data, answered
  with the vendor's own error;
* :class:`FaultPlan` fault injection per route and request count: latency,
  HTTP 5xx, connection reset, truncated / non-JSON / HTML bodies, the
  response lost after the effect was applied, and read timeouts.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Literal

import attrs
from aiohttp import web

from ..catalog import Catalog, Endpoint
from ..profile import Profile
from ..ratelimit import SlidingWindow
from ..signing import rsa_sha1_verify

__all__ = [
    "Fault",
    "FaultPlan",
    "Journal",
    "JournalEntry",
    "Sandbox",
    "SandboxClock",
    "dumps_json",
    "json_response",
    "rsa_sha1_verify",
    "verify_digest",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# ------------------------------------------------------------------ JSON


def dumps_json(obj: Any) -> bytes:
    """JSON with Decimals as bare numbers (as vendors send doubles), exact digits."""
    numbers: list[str] = []
    # a per-call nonce: a string value in the data can never look like a placeholder
    tag = secrets.token_hex(8)

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            numbers.append(format(value, "f"))
            return f"\x00{tag}:{len(numbers) - 1}\x00"
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    text = json.dumps(obj, default=default, ensure_ascii=False, separators=(",", ":"))
    if numbers:
        for i, num in enumerate(numbers):
            text = text.replace(f'"\\u0000{tag}:{i}\\u0000"', num, 1)
    return text.encode()


def json_response(
    obj: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=dumps_json(obj),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def verify_digest(expected: str | bytes, provided: str | bytes | None) -> bool:
    """Constant-time comparison of a computed signature with the one sent."""
    if provided is None:
        return False
    a = expected.encode() if isinstance(expected, str) else expected
    b = provided.encode() if isinstance(provided, str) else provided
    return hmac.compare_digest(a, b)


# ----------------------------------------------------------------- clock


class SandboxClock:
    """Wall-clock seconds, with an offset you can set, advance, or freeze."""

    def __init__(self, *, frozen_at: float | None = None) -> None:
        self._offset = 0.0
        self._frozen = frozen_at

    def now(self) -> float:
        return self._frozen if self._frozen is not None else time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if self._frozen is not None:
            self._frozen += seconds
        else:
            self._offset += seconds

    def freeze(self, at: float | None = None) -> None:
        self._frozen = self.now() if at is None else at

    def unfreeze(self) -> None:
        if self._frozen is not None:
            self._offset = self._frozen - time.time()
        self._frozen = None

    def reset(self) -> None:
        self._offset = 0.0
        self._frozen = None

    def now_ms(self) -> int:
        return int(self.now() * 1000)


# --------------------------------------------------------------- journal


@attrs.define(slots=True)
class JournalEntry:
    seq: int
    at: float
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    endpoint: str | None
    status: int | None = None
    effect: bool = False
    fault: str | None = None
    rejected: str | None = None


class Journal:
    """Every request the sandbox received, in order."""

    def __init__(self) -> None:
        self.entries: list[JournalEntry] = []

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def clear(self) -> None:
        self.entries.clear()

    def for_endpoint(self, endpoint: str) -> list[JournalEntry]:
        return [e for e in self.entries if e.endpoint == endpoint]

    def effects(self, endpoint: str | None = None) -> list[JournalEntry]:
        return [
            e for e in self.entries if e.effect and (endpoint is None or e.endpoint == endpoint)
        ]

    def rejections(self, reason: str | None = None) -> list[JournalEntry]:
        return [e for e in self.entries if e.rejected and (reason is None or e.rejected == reason)]

    def last(self) -> JournalEntry | None:
        return self.entries[-1] if self.entries else None


# ---------------------------------------------------------------- faults

FaultKind = Literal[
    "latency",
    "status",
    "reset",
    "truncate",
    "html",
    "not_json",
    "empty",
    "lost",
    "timeout",
]


@attrs.define(slots=True)
class Fault:
    """One injected failure.

    ``kind``:
      * ``latency`` — wait ``delay`` seconds, then answer normally;
      * ``status`` — answer HTTP ``status`` (default 503) with the sandbox's 5xx body;
      * ``html`` — answer ``status`` (default 502) with an HTML error page;
      * ``not_json`` / ``empty`` — answer 200 with a non-JSON / empty body;
      * ``reset`` — drop the connection without answering (before the handler);
      * ``truncate`` — run the handler, then send half of its body;
      * ``lost`` — run the handler (the effect is applied), then drop the connection;
      * ``timeout`` — hold the request for ``delay`` seconds (default 5) without
        answering; with ``after_effect`` the handler runs first.
    ``endpoint``: the catalog endpoint it applies to (None: every endpoint).
    ``skip``: let this many matching requests pass first. ``times``: how many
    to affect (-1: all).
    """

    kind: FaultKind
    endpoint: str | None = None
    times: int = 1
    skip: int = 0
    status: int | None = None
    delay: float | None = None
    after_effect: bool = False
    seen: int = 0
    fired: int = 0

    def matches(self, endpoint: str | None) -> bool:
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.times >= 0 and self.fired >= self.times:
            return False
        self.fired += 1
        return True


class FaultPlan:
    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, kind: FaultKind, endpoint: str | None = None, **kw: Any) -> Fault:
        fault = Fault(kind, endpoint, **kw)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def pick(self, endpoint: str | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(endpoint):
                return fault
        return None


BODY = web.RequestKey("brokerport_body", bytes)
JOURNAL_ENTRY = web.RequestKey("brokerport_journal", JournalEntry)

_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center></body></html>"
)


class _Dropped(Exception):
    pass


# --------------------------------------------------------------- sandbox


class Sandbox:
    """Base of every vendor sandbox. See the module docstring."""

    vendor: ClassVar[str] = ""

    def __init__(
        self,
        catalog: Catalog,
        *,
        clock: SandboxClock | None = None,
        enforce_rate_limits: bool = True,
    ) -> None:
        self.catalog = catalog
        self.clock = clock or SandboxClock()
        self.journal = Journal()
        self.faults = FaultPlan()
        self.enforce_rate_limits = enforce_rate_limits
        self._windows: dict[str, SlidingWindow] = {}
        self._handlers: dict[Handler, Endpoint] = {}
        self._routed: set[str] = set()
        self.app = web.Application(middlewares=[self._middleware], client_max_size=8 * 1024**2)
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None

    # --------------------------------------------------------- routing

    def add_route(self, endpoint_name: str, handler: Handler) -> None:
        """Serve ``endpoint_name`` (method and path from the catalog) with ``handler``."""
        endpoint = self.catalog[endpoint_name]

        async def routed(request: web.Request) -> web.StreamResponse:
            return await handler(request)

        self._handlers[routed] = endpoint
        self._routed.add(endpoint_name)
        self.app.router.add_route(endpoint.method, endpoint.path, routed)

    def unrouted(self) -> list[str]:
        """Catalog endpoints with no handler (a faithful sandbox has none)."""
        return sorted(set(self.catalog) - self._routed)

    # ----------------------------------------------------- to override

    def credentials(self) -> dict[str, str]:
        """Credentials a client needs to talk to this sandbox (safe to print)."""
        return {}

    def profile_options(self) -> dict[str, str]:
        """Profile options a client of this sandbox defaults to (e.g. a server id)."""
        return {}

    def authenticate(
        self, request: web.Request, endpoint: Endpoint, body: bytes
    ) -> web.StreamResponse | None:
        """Verify auth headers / signature; a response rejects the request."""
        return None

    def rate_limit_key(self, request: web.Request, endpoint: Endpoint) -> str:
        """Who the vendor counts a request against (API key, user id, tenant)."""
        return ""

    def rate_limited(self, endpoint: Endpoint) -> web.StreamResponse:
        """The vendor's own rate-limit answer."""
        return web.json_response({"error": "too many requests"}, status=429)

    def server_error(self, status: int) -> web.StreamResponse:
        """The vendor's own answer to an internal failure (used by ``status`` faults)."""
        return web.json_response({"error": "internal error"}, status=status)

    def reset(self) -> None:
        """Forget all state: subclasses clear theirs and call this."""
        self.journal.clear()
        self.faults.clear()
        self._windows.clear()

    # ------------------------------------------------------ for handlers

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
            options=options,
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
        if self._runner is not None:
            runner, self._runner = self._runner, None
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
        now = time.monotonic()
        if window.delay(now) > 0:
            return False
        window.take(now)
        return True

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        request[BODY] = body
        endpoint = self._handlers.get(request.match_info.handler)
        entry = JournalEntry(
            seq=len(self.journal.entries) + 1,
            at=self.clock.now(),
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers=dict(request.headers),
            body=body,
            endpoint=endpoint.name if endpoint else None,
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
            return await handler(request)  # aiohttp's own 404 / 405
        denied = self.authenticate(request, endpoint, entry.body)
        if denied is not None:
            entry.rejected = "auth"
            return denied
        if not self._check_rate(request, endpoint):
            entry.rejected = "rate_limit"
            return self.rate_limited(endpoint)
        response = await handler(request)
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
