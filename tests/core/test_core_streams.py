"""The core websocket client (brokerport.streams) against a tiny in-test aiohttp server.

The server speaks a toy JSON protocol (login with ``resume``, subscribe, push,
ping/pong); the test drives it with events and injected sleep/clock/timers:
nothing here waits on wall-clock time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import pytest
import pytest_asyncio
from aiohttp import WSMsgType, web
from brokerport import models as m
from brokerport.adapter import Adapter
from brokerport.catalog import Catalog
from brokerport.client import Client
from brokerport.errors import NotSupported
from brokerport.ports import StreamPort
from brokerport.profile import Profile
from brokerport.streams import (
    Backoff,
    Connection,
    OrderKey,
    OrderStream,
    StreamError,
    StreamOverflow,
    StreamProtocol,
)


class ToyServer:
    """A websocket at /ws: ``{"op":"login","resume":bool}``, ``{"op":"subscribe"}``,
    then pushes; text ``ping`` is answered ``pong``."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_get("/ws", self.ws)
        self.sockets: list[web.WebSocketResponse] = []
        self.logins: list[bool] = []
        self.pings = 0
        self.pinged = asyncio.Event()
        self.refuse_login = False
        self.subscribed = asyncio.Event()
        self.state: dict[str, dict[str, Any]] = {}  # what a resync reads
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self.runner = web.AppRunner(self.app, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            if msg.data == "ping":
                self.pings += 1
                self.pinged.set()
                await ws.send_str("pong")
                continue
            doc = json.loads(msg.data)
            if doc["op"] == "login":
                self.logins.append(doc["resume"])
                if self.refuse_login:
                    await ws.send_json({"event": "error", "msg": "bad key"})
                    continue
                await ws.send_json({"event": "login"})
            elif doc["op"] == "subscribe":
                self.sockets.append(ws)
                await ws.send_json({"event": "subscribe"})
                self.subscribed.set()
        if ws in self.sockets:
            self.sockets.remove(ws)
        return ws

    async def push(self, order: dict[str, Any], *, times: int = 1) -> None:
        self.state[order["id"]] = order
        for ws in list(self.sockets):
            for _ in range(times):
                await ws.send_json({"data": [order]})

    async def drop(self) -> None:
        self.subscribed.clear()
        for ws in list(self.sockets):
            self.sockets.remove(ws)
            await ws.close()


def order(oid: str, status: str, filled: str, version: int) -> dict[str, Any]:
    return {"id": oid, "status": status, "filled": filled, "v": version, "qty": "3"}


def event_of(doc: Mapping[str, Any]) -> m.OrderEvent:
    filled = Decimal(doc["filled"])
    return m.OrderEvent(
        order_id=doc["id"],
        status=doc["status"],
        filled_quantity=filled,
        remaining_quantity=Decimal(doc["qty"]) - filled,
        at=datetime(2024, 1, 1, tzinfo=UTC),
        version=(doc["v"],),
        raw=doc,
    )


class ToyProtocol(StreamProtocol):
    def __init__(self, server: ToyServer) -> None:
        self.server = server
        self.resyncs: list[list[str]] = []

    async def url(self, client: Client) -> str:
        return self.server.url + "/ws"

    async def open(self, conn: Connection, client: Client, *, resume: bool) -> None:
        await conn.send_text(json.dumps({"op": "login", "resume": resume}))
        answer = json.loads(await conn.receive())
        if answer["event"] == "error":
            raise StreamError(answer["msg"])
        await conn.send_text(json.dumps({"op": "subscribe"}))
        assert json.loads(await conn.receive())["event"] == "subscribe"

    async def on_frame(self, conn: Connection, frame: str | bytes) -> Iterable[m.OrderEvent]:
        if frame == "pong":
            return ()
        return [event_of(d) for d in json.loads(frame)["data"]]

    async def ping(self, conn: Connection) -> None:
        await conn.send_text("ping")

    async def resync(self, client: Client, orders: list[OrderKey]) -> Iterable[m.OrderEvent]:
        self.resyncs.append(sorted(k.order_id for k in orders))
        return [event_of(self.server.state[k.order_id]) for k in orders]


class ToyStreams(StreamPort):
    protocol: ClassVar[ToyProtocol]

    def orders(self, query: m.OrderStreamQuery | None = None, **settings: Any) -> OrderStream:
        return self.open_stream(self.protocol, **settings)


class Toy(Adapter):
    name = "toystream"
    operations = frozenset({"streams.orders"})
    ports: ClassVar[Mapping[str, Any]] = {"streams": ToyStreams}

    @classmethod
    def build_catalog(cls) -> Catalog:
        return Catalog("toystream", [])


class NoStreams(Adapter):
    name = "nostream"

    @classmethod
    def build_catalog(cls) -> Catalog:
        return Catalog("nostream", [])


@pytest_asyncio.fixture
async def server() -> AsyncIterator[ToyServer]:
    srv = ToyServer()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest_asyncio.fixture
async def client(server: ToyServer) -> AsyncIterator[Client]:
    ToyStreams.protocol = ToyProtocol(server)
    profile = Profile(vendor="toystream", name="t", base_url=server.url)
    async with Client(Toy, profile) as c:
        yield c


class Sleeps:
    """An injected sleep: records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


async def take(stream: OrderStream, n: int) -> list[m.OrderEvent]:
    return [await anext(stream) for _ in range(n)]


async def test_events_are_typed_and_duplicates_dropped(client: Client, server: ToyServer) -> None:
    stream = await client.streams.orders().ready()
    await server.push(order("1", "live", "0", 1), times=2)  # delivered twice
    await server.push(order("1", "partially_filled", "1", 2))
    await server.push(order("1", "live", "0", 1))  # stale: older than what was yielded
    await server.push(order("1", "filled", "3", 3), times=3)
    events = await take(stream, 3)
    assert [(e.status, e.filled_quantity, e.remaining_quantity) for e in events] == [
        ("live", Decimal(0), Decimal(3)),
        ("partially_filled", Decimal(1), Decimal(2)),
        ("filled", Decimal(3), Decimal(0)),
    ]
    assert events[-1].final and events[0].raw["id"] == "1"
    await server.push(order("2", "live", "0", 1))  # the next new event comes straight after
    assert (await anext(stream)).order_id == "2"
    assert stream.duplicates == 4
    await stream.aclose()


async def test_reconnect_resumes_resubscribes_and_resyncs(
    client: Client, server: ToyServer
) -> None:
    sleeps = Sleeps()
    stream = client.streams.orders(sleep=sleeps, rand=lambda: 1.0, backoff=Backoff(0.5, 4.0))
    await stream.ready()
    await server.push(order("7", "live", "0", 1))
    assert (await anext(stream)).status == "live"
    stream.follow(OrderKey("8", "X"))  # placed through the client, never seen on the socket
    server.state["8"] = order("8", "live", "0", 1)
    server.state["7"] = order("7", "filled", "3", 2)  # changes; the socket drops unpushed
    await server.drop()
    got = await take(stream, 2)
    assert {(e.order_id, e.status, e.source) for e in got} == {
        ("7", "filled", "resync"),
        ("8", "live", "resync"),
    }
    await server.subscribed.wait()
    assert server.logins == [False, True]  # the second login resumes
    assert ToyStreams.protocol.resyncs == [["7", "8"]]
    assert sleeps.delays == [0.5] and stream.drops == 1 and stream.connections == 2
    await server.push(order("7", "filled", "3", 2))  # the socket repeats it: not yielded
    await server.push(order("9", "live", "0", 1))
    assert (await anext(stream)).order_id == "9"
    await stream.aclose()


async def test_backoff_grows_with_full_jitter_up_to_the_cap(client: Client) -> None:
    assert [Backoff(0.5, 4.0).delay(n, lambda: 1.0) for n in range(6)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        4.0,
        4.0,
    ]
    assert Backoff(0.5, 4.0).delay(3, lambda: 0.25) == 1.0


async def test_refused_login_is_a_stream_error(client: Client, server: ToyServer) -> None:
    server.refuse_login = True
    stream = client.streams.orders()
    with pytest.raises(StreamError, match="bad key"):
        await stream.ready()
    with pytest.raises(StreamError):
        await anext(stream)


async def test_unreachable_server_gives_up_after_max_attempts(client: Client) -> None:
    sleeps = Sleeps()
    stream = client.streams.orders(sleep=sleeps, max_attempts=3, rand=lambda: 0.5)
    stream.protocol.server.url = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    with pytest.raises(StreamError, match="3 connection attempts failed"):
        await stream.ready()
    assert sleeps.delays == [0.25, 0.5]


async def test_slow_consumer_gets_buffered_events_then_overflow(
    client: Client, server: ToyServer
) -> None:
    stream = await client.streams.orders(max_buffered=3).ready()
    for n in range(5):
        await server.push(order(str(n), "live", "0", 1))
    got = [await anext(stream) for _ in range(3)]
    assert [e.order_id for e in got] == ["0", "1", "2"]
    with pytest.raises(StreamOverflow):
        await anext(stream)
    with pytest.raises(StopAsyncIteration):
        await anext(stream)


async def test_closing_the_client_ends_every_stream(server: ToyServer) -> None:
    ToyStreams.protocol = ToyProtocol(server)
    profile = Profile(vendor="toystream", name="t", base_url=server.url)
    client = await Client(Toy, profile).open()
    one, two = client.streams.orders(), client.streams.orders()
    await one.ready()
    await two.ready()

    async def drain(stream: OrderStream) -> list[m.OrderEvent]:
        return [e async for e in stream]

    await server.push(order("1", "live", "0", 1))
    assert [(await anext(s)).order_id for s in (one, two)] == ["1", "1"]
    tasks = [asyncio.ensure_future(drain(s)) for s in (one, two)]  # waiting for more
    await client.aclose()
    assert await asyncio.gather(*tasks) == [[], []]  # both loops ended, no error


async def test_heartbeat_pings_when_idle_and_reconnects_when_silent(
    client: Client, server: ToyServer
) -> None:
    now = [0.0]
    ticks: asyncio.Queue[float] = asyncio.Queue()
    go = asyncio.Event()

    async def timer(delay: float) -> None:
        ticks.put_nowait(delay)
        await go.wait()
        go.clear()

    ToyStreams.protocol.ping_interval, ToyStreams.protocol.idle_timeout = 10.0, 30.0
    stream = client.streams.orders(clock=lambda: now[0], timer=timer, sleep=Sleeps())
    await stream.ready()
    assert await ticks.get() == 5.0
    now[0] = 11.0  # quiet for longer than ping_interval: ping
    go.set()
    await server.pinged.wait()
    await ticks.get()
    server.subscribed.clear()
    now[0] = 31.0  # nothing, not even a pong, for idle_timeout: the socket is dropped
    go.set()
    await server.subscribed.wait()
    assert server.logins == [False, True]
    await stream.aclose()


async def test_undeclared_stream_raises_not_supported_at_call(server: ToyServer) -> None:
    async with Client(NoStreams, Profile(vendor="nostream", name="t", base_url=server.url)) as c:
        assert "streams.orders" not in c.capabilities
        with pytest.raises(NotSupported):
            c.streams.orders()
