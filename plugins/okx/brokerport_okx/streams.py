"""OKX's private websocket ``orders`` channel on the core websocket client.

From OKX's public V5 websocket document:

* URL ``wss://ws.okx.com:8443/ws/v5/private`` (demo trading:
  ``wss://wspap.okx.com:8443/ws/v5/private?brokerId=9999``); profile option
  ``ws_url`` overrides it, and a profile whose base URL is not OKX's (the
  sandbox) uses ``<base_url>/ws/v5/private`` (``?brokerId=9999`` in demo mode).
* ``{"op":"login","args":[{apiKey, passphrase, timestamp, sign}]}`` with the
  timestamp in Unix seconds and sign = base64(HMAC-SHA256(secret, timestamp +
  "GET" + "/users/self/verify")); answer ``{"event":"login","code":"0"}`` or
  ``{"event":"error","code":"600xx"}``. API keys only: OKX documents no OAuth
  websocket login.
* ``{"op":"subscribe","args":[{"channel":"orders","instType":"ANY"}]}``
  (``instType`` required; ``instFamily`` / ``instId`` narrow it); pushes are
  ``{"arg":{...},"data":[order, ...]}`` with every number a string.
* Heartbeat: send the text ``ping`` when nothing arrived for under 30 s (25 s
  here) and expect ``pong``; OKX closes a socket silent for 30 s.
* Reconnect rules: a new connection must log in and subscribe again (OKX has
  no session resume and no replay), connections are limited to 3 per second
  per IP (the backoff's base is 0.5 s), so after a reconnect the orders this
  stream knows to be open are read with ``trade.get_order`` (resync).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from brokerport import models as m
from brokerport.errors import NotFound
from brokerport.ports import StreamPort
from brokerport.streams import (
    Connection,
    ConnectionLost,
    OrderKey,
    OrderStream,
    StreamError,
    StreamProtocol,
    decimal_or_none,
)

if TYPE_CHECKING:
    from brokerport.client import Client

__all__ = ["OkxOrdersProtocol", "OkxStreams", "order_event"]

LIVE_URL = "wss://ws.okx.com:8443/ws/v5/private"
DEMO_URL = "wss://wspap.okx.com:8443/ws/v5/private?brokerId=9999"
PRIVATE_PATH = "/ws/v5/private"
INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "ANY")
#: OKX order states -> the vendor-neutral ones
STATUS = {
    "live": "live",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "canceled": "cancelled",
    "mmp_canceled": "cancelled",
}
_RANK = {"live": 1, "partially_filled": 2, "filled": 3, "canceled": 3, "mmp_canceled": 3}
#: endpoints whose answer names an order this stream should follow
_TRACKED = ("trade.place_order", "trade.amend_order", "trade.cancel_order")


def order_event(doc: Mapping[str, Any]) -> m.OrderEvent:
    """An OKX order object (a push's ``data`` item, or ``trade.get_order``'s) as an
    event; version = (uTime, state rank, accFillSz)."""
    state = str(doc.get("state") or "")
    if state not in STATUS:
        raise ValueError(f"unknown OKX order state {state!r}")
    filled = decimal_or_none(doc.get("accFillSz")) or Decimal(0)
    size = decimal_or_none(doc.get("sz"))
    u_time = int(str(doc.get("uTime") or doc.get("cTime") or 0))
    avg = decimal_or_none(doc.get("avgPx"))
    return m.OrderEvent(
        order_id=str(doc["ordId"]),
        client_order_id=str(doc.get("clOrdId") or "") or None,
        status=STATUS[state],
        vendor_status=state,
        filled_quantity=filled,
        remaining_quantity=None if size is None else max(size - filled, Decimal(0)),
        average_price=avg if avg else None,
        at=datetime.fromtimestamp(u_time / 1000, tz=UTC),
        instrument=str(doc.get("instId") or "") or None,
        side=str(doc.get("side") or "") or None,
        quantity=size,
        price=decimal_or_none(doc.get("px")),
        version=(u_time, _RANK[state], filled),
        raw=doc,
    )


class OkxOrdersProtocol(StreamProtocol):
    """The ``orders`` channel: login, subscribe, ping/pong, resync by ``trade.get_order``."""

    ping_interval = 25.0
    idle_timeout = 30.0 + 25.0  # OKX closes after 30 s silent; our pong is data too

    def __init__(self, query: m.OrderStreamQuery | None = None) -> None:
        query = query or m.OrderStreamQuery()
        inst_type = (query.instrument_type or "ANY").upper()
        if inst_type not in INST_TYPES:
            raise StreamError(f"OKX instType must be one of {', '.join(INST_TYPES)}", vendor="okx")
        self.arg: dict[str, str] = {"channel": "orders", "instType": inst_type}
        if query.instrument:
            self.arg["instId"] = query.instrument
        for key in ("instFamily",):
            if query.extra.get(key):
                self.arg[key] = str(query.extra[key])
        self.pongs = 0
        self.logins = 0

    async def url(self, client: Client) -> str:
        option = client.profile.option("ws_url")
        if option:
            return option
        simulated = bool(getattr(client.adapter, "simulated", False))
        base = client.profile.base_url or ""
        host = urlsplit(base).hostname or ""
        if host == "okx.com" or host.endswith(".okx.com"):
            return DEMO_URL if simulated else LIVE_URL
        ws = "ws" + base.removeprefix("http")  # http -> ws, https -> wss
        return ws.rstrip("/") + PRIVATE_PATH + ("?brokerId=9999" if simulated else "")

    async def open(self, conn: Connection, client: Client, *, resume: bool) -> None:
        from .signing import OkxHmacSigner

        signer = client.signer
        if not isinstance(signer, OkxHmacSigner):
            raise StreamError("OKX's private websocket logs in with an API key", vendor="okx")
        now = client.clock() + client.clock_offset
        await conn.send_text(json.dumps({"op": "login", "args": [signer.websocket_login(now)]}))
        answer = await self._control(conn)
        if answer.get("event") != "login" or str(answer.get("code")) != "0":
            raise self._refusal(answer, "login")
        self.logins += 1
        await conn.send_text(json.dumps({"op": "subscribe", "args": [self.arg]}))
        answer = await self._control(conn)
        if answer.get("event") != "subscribe":
            raise self._refusal(answer, "subscribe")

    async def _control(self, conn: Connection) -> dict[str, Any]:
        while True:
            frame = await conn.receive()
            if frame == "pong":
                continue
            doc = _json(frame)
            if isinstance(doc, dict) and "event" in doc:
                return doc

    @staticmethod
    def _refusal(answer: Mapping[str, Any], step: str) -> Exception:
        code, msg = str(answer.get("code") or ""), str(answer.get("msg") or "")
        if code == "64008":  # "the connection will soon be closed for a service upgrade"
            return ConnectionLost(msg)
        return StreamError(
            f"OKX refused the websocket {step}: {code} {msg}".strip(),
            vendor="okx",
            vendor_code=code or None,
            vendor_message=msg,
        )

    async def on_frame(self, conn: Connection, frame: str | bytes) -> Iterable[m.OrderEvent]:
        if frame == "pong":
            self.pongs += 1
            return ()
        doc = _json(frame)
        if not isinstance(doc, dict):
            return ()
        if doc.get("event") == "error":
            raise self._refusal(doc, "stream")
        if doc.get("event") == "notice":
            raise ConnectionLost(str(doc.get("msg") or "OKX notice"))
        arg = doc.get("arg")
        if not isinstance(arg, dict) or arg.get("channel") != "orders" or "data" not in doc:
            return ()
        return [order_event(item) for item in doc["data"]]

    async def ping(self, conn: Connection) -> None:
        await conn.send_text("ping")

    def track(self, endpoint: str, params: Mapping[str, Any], result: Any) -> Iterable[OrderKey]:
        order_id = getattr(result, "order_id", None)
        if endpoint in _TRACKED and order_id:
            return [OrderKey(str(order_id), str(params.get("instId") or "") or None)]
        return ()

    async def resync(self, client: Client, orders: list[OrderKey]) -> Iterable[m.OrderEvent]:
        out = []
        for key in orders:
            if not key.instrument:
                continue  # OKX reads an order by instId + ordId
            params = {"instId": key.instrument, "ordId": key.order_id}
            try:
                doc = await client.invoke("trade.get_order", params, read=lambda d: d[0])
            except NotFound:
                continue
            out.append(order_event(doc))
        return out


def _json(frame: str | bytes) -> Any:
    try:
        return json.loads(frame, parse_float=Decimal)
    except ValueError:
        raise ConnectionLost("OKX sent a frame that is not JSON") from None


class OkxStreams(StreamPort):
    """``client.streams.orders(OrderStreamQuery(instrument_type="SPOT"))``."""

    def orders(self, query: m.OrderStreamQuery | None = None, **settings: Any) -> OrderStream:
        return self.open_stream(OkxOrdersProtocol(query), **settings)
