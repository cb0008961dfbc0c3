"""The core websocket client: one engine for every vendor's pushed order events.

A plugin describes its vendor's socket as a :class:`StreamProtocol` (URL, login
or token, subscribe, how frames decode, how to ping, how to resume, how to read
an order's current state over REST); :class:`OrderStream` does the rest:

* **connect** on the client's own aiohttp session (its proxy, TLS and pool),
  with the signer's credentials as the protocol's ``open`` uses them (a
  sub-request for a one-time token goes through ``client.invoke``);
* **heartbeats**: the protocol's ``ping`` after ``ping_interval`` idle seconds,
  a reconnect after ``idle_timeout`` seconds without a frame; websocket-level
  pings are answered by aiohttp (``autoping``);
* **reconnect** with full-jitter exponential backoff (:class:`Backoff`; the
  sleep, clock and random source are injectable, so tests never wait), then
  **resume** (``open(..., resume=True)``: the protocol resumes its session or
  logs in afresh) and **resubscribe**;
* **resync**: after a reconnect, the protocol reads over REST every order the
  stream knows to be open (seen on the stream, or placed, amended or cancelled
  through this client: a hook watches the client's calls), so a state pushed
  while the socket was down is not lost;
* **de-duplication**: each ``(order_id, version)`` is yielded once and never a
  version older than one already yielded for that order (vendors may deliver
  twice; a resync may read a state the socket then pushes);
* **backpressure**: events wait in a buffer of at most ``max_buffered``; a
  consumer that falls further behind gets every buffered event, then
  :class:`StreamOverflow` — never a silent drop;
* **close**: ``aclose()`` (or closing the client) ends the stream: the
  consumer's ``async for`` finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs

from .errors import BrokerportError, ClientClosed
from .hookspec import hookimpl

if TYPE_CHECKING:
    from types import TracebackType

    from .client import Client
    from .models import OrderEvent

__all__ = [
    "Backoff",
    "Connection",
    "ConnectionLost",
    "OrderKey",
    "OrderStream",
    "StreamError",
    "StreamOverflow",
    "StreamProtocol",
]

log = logging.getLogger("brokerport.streams")

_RANK = {
    "pending": 0,
    "live": 1,
    "partially_filled": 2,
    "filled": 3,
    "cancelled": 3,
    "rejected": 3,
    "expired": 3,
}


class StreamError(BrokerportError):
    """The stream failed for good: the vendor refused the login, or reconnecting
    failed ``max_attempts`` times in a row."""


class StreamOverflow(StreamError):
    """The consumer fell ``max_buffered`` events behind: the stream stopped
    (every event received before was yielded first)."""


class ConnectionLost(Exception):
    """The socket closed, errored or went idle: the engine reconnects (internal)."""


@attrs.frozen
class OrderKey:
    """An order the stream follows: what a protocol needs to read it over REST."""

    order_id: str
    instrument: str | None = None


@attrs.frozen
class Backoff:
    """Full-jitter exponential backoff: attempt ``n`` waits ``uniform(0, min(cap,
    base * 2**n))`` seconds (AWS's "full jitter"); ``n`` restarts at 0 after a
    connection that got as far as subscribing."""

    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, rand: Callable[[], float]) -> float:
        return rand() * min(self.cap, self.base * 2.0 ** min(attempt, 30))


class Connection:
    """One open websocket as a protocol sees it: send, and receive with heartbeats."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, stream: OrderStream) -> None:
        self.ws = ws
        self._stream = stream
        self.last_received = stream.clock()

    async def send_text(self, text: str) -> None:
        try:
            await self.ws.send_str(text)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            raise ConnectionLost(f"send failed: {exc}") from None

    async def send_bytes(self, data: bytes) -> None:
        try:
            await self.ws.send_bytes(data)
        except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
            raise ConnectionLost(f"send failed: {exc}") from None

    async def receive(self) -> str | bytes:
        """The next text or binary frame; ConnectionLost when the socket ends."""
        msg = await self.ws.receive()
        if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            self.last_received = self._stream.clock()
            data: str | bytes = msg.data
            return data
        if msg.type == aiohttp.WSMsgType.ERROR:
            raise ConnectionLost(f"socket error: {self.ws.exception()}")
        raise ConnectionLost(f"socket closed ({msg.type.name}, code {self.ws.close_code})")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()


class StreamProtocol:
    """What a vendor says on its socket. Override what your vendor needs."""

    #: Seconds without a frame after which :meth:`ping` is sent (None: never).
    ping_interval: float | None = None
    #: Seconds without a frame after which the socket counts as dead (None: never).
    idle_timeout: float | None = None

    async def url(self, client: Client) -> str:
        """The websocket URL (the profile's base URL, a token in the query, ...)."""
        raise NotImplementedError

    def headers(self, client: Client) -> Mapping[str, str]:
        return {}

    async def open(self, conn: Connection, client: Client, *, resume: bool) -> None:
        """Log in (or resume the session when ``resume``) and subscribe. Raise
        :class:`StreamError` for a refusal that retrying cannot fix, ConnectionLost
        (or let the socket close) for anything else."""
        raise NotImplementedError

    async def on_frame(self, conn: Connection, frame: str | bytes) -> Iterable[OrderEvent]:
        """The order events a frame carries (none for control frames)."""
        raise NotImplementedError

    async def ping(self, conn: Connection) -> None:
        """The vendor's application-level ping (OKX: the text ``ping``)."""
        await conn.ws.ping()

    def track(self, endpoint: str, params: Mapping[str, Any], result: Any) -> Iterable[OrderKey]:
        """Orders a call through the client placed or changed (for :meth:`resync`)."""
        return ()

    async def resync(self, client: Client, orders: list[OrderKey]) -> Iterable[OrderEvent]:
        """After a reconnect: the current state of ``orders`` (open as far as the
        stream knows), read over REST. Default: none (a vendor that replays)."""
        return ()


def _version(event: OrderEvent) -> tuple[Any, ...]:
    return event.version or (_RANK[event.status], event.filled_quantity)


class _Tracker:
    """Watches the client's calls for orders placed or changed (a pluggy hook)."""

    def __init__(self, stream: OrderStream) -> None:
        self.stream = stream

    @hookimpl
    def brokerport_after_response(self, call: Any, response: Any, result: Any) -> None:
        try:
            keys = list(self.stream.protocol.track(call.endpoint.name, call.params, result))
        except Exception:  # a hook never breaks the host's call
            log.exception("stream tracker failed")
            return
        for key in keys:
            self.stream.follow(key)


_END = object()


class OrderStream:
    """``async for event in stream`` (also ``async with``); see the module docstring.

    ``max_buffered`` bounds the events waiting for the consumer; ``backoff``,
    ``sleep``, ``clock`` and ``rand`` drive reconnects, ``timer`` and ``clock`` the
    heartbeats (inject them in tests);
    ``max_attempts`` consecutive failed connections end the stream with
    :class:`StreamError` (None: retry for ever); ``dedupe_window`` is how many
    finished orders are remembered for de-duplication.
    """

    def __init__(
        self,
        client: Client,
        protocol: StreamProtocol,
        *,
        max_buffered: int = 10_000,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        timer: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_attempts: int | None = None,
        dedupe_window: int = 100_000,
        on_close: Callable[[OrderStream], None] | None = None,
    ) -> None:
        if max_buffered < 1:
            raise ValueError("max_buffered must be at least 1")
        self.client = client
        self.protocol = protocol
        self.max_buffered = max_buffered
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self.clock = clock
        self.rand = rand
        self.timer = timer
        self.max_attempts = max_attempts
        self.dedupe_window = dedupe_window
        self._on_close = on_close
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._closed = False
        self._tracker: _Tracker | None = None
        #: order id -> the last version yielded, for open orders
        self._open: dict[str, tuple[tuple[Any, ...], OrderKey]] = {}
        #: finished orders (their last version), oldest first, at most dedupe_window
        self._done: OrderedDict[str, tuple[Any, ...]] = OrderedDict()
        #: counters: connections opened, sockets lost, duplicates / stale states dropped,
        #: backoff delays slept, events yielded from resyncs
        self.connections = 0
        self.drops = 0
        self.duplicates = 0
        self.delays: list[float] = []
        self.resynced = 0
        #: set each time the stream (re)subscribed: tests wait on it, never sleep
        self.subscribed = asyncio.Event()

    # ------------------------------------------------------------ consumer

    def __aiter__(self) -> OrderStream:
        return self

    async def __anext__(self) -> OrderEvent:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        self._start()
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)  # every later call ends too
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._queue.put_nowait(_END)
            raise item
        event: OrderEvent = item
        return event

    async def ready(self) -> OrderStream:
        """Start the stream and wait until it is logged in and subscribed (events of
        orders changed from now on are delivered). Raises the stream's failure."""
        self._start()
        if self._ready is None:
            raise ClientClosed("the stream is closed", vendor=self.client.vendor)
        await asyncio.shield(self._ready)
        return self

    async def __aenter__(self) -> OrderStream:
        return await self.ready()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop the socket; the consumer gets what is buffered, then the end."""
        if self._closed:
            return
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._stop_tracking()
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ClientClosed("the stream was closed"))
            self._ready.exception()  # retrieved: no "never retrieved" warning
        self._queue.put_nowait(_END)
        if self._on_close is not None:
            self._on_close(self)

    # ------------------------------------------------------------ tracking

    def follow(self, key: OrderKey) -> None:
        """Follow an order (resync reads it after a reconnect) until it is final."""
        if key.order_id and key.order_id not in self._done and key.order_id not in self._open:
            self._open[key.order_id] = ((), key)

    def _stop_tracking(self) -> None:
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            with contextlib.suppress(Exception):
                self.client.hooks.unregister(tracker)

    def offer(self, event: OrderEvent) -> bool:
        """Queue ``event`` unless it repeats or predates one already queued."""
        version = _version(event)
        oid = event.order_id
        seen = self._done.get(oid)
        if seen is None and oid in self._open:
            seen = self._open[oid][0] or None
        if seen is not None and version <= seen:
            self.duplicates += 1
            return False
        if self._queue.qsize() >= self.max_buffered:
            raise StreamOverflow(
                f"the consumer is {self.max_buffered} events behind; the stream stopped",
                vendor=self.client.vendor,
            )
        if event.final:
            self._open.pop(oid, None)
            self._done[oid] = version
            self._done.move_to_end(oid)
            while len(self._done) > self.dedupe_window:
                self._done.popitem(last=False)
        else:
            key = OrderKey(oid, event.instrument)
            if oid in self._open and self._open[oid][1].instrument:
                key = self._open[oid][1]
            self._open[oid] = (version, key)
        self._queue.put_nowait(event)
        return True

    # --------------------------------------------------------------- engine

    def _start(self) -> None:
        if self._task is not None or self._closed:
            return
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        hooks = getattr(self.client, "hooks", None)
        if hooks is not None:
            self._tracker = _Tracker(self)
            hooks.register(self._tracker)
        self._task = asyncio.ensure_future(self._run())

    def _session(self) -> aiohttp.ClientSession:
        # the client's own transport settings (proxy, TLS, pool) when it has a session
        session = getattr(self.client.transport, "session", None)
        if callable(session):
            return session()  # type: ignore[no-any-return]
        if self._own_session is None:
            self._own_session = aiohttp.ClientSession()
        return self._own_session

    _own_session: aiohttp.ClientSession | None = None

    async def _run(self) -> None:
        failures = 0
        first = True
        try:
            while True:
                try:
                    async with contextlib.AsyncExitStack() as stack:
                        url = await self.protocol.url(self.client)
                        ws = await stack.enter_async_context(
                            self._session().ws_connect(
                                url,
                                headers=dict(self.protocol.headers(self.client)),
                                autoping=True,
                                autoclose=True,
                                max_msg_size=16 * 1024**2,
                            )
                        )
                        conn = Connection(ws, self)
                        await self.protocol.open(conn, self.client, resume=not first)
                        self.connections += 1
                        failures = 0
                        watchdog = asyncio.ensure_future(self._watch(conn))
                        stack.callback(watchdog.cancel)
                        if not first:
                            await self._resync()
                        first = False
                        self.subscribed.set()
                        if self._ready is not None and not self._ready.done():
                            self._ready.set_result(None)
                        while True:
                            frame = await conn.receive()
                            for event in await self.protocol.on_frame(conn, frame):
                                self.offer(event)
                except StreamError:
                    raise
                except (
                    ConnectionLost,
                    aiohttp.ClientError,
                    OSError,
                    TimeoutError,
                    BrokerportError,  # a resync or token call that failed: try again
                ) as exc:
                    if isinstance(exc, ClientClosed):
                        raise
                    self.drops += 1
                    failures += 1
                    self.subscribed.clear()
                    log.info("%s stream: %s; reconnecting", self.client.vendor, exc)
                if self.max_attempts is not None and failures >= self.max_attempts:
                    raise StreamError(
                        f"{self.client.vendor} stream: {failures} connection attempts failed",
                        vendor=self.client.vendor,
                    )
                delay = self.backoff.delay(failures - 1, self.rand)
                self.delays.append(delay)
                await self.sleep(delay)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._fail(exc)
        finally:
            if self._own_session is not None:
                session, self._own_session = self._own_session, None
                await session.close()

    def _fail(self, exc: BaseException) -> None:
        """End the stream with ``exc``: buffered events first, then the error."""
        if not isinstance(exc, BrokerportError):
            log.error("stream failed", exc_info=exc)
            exc = StreamError(f"{self.client.vendor} stream failed: {exc!r}")
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(exc)
            self._ready.exception()
        self._closed = True
        self._stop_tracking()
        self._queue.put_nowait(exc)
        if self._on_close is not None:
            self._on_close(self)

    async def _resync(self) -> None:
        keys = [key for _, key in self._open.values()]
        if not keys:
            return
        for event in await self.protocol.resync(self.client, keys):
            event = attrs.evolve(event, source="resync")
            if self.offer(event):
                self.resynced += 1

    async def _watch(self, conn: Connection) -> None:
        """Heartbeats: ping after ``ping_interval`` idle seconds; close the socket
        after ``idle_timeout`` (the reader then reconnects)."""
        ping, idle = self.protocol.ping_interval, self.protocol.idle_timeout
        steps = [t for t in (ping, idle) if t]
        if not steps:
            return
        tick = min(steps) / 2
        pinged_at: float | None = None
        while True:
            await self.timer(tick)
            quiet = self.clock() - conn.last_received
            if idle is not None and quiet >= idle:
                log.info("%s stream idle for %.0f s; reconnecting", self.client.vendor, quiet)
                await conn.close()
                return
            if ping is not None and quiet >= ping and pinged_at != conn.last_received:
                pinged_at = conn.last_received  # one ping per quiet spell
                with contextlib.suppress(ConnectionLost):
                    await self.protocol.ping(conn)


def decimal_or_none(text: Any) -> Decimal | None:
    """A vendor's number text as Decimal; ``""`` / None as None (never a float)."""
    if text is None or text == "":
        return None
    if isinstance(text, float):
        raise TypeError("a float amount in a pushed event")
    return Decimal(str(text))
