"""Websockets in a sandbox: pushes to subscribed sockets, with push faults.

A sandbox serves its vendor's websocket on the same port as its REST API
(:meth:`Sandbox.add_websocket`). Each socket that logged in and subscribed is
a :class:`Subscriber` of the sandbox's :class:`PushHub`; a handler that
changes an order calls ``hub.publish(principal, frame)`` and every socket of
that principal gets the frame, in order, from one writer per socket. The
:class:`PushFaults` plan drops a socket instead of sending every n-th push
(the frame is lost for that socket, as on a real network) and sends every
m-th push twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web

__all__ = ["PushFaults", "PushHub", "Subscriber"]


@attrs.define
class PushFaults:
    """``drop_every``: every n-th push closes its socket instead of being sent;
    ``duplicate_every``: every m-th push is sent twice (None: never).
    Counted over all pushes of the hub, so a run is repeatable."""

    drop_every: int | None = None
    duplicate_every: int | None = None
    pushes: int = 0
    dropped: int = 0
    duplicated: int = 0

    def clear(self) -> None:
        self.drop_every = self.duplicate_every = None
        self.pushes = self.dropped = self.duplicated = 0


class Subscriber:
    """One socket's writer: frames are sent in order by one task."""

    def __init__(self, ws: web.WebSocketResponse, principal: str, match: Any = None) -> None:
        self.ws = ws
        self.principal = principal
        #: what the socket subscribed to (the vendor's filter; see PushHub.publish)
        self.match = match
        self.queue: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self.sent = 0

    def send(self, frame: str | bytes) -> None:
        self.queue.put_nowait(frame)

    def close(self) -> None:
        self.queue.put_nowait(None)

    async def pump(self) -> None:
        """Write queued frames until :meth:`close` or the socket ends."""
        while True:
            frame = await self.queue.get()
            if frame is None or self.ws.closed:
                with contextlib.suppress(Exception):
                    await self.ws.close()
                return
            try:
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return
            self.sent += 1


class PushHub:
    """Every subscribed socket, by principal (API key's uid, user id, ...)."""

    def __init__(self) -> None:
        self.faults = PushFaults()
        self.subscribers: list[Subscriber] = []

    def attach(self, sub: Subscriber) -> None:
        if sub not in self.subscribers:
            self.subscribers.append(sub)

    def detach(self, sub: Subscriber) -> None:
        if sub in self.subscribers:
            self.subscribers.remove(sub)

    def publish(self, principal: str, frame_for: Callable[[Subscriber], str | bytes | None]) -> int:
        """Send ``frame_for(sub)`` (None: not for that socket) to each socket of
        ``principal``, applying the fault plan; how many sockets got it."""
        got = 0
        for sub in list(self.subscribers):
            if sub.principal != principal:
                continue
            frame = frame_for(sub)
            if frame is None:
                continue
            f = self.faults
            f.pushes += 1
            if f.drop_every and f.pushes % f.drop_every == 0:
                f.dropped += 1
                self.detach(sub)
                sub.close()  # the frame is lost for this socket
                continue
            sub.send(frame)
            if f.duplicate_every and f.pushes % f.duplicate_every == 0:
                f.duplicated += 1
                sub.send(frame)
            got += 1
        return got

    def close_all(self) -> None:
        for sub in list(self.subscribers):
            self.detach(sub)
            sub.close()
