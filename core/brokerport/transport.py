"""Transports: the settings, aiohttp's, MockTransport for tests (the httpx way).

The default transport is :class:`brokerport.http1.Http1Transport`
(:meth:`TransportSettings.transport` picks it, or aiohttp's when a proxy is
set or ``engine = "aiohttp"``).

A transport sends one :class:`PreparedRequest` and returns a
:class:`RawResponse`, or raises :class:`TransportFailure` saying whether the
request may have reached the vendor (``maybe_sent``). The pipeline decides
from that, and from the endpoint's idempotency, whether to retry or to raise
``UnknownOutcome``. No aiohttp exception leaves this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .signing import PreparedRequest

if TYPE_CHECKING:
    import aiohttp

    from .errors import BrokerportError
    from .proxy import ProxySettings
    from .tls import TLSSettings

__all__ = [
    "AiohttpTransport",
    "MockTransport",
    "RawResponse",
    "Transport",
    "TransportFailure",
    "TransportSettings",
]


USER_AGENT = "brokerport/0.1.0"
#: The largest answer read: past it the body is cut at this size plus one byte,
#: and the pipeline reports it as unreadable (DecodeError / UnknownOutcome).
MAX_ANSWER_BYTES = 16 * 1024 * 1024


class RawResponse:
    """What came back: status, headers, and the body bytes, unparsed."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"RawResponse(status={self.status}, {len(self.body)} bytes)"


class TransportFailure(Exception):
    """The request did not produce a response.

    ``kind`` is ``"connect"`` (never sent), ``"timeout"`` or ``"disconnect"``
    (may have been sent and acted upon).
    """

    def __init__(self, kind: Literal["connect", "timeout", "disconnect"], detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail

    @property
    def maybe_sent(self) -> bool:
        return self.kind != "connect"


@attrs.frozen(slots=True)
class TransportSettings:
    """Timeouts, the connection pool, proxy and TLS of one client (all its ports).

    A profile carries its own (``[vendor.name.transport]``, ``.proxy``, ``.tls``);
    ``connect(..., transport_settings=...)`` overrides them. Defaults below.
    """

    #: Whole-request deadline, seconds.
    total_timeout: float = 30.0
    #: Deadline for getting a connection (pool wait, proxy tunnel, TLS handshake).
    connect_timeout: float = 10.0
    #: Socket read deadline, seconds.
    read_timeout: float = 30.0
    #: Connection pool: at most this many open connections, per host too.
    limit: int = 100
    limit_per_host: int = 64
    #: Seconds an idle pooled connection is kept for reuse.
    keepalive_timeout: float = 15.0
    #: Tunnel every connection through this proxy (None: direct).
    proxy: ProxySettings | None = None
    #: CA bundle, client certificate... (None: system trust, no client certificate).
    tls: TLSSettings | None = None
    #: "vendor.profile", for messages and the one-time TLS warning.
    owner: str = attrs.field(default="", eq=False)
    #: Answers larger than this are not read past it (and are DecodeError).
    max_answer_bytes: int = MAX_ANSWER_BYTES
    #: "auto": brokerport's HTTP/1.1 transport (:mod:`brokerport.http1`), aiohttp when
    #: a proxy is set; "aiohttp": aiohttp's ClientSession for every request.
    engine: Literal["auto", "aiohttp"] = attrs.field(
        default="auto", validator=attrs.validators.in_(("auto", "aiohttp"))
    )

    def transport(self) -> Transport:
        """A new transport for these settings."""
        if self.engine == "aiohttp" or self.proxy is not None:
            return AiohttpTransport(self)
        from .http1 import Http1Transport

        return Http1Transport(self)


class Transport:
    #: Set by :meth:`aclose`: a closed transport sends nothing more.
    closed: bool = False

    async def send(self, request: PreparedRequest) -> RawResponse:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release connections."""


class AiohttpTransport(Transport):
    """One ``aiohttp.ClientSession`` per client, explicit ``ClientTimeout``."""

    def __init__(self, settings: TransportSettings | None = None) -> None:
        self.settings = settings or TransportSettings()
        self._session: aiohttp.ClientSession | None = None
        self._url: Any = None
        self.closed = False

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        if self.closed:
            # a call racing aclose() must not open a session nobody will close
            raise TransportFailure("connect", "the client is closed")
        from yarl import URL

        s = self.settings
        ssl_: Any = True if s.tls is None else s.tls.ssl_context(s.owner)
        connector = (
            s.proxy.connector(s, ssl_)
            if s.proxy is not None
            else aiohttp.TCPConnector(
                limit=s.limit,
                limit_per_host=s.limit_per_host,
                keepalive_timeout=s.keepalive_timeout,
                ssl=ssl_,
            )
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=s.total_timeout,
                connect=s.connect_timeout,
                # a read deadline no shorter than the whole request's can never fire
                # first: not set, so no timer is re-armed on every chunk received
                sock_read=s.read_timeout if s.read_timeout < s.total_timeout else None,
            ),
            # no cookies: every request carries exactly the credentials we signed
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"User-Agent": USER_AGENT},
            auto_decompress=True,
            raise_for_status=False,
        )
        # aiohttp re-sends a GET/PUT/DELETE once by itself when a kept-alive
        # connection drops: unsigned anew, unseen by the retry budget and hooks.
        # Every attempt on the wire must be one the pipeline made.
        if hasattr(self._session, "_retry_connection"):
            self._session._retry_connection = False
        # resolved once here, not per request: `import brokerport` stays free of aiohttp
        self._url = URL
        return self._session

    def session(self) -> aiohttp.ClientSession:
        """This transport's aiohttp session (websocket streams use it too)."""
        return self._session or self._open()

    async def send(self, request: PreparedRequest) -> RawResponse:
        session = self._session or self._open()
        try:
            # encoded=True: yarl must not re-quote the path or query we signed
            q = request.query  # request.url, without two property calls
            url = self._url(
                f"{request.base_url}{request.path}?{q}" if q else request.base_url + request.path,
                encoded=True,
            )
        except ValueError:
            raise TransportFailure("connect", "invalid URL: check the profile's base_url") from None
        try:
            # awaited directly, not `async with`: three fewer coroutines per request;
            # the finally does what ClientResponse.__aexit__ does
            resp = await session.request(
                request.method,
                url,
                data=request.body,
                headers=request.headers,
                allow_redirects=False,
            )
            try:
                length = resp.content_length
                if length is not None and length <= self.settings.max_answer_bytes:
                    body = await resp.read()
                else:
                    body = await _read_bounded(resp, self.settings.max_answer_bytes)
            finally:
                resp.release()
                await resp.wait_for_close()
            return RawResponse(resp.status, resp.headers, body)
        except Exception as exc:
            failure = _failure(exc)
            if failure is None:
                raise
            raise failure from None

    async def aclose(self) -> None:
        self.closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


async def _read_bounded(resp: Any, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of the body: one byte past says "too large"."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = await resp.content.read(min(65536, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _failure(exc: Exception) -> TransportFailure | BrokerportError | None:
    """What an aiohttp / socket exception means for the pipeline (None: not ours).

    TLS and proxy-credential refusals are typed errors of their own, not
    retried: sending again cannot succeed, and nothing was sent.
    """
    import aiohttp

    from .proxy import ProxyConnectFailure

    if isinstance(exc, aiohttp.ClientSSLError):
        from .errors import TLSError

        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            cert = exc.certificate_error
            why = getattr(cert, "verify_message", None) or getattr(cert, "reason", None)
            return TLSError(f"the vendor's TLS certificate was refused: {why or cert}")
        return TLSError(f"TLS handshake failed: {getattr(exc, 'reason', None) or exc}")
    if isinstance(exc, ProxyConnectFailure):
        if exc.auth:
            from .errors import ProxyError

            return ProxyError(f"{exc.detail} (check the proxy credentials)", http_status=exc.status)
        return TransportFailure("connect", exc.detail)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        # raised only while getting a connection: nothing was sent
        return TransportFailure("connect", "timed out connecting")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransportFailure("connect", f"cannot connect: {exc.os_error}")
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        # refused before anything was sent: safe to report as never sent
        return TransportFailure("connect", "invalid URL: check the profile's base_url")
    if isinstance(exc, (TimeoutError, aiohttp.ServerTimeoutError)):
        return TransportFailure("timeout", "timed out waiting for the vendor")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return TransportFailure("disconnect", "response body cut short")
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        return TransportFailure("disconnect", f"connection lost: {type(exc).__name__}")
    if isinstance(exc, ValueError):
        # aiohttp refuses a malformed request (e.g. a header with CR/LF) before sending
        return TransportFailure("connect", f"request refused: {type(exc).__name__}")
    return None


Handler = Callable[[PreparedRequest], Awaitable[RawResponse] | RawResponse]


class MockTransport(Transport):
    """Calls ``handler`` instead of the network; records every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[PreparedRequest] = []

    async def send(self, request: PreparedRequest) -> RawResponse:
        snapshot = PreparedRequest(
            request.method,
            request.base_url,
            request.path,
            request.query,
            dict(request.headers),
            request.body,
            request.endpoint,
        )
        self.requests.append(snapshot)
        result: Any = self.handler(snapshot)
        import asyncio  # test transport only; listing plugins must not load asyncio

        if asyncio.iscoroutine(result):
            result = await result
        assert isinstance(result, RawResponse)
        return result
