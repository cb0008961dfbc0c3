"""Both transports (brokerport's HTTP/1.1 one, the default, and aiohttp's) against
misbehaving raw servers: no foreign exception escapes.

Each failure is a TransportFailure whose ``kind`` says whether the request may
have reached the vendor; through the pipeline that decides retry (reads) or
UnknownOutcome (writes).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from brokerport import UnknownOutcome, VendorUnavailable
from brokerport.client import Client
from brokerport.http1 import Http1Transport
from brokerport.signing import PreparedRequest
from brokerport.transport import (
    AiohttpTransport,
    MockTransport,
    RawResponse,
    Transport,
    TransportFailure,
    TransportSettings,
)
from fakex_vendor import FAST_RETRY, Fakex, FakexSandbox, profile

ORDER = {"symbol": "BTC-USD", "side": "buy", "qty": "1"}


class RawServer:
    """A TCP server that answers every request with fixed bytes (or nothing)."""

    def __init__(self, payload: bytes | None, hold: float = 0.0) -> None:
        self.payload = payload
        self.hold = hold
        self.requests = 0
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            if self.hold:
                await asyncio.sleep(self.hold)
            if self.payload is not None:
                writer.write(self.payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(params=["http1", "aiohttp"])
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[Transport]:
    settings = TransportSettings(read_timeout=0.3, total_timeout=3, connect_timeout=2)
    t: Transport = (
        Http1Transport(settings) if request.param == "http1" else AiohttpTransport(settings)
    )
    try:
        yield t
    finally:
        await t.aclose()


BROKEN = {
    "short_body": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
    "not_http": b"HELLO WORLD\r\n\r\n",
    "closed": None,
    "bad_gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nabcde",
    "bad_chunks": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
    "huge_header": (
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 20000 + b"\r\nContent-Length: 2\r\n\r\n{}"
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
async def test_broken_answers_are_disconnects(case: str, transport: Transport) -> None:
    async with RawServer(BROKEN[case]) as server:
        with pytest.raises(TransportFailure) as info:
            await transport.send(PreparedRequest("GET", server.url, "/x"))
    assert info.value.kind == "disconnect" and info.value.maybe_sent


async def test_silence_is_a_timeout(transport: Transport) -> None:
    async with RawServer(None, hold=1.0) as server:
        with pytest.raises(TransportFailure) as info:
            await transport.send(PreparedRequest("GET", server.url, "/x"))
    assert info.value.kind == "timeout" and info.value.maybe_sent


async def test_redirects_are_not_followed(transport: Transport) -> None:
    payload = b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/x\r\nContent-Length: 0\r\n\r\n"
    async with RawServer(payload) as server:
        response = await transport.send(PreparedRequest("POST", server.url, "/x", body=b"{}"))
    assert response.status == 302 and response.body == b""


async def test_exact_bytes_and_headers_go_out(sandbox: FakexSandbox, transport: Transport) -> None:
    body = b'{"name":"abcd1"}'
    # a query with characters yarl would re-quote if it were allowed to
    req = PreparedRequest(
        "GET",
        sandbox.base_url or "",
        "/api/v1/ping",
        "a=b%2Fc&sp=x%20y&plus=%2B",
        {"X-Custom": "1"},
        None,
    )
    response = await transport.send(req)
    assert response.status == 200
    entry = sandbox.journal.last()
    assert entry is not None
    assert entry.headers["X-Custom"] == "1"
    # our own agent string, not aiohttp's; no cookie or other credential added
    assert entry.headers["User-Agent"].startswith("brokerport/")
    assert "Cookie" not in entry.headers
    post = PreparedRequest(
        "POST",
        sandbox.base_url or "",
        "/api/v1/subaccounts",
        "",
        {"Content-Type": "application/json"},
        body,
    )
    await transport.send(post)
    last = sandbox.journal.last()
    assert last is not None and last.body == body


@pytest.mark.parametrize(
    "base_url", ["fakex.example", "ftp://fakex.example", "http://", "http://[::1"]
)
async def test_invalid_urls_are_never_sent(base_url: str, transport: Transport) -> None:
    with pytest.raises(TransportFailure) as info:
        await transport.send(PreparedRequest("POST", base_url, "/x", body=b"{}"))
    assert info.value.kind == "connect" and not info.value.maybe_sent


@pytest.mark.parametrize("base_url", ["fakex.example", "http://[::1"])
async def test_bad_base_url_through_the_pipeline(base_url: str) -> None:
    async with Client(Fakex, profile(base_url), retry=FAST_RETRY) as client:
        # a write that never left is not an unknown outcome
        with pytest.raises(VendorUnavailable) as info:
            await client.call("order.place", **ORDER)
        assert not isinstance(info.value, UnknownOutcome)
        assert "127.0.0.1" not in str(info.value)


@pytest.mark.parametrize("case", ["short_body", "not_http", "closed"])
async def test_broken_answers_through_the_pipeline(case: str) -> None:
    server = RawServer(BROKEN[case])
    async with server, Client(Fakex, profile(server.url), retry=FAST_RETRY) as client:
        with pytest.raises(VendorUnavailable):
            await client.call("account.get", account_id="a1")
        reads = server.requests
        with pytest.raises(UnknownOutcome):
            await client.call("order.place", **ORDER)
    # aiohttp itself may re-send an idempotent GET once on a dropped keep-alive connection
    assert FAST_RETRY.max_attempts <= reads <= 2 * FAST_RETRY.max_attempts
    assert server.requests == reads + 1  # a write goes out exactly once


async def test_mock_transport_records_snapshots() -> None:
    seen: list[PreparedRequest] = []

    async def handler(request: PreparedRequest) -> RawResponse:
        seen.append(request)
        return RawResponse(200, {}, b"{}")

    mock = MockTransport(handler)
    req = PreparedRequest("GET", "http://x", "/a", "q=1", {"H": "1"}, None, "ep")
    await mock.send(req)
    req.headers["H"] = "2"  # later mutation (a re-sign) does not rewrite history
    assert mock.requests[0].headers == {"H": "1"} and mock.requests[0].endpoint == "ep"
    assert seen[0] is mock.requests[0]


async def test_malformed_header_is_refused_unsent(
    sandbox: FakexSandbox, transport: Transport
) -> None:
    # a plugin bug (e.g. a signature from base64.encodebytes, which ends in "\n")
    req = PreparedRequest(
        "POST",
        sandbox.base_url or "",
        "/api/v1/subaccounts",
        "",
        {"X-FX-SIGN": "c2lnbmF0dXJl\n"},
        b"{}",
    )
    with pytest.raises(TransportFailure) as info:
        await transport.send(req)
    assert info.value.kind == "connect" and not info.value.maybe_sent
    assert len(sandbox.journal) == 0
