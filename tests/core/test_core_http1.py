"""brokerport's HTTP/1.1 transport (the default) on the wire, against raw servers.

What tests/core/test_core_transport.py runs on both transports (broken answers,
timeouts, redirects, exact bytes, refused headers) is not repeated here; these
are the parts of its own: the pool, keep-alive, answer framings, compression,
cancellation and what it writes.
"""

from __future__ import annotations

import asyncio
import gc
import gzip
import random
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from brokerport.errors import InvalidRequest
from brokerport.http1 import Http1Transport
from brokerport.profile import Profile
from brokerport.proxy import ProxySettings
from brokerport.signing import PreparedRequest
from brokerport.transport import AiohttpTransport, TransportFailure, TransportSettings

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Server"], Awaitable[None]]


class Server:
    """A TCP server running ``handler`` per connection; it counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.requests: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            await self.handler(reader, writer, self)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        raw = head + (await reader.readexactly(length) if length else b"")
        self.requests.append(raw)
        return raw

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def answer(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def serve(*answers: bytes, close_after: bool = False) -> Handler:
    """Answer each request on a connection with the next of ``answers`` (the last repeats)."""

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
        n = 0
        while True:
            await s.read_request(r)
            w.write(answers[min(n, len(answers) - 1)])
            await w.drain()
            n += 1
            if close_after:
                return

    return handler


@pytest.fixture
async def transport() -> AsyncIterator[Http1Transport]:
    t = Http1Transport(TransportSettings(read_timeout=2, total_timeout=5, connect_timeout=2))
    try:
        yield t
    finally:
        await t.aclose()


def get(server: Server, path: str = "/x", **kw: object) -> PreparedRequest:
    return PreparedRequest("GET", server.url, path, **kw)  # type: ignore[arg-type]


async def test_one_kept_alive_connection_serves_calls_in_turn(transport: Http1Transport) -> None:
    async with Server(serve(answer(b'{"ok":1}'))) as server:
        for _ in range(5):
            response = await transport.send(get(server))
            assert response.status == 200 and response.body == b'{"ok":1}'
    assert server.connections == 1 and len(server.requests) == 5


async def test_the_pool_never_opens_more_than_its_limit() -> None:
    release = asyncio.Event()

    async def slow(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
        while True:
            await s.read_request(r)
            await release.wait()
            w.write(answer(b"{}"))
            await w.drain()

    t = Http1Transport(TransportSettings(limit_per_host=2, total_timeout=5, connect_timeout=5))
    async with Server(slow) as server:
        calls = [asyncio.create_task(t.send(get(server))) for _ in range(6)]
        while len(server.requests) < 2:
            await asyncio.sleep(0)
        for _ in range(20):  # the other four wait for a connection, they do not open one
            await asyncio.sleep(0)
        assert server.connections == 2 and len(server.requests) == 2
        release.set()
        responses = await asyncio.gather(*calls)
    await t.aclose()
    assert [r.status for r in responses] == [200] * 6
    assert server.most_open == 2 and len(server.requests) == 6


async def test_connection_close_and_a_vendor_closed_idle_connection_are_not_reused(
    transport: Http1Transport,
) -> None:
    async with Server(serve(answer(b"1", "Connection: close"), close_after=True)) as server:
        for _ in range(3):
            assert (await transport.send(get(server))).body == b"1"
    assert server.connections == 3
    # kept alive by the answer, then closed by the vendor while idle: a new connection
    async with Server(serve(answer(b"2"), close_after=True)) as server:
        assert (await transport.send(get(server))).body == b"2"
        while transport._all:  # the vendor's FIN arrives; nothing is sent on it
            await asyncio.sleep(0)
        assert (await transport.send(get(server))).body == b"2"
    assert server.connections == 2


@pytest.mark.parametrize(
    "payload",
    [
        answer(b"4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n", "Transfer-Encoding: chunked"),
        answer(b"abcdefg", "Connection: close", "Content-Type: text/plain").replace(
            b"Content-Length: 7\r\n", b""
        ),  # no length: the body runs to EOF
        answer(b"", status="100 Continue").replace(b"Content-Length: 0\r\n", b"")
        + answer(b"abcdefg"),
    ],
    ids=["chunked", "until-eof", "interim-100"],
)
async def test_answer_framings(payload: bytes, transport: Http1Transport) -> None:
    async with Server(serve(payload, close_after=True)) as server:
        response = await transport.send(get(server))
    assert response.status == 200 and response.body == b"abcdefg"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
async def test_compressed_answers_are_decompressed(coding: str, transport: Http1Transport) -> None:
    text = b'{"data":"' + b"x" * 5000 + b'"}'
    if coding == "gzip":
        packed = gzip.compress(text)
    elif coding == "deflate":
        packed = zlib.compress(text)
    else:
        d = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        packed = d.compress(text) + d.flush()
    name = "gzip" if coding == "gzip" else "deflate"
    async with Server(serve(answer(packed, f"Content-Encoding: {name}"))) as server:
        response = await transport.send(get(server))
    assert response.body == text and len(server.requests) == 1
    assert b"Accept-Encoding: gzip, deflate" in server.requests[0]


async def test_a_compressed_answer_is_bounded_after_decompression() -> None:
    bomb = gzip.compress(b"0" * 2_000_000)  # ~2 KB on the wire
    t = Http1Transport(TransportSettings(max_answer_bytes=100_000))
    async with Server(serve(answer(bomb, "Content-Encoding: gzip"))) as server:
        response = await t.send(get(server))
    await t.aclose()
    assert len(response.body) == 100_001  # one byte past: the pipeline says "too large"
    # compressed, and too large before decompressing: cut, never an unreadable answer
    noise = bytes(range(256)) * 2000  # ~500 KB that gzip cannot shrink below the bound
    t = Http1Transport(TransportSettings(max_answer_bytes=100_000))
    packed = gzip.compress(random.Random(7).randbytes(300_000) + noise)
    async with Server(serve(answer(packed, "Content-Encoding: gzip"))) as server:
        response = await t.send(get(server))
    await t.aclose()
    assert len(response.body) == 100_001


async def test_a_cancelled_call_never_leaves_its_answer_for_the_next(
    transport: Http1Transport,
) -> None:
    first = asyncio.Event()

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
        n = len(s.requests)
        await s.read_request(r)
        if n == 0:
            first.set()
            await asyncio.sleep(0.2)  # late: its caller has gone
        w.write(answer(f"answer {n}".encode()))
        await w.drain()
        await s.read_request(r)  # would answer a second request on this connection

    async with Server(handler) as server:
        call = asyncio.create_task(transport.send(get(server)))
        await first.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        response = await transport.send(get(server))
    assert response.body == b"answer 1" and server.connections == 2


async def test_bytes_nobody_asked_for_end_the_connection(transport: Http1Transport) -> None:
    async with Server(serve(answer(b"ok") + b"HTTP/1.1 200 OK\r\n")) as server:
        assert (await transport.send(get(server))).body == b"ok"
        while transport._all:
            await asyncio.sleep(0)
        assert (await transport.send(get(server))).body == b"ok"
    assert server.connections == 2


async def test_what_goes_on_the_wire(transport: Http1Transport) -> None:
    async with Server(serve(answer(b"{}"))) as server:
        await transport.send(
            PreparedRequest(
                "POST",
                server.url + "/base",
                "/api/v5/x",
                "a=b%2Fc&sp=x%20y",
                {"Content-Type": "application/json", "OK-ACCESS-SIGN": "c2ln"},
                b'{"a":"1"}',
            )
        )
        await transport.send(PreparedRequest("DELETE", server.url, "/d"))
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /base/api/v5/x?a=b%2Fc&sp=x%20y HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}" in lines
    assert "OK-ACCESS-SIGN: c2ln" in lines and "Content-Length: 9" in lines
    assert any(line.startswith("User-Agent: brokerport/") for line in lines)
    assert body == b'{"a":"1"}'
    assert b"Content-Length" not in server.requests[1]  # a bodiless DELETE says nothing


async def test_the_transport_frames_the_body(transport: Http1Transport) -> None:
    async with Server(serve(answer(b"{}"))) as server:
        # a wrong Content-Length from a plugin cannot desynchronise the connection
        headers = {"Content-Length": "99", "Host": "api.vendor.example"}
        await transport.send(PreparedRequest("POST", server.url, "/p", "", headers, b"{}"))
        await transport.send(get(server))
    lines = server.requests[0].split(b"\r\n\r\n")[0].split(b"\r\n")
    assert b"Content-Length: 2" in lines and b"Content-Length: 99" not in lines
    assert lines[1] == b"Host: api.vendor.example"  # a signed Host is the one sent
    assert len(server.requests) == 2 and server.connections == 1
    for bad in (
        PreparedRequest("POST", server.url, "/p", "", {"Transfer-Encoding": "chunked"}, b"{}"),
        PreparedRequest("POST", server.url, "/p", "", {}, "text"),  # type: ignore[arg-type]
    ):
        with pytest.raises(TransportFailure) as info:
            await transport.send(bad)
        assert info.value.kind == "connect"


@pytest.mark.parametrize(
    "request_",
    [
        PreparedRequest("GET", "http://127.0.0.1:1", "/a b"),
        PreparedRequest("GET", "http://127.0.0.1:1", "/a", "q=\r\nX: 1"),
        PreparedRequest("GET", "http://127.0.0.1:1", "/a", "", {"Bad Name": "1"}),
        PreparedRequest("GET", "http://127.0.0.1:1", "/a", "", {"X": "a\x00b"}),
        PreparedRequest("GET", "http://127.0.0.1:1", "/a", "", {"X": "a\rb"}),
        PreparedRequest("GET", "http://127.0.0.1:1?x=1", "/a"),
    ],
    ids=["space-in-path", "crlf-in-query", "bad-name", "nul", "cr", "query-in-base"],
)
async def test_malformed_requests_are_refused_unsent(
    request_: PreparedRequest, transport: Http1Transport
) -> None:
    with pytest.raises(TransportFailure) as info:
        await transport.send(request_)
    assert info.value.kind == "connect" and not info.value.maybe_sent
    assert not transport._all  # not even a connection was opened


async def test_a_refused_connection_was_never_sent(transport: Http1Transport) -> None:
    async with Server(serve(answer(b""))) as server:
        url = server.url
    with pytest.raises(TransportFailure) as info:  # the server is gone: refused
        await transport.send(PreparedRequest("POST", url, "/x", body=b"{}"))
    assert info.value.kind == "connect" and not info.value.maybe_sent


async def test_head_and_websockets_go_through_aiohttp(transport: Http1Transport) -> None:
    async with Server(serve(answer(b"", "Content-Length: 5").replace(b"0\r\n", b"", 1))) as server:
        response = await transport.send(PreparedRequest("HEAD", server.url, "/x"))
    assert response.status == 200 and response.body == b""
    session = transport.session()
    assert session is transport.session() and not session.closed
    await transport.aclose()
    assert session.closed


def test_engine_from_a_profile_and_with_a_proxy(tmp_path: Path) -> None:
    cfg = tmp_path / "profiles.toml"
    cfg.write_text(
        '[acme.main]\nbase_url = "http://127.0.0.1:1"\n[acme.main.transport]\nengine = "aiohttp"\n',
        encoding="utf-8",
    )
    profile = Profile.load("acme", "main", path=cfg, env={})
    assert isinstance(profile.transport_settings().transport(), AiohttpTransport)
    env = {"BROKERPORT_ACME_BASE_URL": "http://127.0.0.1:1"}
    assert isinstance(
        Profile.load("acme", env=env, path="/nonexistent").transport_settings().transport(),
        Http1Transport,
    )
    with pytest.raises(InvalidRequest, match="engine"):
        Profile.load("acme", env={**env, "BROKERPORT_ACME_TRANSPORT_ENGINE": "curl"}, path="/x")
    proxied = TransportSettings(proxy=ProxySettings.parse("http://127.0.0.1:3128"))
    assert isinstance(proxied.transport(), AiohttpTransport)  # tunnels are aiohttp's
    with pytest.raises(ValueError):
        TransportSettings(engine="curl")  # type: ignore[arg-type]


def test_a_transport_used_from_another_event_loop_opens_fresh_connections() -> None:
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    t = Http1Transport()

    async def call_and_close(close: bool) -> bytes:
        body = (await t.send(PreparedRequest("GET", url, "/x"))).body
        if close:
            await t.aclose()
        return body

    try:
        # the first loop ends with a connection left open (the host forgot to close)
        with pytest.warns(ResourceWarning):
            assert asyncio.run(call_and_close(False)) == b"{}"
            assert asyncio.run(call_and_close(True)) == b"{}"  # a fresh pool on a new loop
            gc.collect()
        assert not t._all
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_aclose_while_connecting_leaves_no_socket_and_sends_nothing() -> None:
    loop = asyncio.get_running_loop()
    gate, reached = asyncio.Event(), asyncio.Event()
    real = loop.create_connection

    async def gated(*args: Any, **kw: Any) -> Any:
        reached.set()
        await gate.wait()  # aclose() comes while the connection is being made
        return await real(*args, **kw)

    t = Http1Transport()
    async with Server(serve(answer(b"{}"))) as server:
        loop.create_connection = gated  # type: ignore[method-assign]
        try:
            call = asyncio.create_task(t.send(PreparedRequest("POST", server.url, "/x", body=b"1")))
            await reached.wait()
            await t.aclose()
            gate.set()
            with pytest.raises(TransportFailure) as info:
                await call
        finally:
            del loop.create_connection
        for _ in range(500):  # the server sees the socket closed (at once, on loopback)
            if not server.open:
                break
            await asyncio.sleep(0.01)
    assert info.value.kind == "connect" and not info.value.maybe_sent
    assert server.open == 0 and server.connections == 1 and server.requests == []
    assert not t._all
