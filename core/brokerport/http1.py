"""The default transport: HTTP/1.1 keep-alive connections on asyncio, parsed by httptools.

Why not aiohttp's ``ClientSession`` for every request: measured on the OKX
sandbox (``bench/compare.py``), its request machinery — header merging,
cookie filtering, tracing, timers, redirects, the response object and its
stream reader — costs ~60 µs of CPU per call, more than the whole brokerport
pipeline around it. A vendor call needs none of that: the pipeline already
holds the exact bytes to send (it signed them), never follows redirects,
keeps no cookies and reads whole, bounded answers. This transport writes
those bytes on a pooled connection and parses the answer with httptools
(llhttp, the parser of Node.js and of aiohttp itself, in C), at about a third
of the CPU per call.

aiohttp stays the transport where its features are needed: a profile with a
proxy (HTTP CONNECT / SOCKS5 tunnels), ``engine = "aiohttp"`` in a profile's
``[transport]`` table, and the websocket streams (:meth:`session`).

The contract is :class:`~brokerport.transport.Transport`'s: a
:class:`~brokerport.transport.TransportFailure` says whether the request may
have reached the vendor, and no foreign exception leaves :meth:`send`.
Nothing is ever re-sent here; a connection is reused only after a complete
answer that allows it, and is closed (never reused) when a call is cancelled,
times out or is cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import zlib
from collections import deque
from typing import Any

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

from .signing import PreparedRequest
from .transport import (
    USER_AGENT,
    AiohttpTransport,
    RawResponse,
    Transport,
    TransportFailure,
    TransportSettings,
)

__all__ = ["Http1Transport"]

#: the most header bytes an answer may carry before its body (aiohttp: 8190 per field)
MAX_HEAD_BYTES = 64 * 1024
MAX_FIELD_BYTES = 8190
#: methods this transport writes; any other goes through aiohttp
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
#: a request target: printable ASCII without spaces (the pipeline percent-encodes)
_TARGET = re.compile(r"[\x21-\x7e]*")
_HAS_BODY = frozenset({"POST", "PUT", "PATCH"})
#: headers that frame the request: the transport writes them (see _encode)
_FRAMING = frozenset({"host", "content-length", "transfer-encoding"})


class _Origin:
    """Where a base URL sends requests: parsed once per base URL."""

    __slots__ = ("host", "host_header", "key", "port", "prefix", "tls")

    def __init__(self, base_url: str) -> None:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(base_url)
            port = parts.port
        except ValueError:
            raise TransportFailure("connect", "invalid URL: check the profile's base_url") from None
        scheme = parts.scheme.lower()
        host = parts.hostname
        if scheme not in ("http", "https") or not host or parts.query or parts.fragment:
            raise TransportFailure("connect", "invalid URL: check the profile's base_url")
        self.tls = scheme == "https"
        default = 443 if self.tls else 80
        self.host = host
        self.port = port or default
        shown = f"[{host}]" if ":" in host else host
        self.host_header = shown if self.port == default else f"{shown}:{self.port}"
        self.prefix = parts.path
        self.key = (scheme, host, self.port)


class _Answer(Exception):
    """A callback's way out of httptools.feed_data (the answer is unreadable)."""


class _Conn(asyncio.Protocol):
    """One pooled connection; at most one request in flight on it."""

    def __init__(self, owner: Http1Transport, key: tuple[str, str, int]) -> None:
        self.owner = owner
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[RawResponse] | None = None
        self.closed = False
        self.idle_since = 0.0
        self.limit = 0
        self.read_timeout: float | None = None
        self.read_handle: asyncio.TimerHandle | None = None
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.pairs: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.head_bytes = 0
        self.head_done = False
        self.until_eof = False
        self.reusable = False

    # ------------------------------------------------------------ asyncio side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.waiter.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted
            return
        if self.read_handle is not None:
            self.read_handle.cancel()
            self.read_handle = self.owner.loop.call_later(self.read_timeout or 0, self.timed_out)
        try:
            self.parser.feed_data(data)
        except Exception as exc:  # httptools' parse errors, our _Answer
            why = str(exc) if isinstance(exc, _Answer) else "malformed HTTP answer"
            self.fail("disconnect", why)
            return
        if not self.head_done:  # a head that never ends is not buffered for ever
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEAD_BYTES:
                self.fail("disconnect", "answer headers too large")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.owner._forget(self)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if self.head_done and self.until_eof:
                self.reusable = False  # an answer that ends with its connection
                self.on_message_complete()
            else:
                waiter.set_exception(TransportFailure("disconnect", "connection lost"))

    # ------------------------------------------------------- httptools side

    def on_message_begin(self) -> None:
        self._reset()

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(value) > MAX_FIELD_BYTES or len(name) > MAX_FIELD_BYTES:
            raise _Answer("answer header too large")
        self.pairs.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.head_done = True
        self.status = self.parser.get_status_code()
        names = {k.lower() for k, _ in self.pairs}
        # no length and not chunked: the body runs to the end of the connection
        self.until_eof = (
            "content-length" not in names
            and "transfer-encoding" not in names
            and self.status >= 200
            and self.status not in (204, 304)
        )

    def on_body(self, body: bytes) -> None:
        self.size += len(body)
        if self.size > self.limit:
            # one byte past the limit says "too large"; the rest is never read
            self.chunks.append(body[: len(body) - (self.size - self.limit - 1)])
            self.reusable = False
            self._finish()
            self.close()
            raise _Answer("answer too large")  # stops the parser; the waiter is done
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:
            self._reset()  # an interim answer (100 Continue): the real one follows
            return
        self.reusable = not self.until_eof and self.parser.should_keep_alive()
        self._finish()

    def _finish(self) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        body = b"".join(self.chunks)
        headers = CIMultiDictProxy(CIMultiDict(self.pairs))
        coding = headers.get("Content-Encoding", "").strip().lower()
        # a body cut at the bound stays as it is: the pipeline says "too large"
        if coding and coding != "identity" and body and self.size <= self.limit:
            try:
                body = _decompress(coding, body, self.limit)
            except (zlib.error, ValueError):
                waiter.set_exception(TransportFailure("disconnect", "unreadable compressed answer"))
                self.reusable = False
                return
        waiter.set_result(RawResponse(self.status, headers, body))

    # ------------------------------------------------------------ helpers

    def timed_out(self) -> None:
        self.fail("timeout", "timed out waiting for the vendor")

    def fail(self, kind: Any, detail: str) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(TransportFailure(kind, detail))
        self.close()

    def close(self) -> None:
        self.reusable = False
        if not self.closed:
            self.closed = True
            self.owner._forget(self)
            if self.transport is not None:
                # RuntimeError: its event loop has ended (a host that ran the client on
                # one loop, then another, without closing it): the socket is closed when
                # collected, with the ResourceWarning that oversight deserves
                with contextlib.suppress(RuntimeError):
                    self.transport.close()


def _decompress(coding: str, body: bytes, limit: int) -> bytes:
    if coding in ("gzip", "x-gzip"):
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif coding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send
        d = zlib.decompressobj(zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS)
    else:
        raise ValueError(coding)
    out = d.decompress(body, limit + 1)  # bounded: a small bomb stays small
    if not d.eof and len(out) <= limit:
        raise ValueError("truncated")
    return out


class Http1Transport(Transport):
    """HTTP/1.1 over pooled asyncio connections (TLS by the ``ssl`` module), one per client.

    Honours :class:`TransportSettings`: the whole-request deadline, the connect
    deadline (pool wait, TCP, TLS handshake), the read deadline, the pool's
    total and per-host limits, idle keep-alive, TLS settings and the answer
    bound. Requests with a proxy, and methods other than GET/POST/PUT/PATCH/
    DELETE, go through :class:`AiohttpTransport` with the same settings.
    """

    def __init__(self, settings: TransportSettings | None = None) -> None:
        self.settings = settings or TransportSettings()
        self.closed = False
        self._aiohttp: AiohttpTransport | None = None
        self._origins: dict[str, _Origin] = {}
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        self._open: dict[tuple[str, str, int], int] = {}
        self._total = 0
        self._all: set[_Conn] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._ssl: ssl.SSLContext | None = None
        self._names: set[str] = set()
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        s = self.settings
        self._read_timeout = s.read_timeout if s.read_timeout < s.total_timeout else None

    # ------------------------------------------------------------ public

    def session(self) -> Any:
        """An aiohttp session with these settings (websocket streams use it)."""
        return self._fallback().session()

    async def send(self, request: PreparedRequest) -> RawResponse:
        if self.closed:
            raise TransportFailure("connect", "the client is closed")
        if request.method not in METHODS:
            return await self._fallback().send(request)
        origin = self._origins.get(request.base_url)
        if origin is None:
            origin = _Origin(request.base_url)
            if len(self._origins) < 64:
                self._origins[request.base_url] = origin
        data = self._encode(request, origin)
        loop = asyncio.get_running_loop()
        if loop is not self.loop:
            self._rebind(loop)
        s = self.settings
        deadline = loop.time() + s.total_timeout
        conn = self._reuse(origin, loop)
        if conn is None:
            conn = await self._connect(origin, loop, deadline)
        if conn.closed or conn.transport is None or conn.transport.is_closing():
            conn.close()  # the vendor closed it before a byte was written
            raise TransportFailure("connect", "the connection closed before sending")
        waiter: asyncio.Future[RawResponse] = loop.create_future()
        conn.waiter = waiter
        conn.limit = s.max_answer_bytes
        timer = loop.call_at(deadline, conn.timed_out)
        if self._read_timeout is not None:
            conn.read_timeout = self._read_timeout
            conn.read_handle = loop.call_later(self._read_timeout, conn.timed_out)
        try:
            conn.transport.write(data)
            response = await waiter
        except BaseException:
            conn.close()  # cancelled, timed out or cut short: never reused
            raise
        finally:
            timer.cancel()
            if conn.read_handle is not None:
                conn.read_handle.cancel()
                conn.read_handle = None
            conn.waiter = None
        if conn.reusable and not conn.closed and not self.closed:
            conn.idle_since = loop.time()
            self._idle.setdefault(origin.key, []).append(conn)
            self._wake()
        else:
            conn.close()
        return response

    async def aclose(self) -> None:
        self.closed = True
        for conn in list(self._all):
            conn.fail("disconnect", "the client is closed")
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
        if self._aiohttp is not None:
            await self._aiohttp.aclose()

    # ------------------------------------------------------------ the wire

    def _encode(self, request: PreparedRequest, origin: _Origin) -> bytes:
        q = request.query
        target = origin.prefix + request.path + ("?" + q if q else "")
        if not target.startswith("/") or not _TARGET.fullmatch(target):
            raise TransportFailure("connect", "request refused: the path is not URL-encoded")
        method = request.method
        lines = [f"{method} {target} HTTP/1.1", f"Host: {origin.host_header}"]
        given: set[str] = set()
        names = self._names
        for name, value in request.headers.items():
            if name not in names:  # header names are few: each checked once
                if not _TOKEN.fullmatch(name):
                    raise TransportFailure("connect", "request refused: a malformed header")
                if len(names) < 256:
                    names.add(name)
            lower = name.lower()
            if lower in _FRAMING:
                if lower == "transfer-encoding":  # the body is sent whole, with its length
                    raise TransportFailure("connect", "request refused: Transfer-Encoding")
                if lower == "host":  # a signer that signs Host sets the one sent
                    lines[1] = f"{name}: {value}"
                continue  # Content-Length: always the length of the exact bytes sent
            given.add(lower)
            lines.append(f"{name}: {value}")
        if "user-agent" not in given:
            lines.append(f"User-Agent: {USER_AGENT}")
        if "accept" not in given:
            lines.append("Accept: */*")
        if "accept-encoding" not in given:
            lines.append("Accept-Encoding: gzip, deflate")
        body = request.body
        if body is not None or method in _HAS_BODY:
            if body and "content-type" not in given:
                lines.append("Content-Type: application/octet-stream")
            lines.append(f"Content-Length: {len(body or b'')}")
        text = "\r\n".join(lines)
        # one C-speed check for every header value: no CR, LF or NUL of its own
        if (
            text.count("\n") != len(lines) - 1
            or text.count("\r") != len(lines) - 1
            or ("\x00" in text)
        ):
            raise TransportFailure("connect", "request refused: a header holds a line break")
        head = (text + "\r\n\r\n").encode("utf-8")
        if body is not None and type(body) is not bytes:
            raise TransportFailure("connect", "request refused: the body is not bytes")
        return head + body if body else head

    def _reuse(self, origin: _Origin, loop: asyncio.AbstractEventLoop) -> _Conn | None:
        idle = self._idle.get(origin.key)
        if not idle:
            return None
        keepalive = self.settings.keepalive_timeout
        now = loop.time()
        while idle:
            conn = idle.pop()
            transport = conn.transport
            if (
                not conn.closed
                and transport is not None
                and not transport.is_closing()
                and now - conn.idle_since < keepalive
            ):
                return conn
            conn.close()
        return None

    async def _connect(
        self, origin: _Origin, loop: asyncio.AbstractEventLoop, deadline: float
    ) -> _Conn:
        s = self.settings
        try:
            async with asyncio.timeout_at(min(deadline, loop.time() + s.connect_timeout)):
                while self._total >= s.limit or self._open.get(origin.key, 0) >= s.limit_per_host:
                    waiter: asyncio.Future[None] = loop.create_future()
                    self._waiters.append(waiter)
                    try:
                        await waiter
                    except BaseException:
                        if waiter.done() and not waiter.cancelled():
                            self._wake()  # woken, but leaving: the turn goes to the next
                        else:
                            waiter.cancel()
                        raise
                    if self.closed:
                        raise TransportFailure("connect", "the client is closed")
                    conn = self._reuse(origin, loop)
                    if conn is not None:
                        return conn
                self._total += 1
                self._open[origin.key] = self._open.get(origin.key, 0) + 1
                conn = _Conn(self, origin.key)
                self._all.add(conn)
                try:
                    await loop.create_connection(
                        lambda: conn,
                        origin.host,
                        origin.port,
                        ssl=self._ssl_context() if origin.tls else None,
                        server_hostname=origin.host if origin.tls else None,
                    )
                except BaseException:
                    conn.close()
                    raise
                if self.closed or conn.closed:  # aclose() came while connecting
                    conn.closed = False  # so that close() closes the socket it now has
                    conn.close()
                    raise TransportFailure("connect", "the client is closed")
                return conn
        except TransportFailure:
            raise
        except TimeoutError:
            raise TransportFailure("connect", "timed out connecting") from None
        except ssl.SSLCertVerificationError as exc:
            from .errors import TLSError

            why = exc.verify_message or exc.reason
            raise TLSError(f"the vendor's TLS certificate was refused: {why}") from None
        except ssl.SSLError as exc:
            from .errors import TLSError

            raise TLSError(f"TLS handshake failed: {exc.reason or type(exc).__name__}") from None
        except OSError as exc:
            raise TransportFailure(
                "connect", f"cannot connect: {exc.strerror or type(exc).__name__}"
            ) from None

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            s = self.settings
            given = True if s.tls is None else s.tls.ssl_context(s.owner)
            self._ssl = ssl.create_default_context() if given is True else given  # type: ignore[assignment]
        assert self._ssl is not None
        return self._ssl

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> None:
        """First use, or used from another event loop (a connection belongs to the loop
        that opened it): start a fresh pool on this one."""
        for conn in list(self._all):
            conn.waiter = None
            conn.close()
        self._idle.clear()
        self._waiters.clear()
        self.loop = loop

    def _forget(self, conn: _Conn) -> None:
        """A connection closed: its place in the pool is free."""
        if conn in self._all:
            self._all.discard(conn)
            self._total -= 1
            self._open[conn.key] -= 1
            self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _fallback(self) -> AiohttpTransport:
        if self._aiohttp is None:
            self._aiohttp = AiohttpTransport(self.settings)
        self._aiohttp.closed = self.closed
        return self._aiohttp
