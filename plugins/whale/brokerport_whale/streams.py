"""WhaleAPI's trade websocket (pushed order changes) on the core websocket client.

From whale-endpoints.md section 5 (the LongPort OpenAPI trade gateway protocol):

* ``GET /v1/socket/token`` (signed like every call) gives a one-time ``otp``;
  it is not in the vendor's OpenAPI export, so it is not a catalog operation:
  :data:`SOCKET_TOKEN` is its endpoint, run through the client's pipeline.
* The socket: profile option ``ws_url``, else ``wss://openapi-trade.longportapp.com``
  for the vendor's hosts, else (the sandbox) the base URL's host as ``ws(s)://``;
  always with ``?version=1&codec=1&platform=9`` and ``Accept-Language``.
* Binary frames (:mod:`brokerport_whale.proto`): AUTH (2) with ``AuthRequest{token}``
  gives the session; RECONNECT (3) with ``ReconnectRequest{session_id}`` resumes it
  on a new socket, and when the session expired (an ``Error`` answer) a new token
  and AUTH follow; SUB (16) ``Sub{topics: ["private"]}``; NOTIFY (18) pushes carry
  ``Notification{topic, content_type, dispatch_type, data}`` whose JSON data is
  ``{"event": "order_changed_lb", "data": {...PushOrderChanged...}}`` with every
  number a string (read as Decimal).
* The vendor may deliver a push twice: the stream de-duplicates by ``(order_id,
  version)``, version = (``updated_at``, status rank, ``executed_quantity``).
  ASSUMPTION: two changes of one order within one second with the same status and
  executed quantity (an amend) count as one version; the sandbox stamps every
  change strictly later than the last.
* Heartbeats: websocket ping/pong (aiohttp answers the server's pings); the
  client pings after 30 quiet seconds. There is no replay: after a reconnect the
  orders the stream knows to be open are read with ``trade.order_detail``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from brokerport import models as m
from brokerport.catalog import Endpoint
from brokerport.errors import BrokerportError, InvalidRequest, NotFound
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
from brokerport.types import Secret

from . import proto
from .proto import whale_push_pb2 as pb

if TYPE_CHECKING:
    from brokerport.client import Client

__all__ = ["SOCKET_TOKEN", "STATUS", "WhaleOrdersProtocol", "WhaleStreams", "order_event"]

LIVE_URL = "wss://openapi-trade.longportapp.com"
QUERY = "?version=1&codec=1&platform=9"
TOPIC = "private"
EVENT = "order_changed_lb"
#: the one-time socket token (whale-endpoints.md section 2, "Socket OTP")
SOCKET_TOKEN = Endpoint(
    name="socket.token",
    method="GET",
    path="/v1/socket/token",
    doc="Socket OTP (needed before the trade websocket)",
    sensitive_response=frozenset({"otp"}),
)
#: OrderStatus -> the vendor-neutral status (an open one with fills is partially_filled)
STATUS = {
    "NotReported": "pending",
    "ReplacedNotReported": "pending",
    "ProtectedNotReported": "pending",
    "VarietiesNotReported": "pending",
    "WaitToNew": "pending",
    "NewStatus": "live",
    "WaitToReplace": "live",
    "PendingReplaceStatus": "live",
    "ReplacedStatus": "live",
    "WaitToCancel": "live",
    "PendingCancelStatus": "live",
    "PartialFilledStatus": "partially_filled",
    "FilledStatus": "filled",
    "RejectedStatus": "rejected",
    "CanceledStatus": "cancelled",
    "PartialWithdrawal": "cancelled",
    "ExpiredStatus": "expired",
}
_RANK = {"pending": 0, "live": 1, "partially_filled": 2}
_TRACKED = ("trade.order", "trade.order_update", "trade.order_delete")
TIMEOUT_MS = 10_000


def order_event(doc: Mapping[str, Any]) -> m.OrderEvent:
    """A ``PushOrderChanged`` (or an order read over REST in that shape) as an event."""
    vendor_status = str(doc.get("status") or "")
    if vendor_status not in STATUS:
        raise ValueError(f"unknown WhaleAPI order status {vendor_status!r}")
    filled = decimal_or_none(doc.get("executed_quantity")) or Decimal(0)
    status = STATUS[vendor_status]
    if status == "live" and filled > 0:
        status = "partially_filled"
    size = decimal_or_none(doc.get("submitted_quantity"))
    updated = int(str(doc.get("updated_at") or doc.get("submitted_at") or 0))
    avg = decimal_or_none(doc.get("executed_price"))
    return m.OrderEvent(
        order_id=str(doc["order_id"]),
        client_order_id=str(doc.get("remark") or "") or None,
        status=status,
        vendor_status=vendor_status,
        filled_quantity=filled,
        remaining_quantity=None if size is None else max(size - filled, Decimal(0)),
        average_price=avg if avg else None,
        at=datetime.fromtimestamp(updated, tz=UTC),
        instrument=str(doc.get("symbol") or "") or None,
        side=str(doc.get("side") or "") or None,
        quantity=size,
        price=decimal_or_none(doc.get("submitted_price")) or None,
        version=(updated, _RANK.get(status, 3), filled),
        raw=doc,
    )


def detail_doc(view: Mapping[str, Any]) -> dict[str, Any]:
    """``trade.order_detail``'s answer in the push's field names."""
    doc = dict(view)
    doc.setdefault("submitted_quantity", view.get("quantity"))
    doc.setdefault("submitted_price", view.get("price"))
    return doc


class WhaleOrdersProtocol(StreamProtocol):
    """The trade gateway's ``private`` topic: OTP, AUTH/RECONNECT, SUB, NOTIFY."""

    ping_interval = 30.0
    idle_timeout = None  # the server's pings are answered by aiohttp, unseen here

    def __init__(self, query: m.OrderStreamQuery | None = None) -> None:
        query = query or m.OrderStreamQuery()
        if query.instrument_type or query.instrument:
            raise InvalidRequest(
                "WhaleAPI's private topic carries every order of the account: no instrument filter",
                vendor="whale",
            )
        self.session_id: str | None = None
        self.expires_ms = 0
        self.ids = itertools.count(1)
        self.auths = self.reconnects = 0
        self.accounts: dict[str, str] = {}  # order id -> account_no (for resync)

    async def url(self, client: Client) -> str:
        option = client.profile.option("ws_url")
        if option:
            return option
        base = client.profile.base_url or ""
        host = urlsplit(base).hostname or ""
        if host.endswith(("longportapp.com", "longbridge.xyz", "longbridgeapp.com")):
            return LIVE_URL + QUERY
        parts = urlsplit(base)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return f"{scheme}://{parts.netloc}/{QUERY}"

    def headers(self, client: Client) -> Mapping[str, str]:
        return {"Accept-Language": client.profile.option("accept_language") or "en"}

    # ------------------------------------------------------------ control

    async def _request(self, conn: Connection, cmd: int, body: bytes) -> proto.Packet:
        rid = next(self.ids)
        packet = proto.Packet(proto.REQUEST, cmd, body, request_id=rid, timeout_ms=TIMEOUT_MS)
        await conn.send_bytes(proto.encode(packet))
        while True:
            frame = await conn.receive()
            if isinstance(frame, str):
                continue
            answer = _decode(frame)
            if answer.type == proto.RESPONSE and answer.request_id == rid:
                return answer

    @staticmethod
    def _error(answer: proto.Packet) -> tuple[str, str]:
        err = pb.Error()
        err.ParseFromString(answer.body)
        return str(err.code), err.msg

    async def open(self, conn: Connection, client: Client, *, resume: bool) -> None:
        if resume and self.session_id:
            req = pb.ReconnectRequest(session_id=self.session_id)
            answer = await self._request(conn, proto.RECONNECT, req.SerializeToString())
            if answer.status == 0:
                reply = pb.ReconnectResponse()
                reply.ParseFromString(answer.body)
                self.session_id, self.expires_ms = reply.session_id, reply.expires
                self.reconnects += 1
                await self._subscribe(conn)
                return
            self.session_id = None  # expired or unknown: a new token and AUTH
        otp = await client.invoke(SOCKET_TOKEN.name, {}, read=_otp)
        answer = await self._request(
            conn, proto.AUTH, pb.AuthRequest(token=otp).SerializeToString()
        )
        if answer.status != 0:
            code, msg = self._error(answer)
            raise StreamError(
                f"WhaleAPI refused the websocket AUTH: {code} {msg}".strip(),
                vendor="whale",
                vendor_code=code,
                vendor_message=msg,
            )
        reply = pb.AuthResponse()
        reply.ParseFromString(answer.body)
        self.session_id, self.expires_ms = reply.session_id, reply.expires
        self.auths += 1
        await self._subscribe(conn)

    async def _subscribe(self, conn: Connection) -> None:
        answer = await self._request(conn, proto.SUB, pb.Sub(topics=[TOPIC]).SerializeToString())
        if answer.status != 0:
            code, msg = self._error(answer)
            raise StreamError(f"WhaleAPI refused SUB: {code} {msg}", vendor="whale")
        reply = pb.SubResponse()
        reply.ParseFromString(answer.body)
        if TOPIC not in reply.current:
            reasons = "; ".join(f"{f.topic}: {f.reason}" for f in reply.fail)
            raise StreamError(f"WhaleAPI refused the private topic: {reasons}", vendor="whale")

    # ------------------------------------------------------------- pushes

    async def on_frame(self, conn: Connection, frame: str | bytes) -> Iterable[m.OrderEvent]:
        if isinstance(frame, str):
            return ()
        packet = _decode(frame)
        if packet.type != proto.PUSH or packet.cmd != proto.NOTIFY:
            return ()
        note = pb.Notification()
        note.ParseFromString(packet.body)
        if note.topic != TOPIC or note.content_type != pb.CONTENT_JSON:
            return ()
        try:
            doc = json.loads(note.data, parse_float=Decimal)
        except ValueError:
            raise ConnectionLost("WhaleAPI pushed data that is not JSON") from None
        if not isinstance(doc, dict) or doc.get("event") != EVENT:
            return ()
        data = doc.get("data")
        if not isinstance(data, dict):
            return ()
        if data.get("account_no"):
            self.accounts.setdefault(str(data["order_id"]), str(data["account_no"]))
        return [order_event(data)]

    # -------------------------------------------------------------- resync

    def track(self, endpoint: str, params: Mapping[str, Any], result: Any) -> Iterable[OrderKey]:
        if endpoint not in _TRACKED:
            return ()
        order_id = params.get("order_id")
        if order_id is None:
            order_id = getattr(result, "order_id", None)
            if order_id is None and isinstance(result, Mapping):
                order_id = result.get("order_id")
        if not order_id:
            return ()
        if params.get("account_no"):
            self.accounts[str(order_id)] = str(params["account_no"])
        return [OrderKey(str(order_id), str(params.get("symbol") or "") or None)]

    async def resync(self, client: Client, orders: list[OrderKey]) -> Iterable[m.OrderEvent]:
        default = client.profile.option("account_no")
        out = []
        for key in orders:
            account = self.accounts.get(key.order_id) or default
            if not account:
                continue
            params = {"order_id": key.order_id, "account_no": account}
            try:
                view = await client.invoke("trade.order_detail", params)
            except (NotFound, InvalidRequest):
                continue
            out.append(order_event(detail_doc(view)))
        return out


def _otp(data: Any) -> str:
    otp = data.get("otp") if isinstance(data, Mapping) else None
    if isinstance(otp, Secret):  # sensitive_response: the pipeline wraps it
        otp = otp.reveal()
    if not isinstance(otp, str) or not otp:
        raise BrokerportError("WhaleAPI's socket token answer has no otp", vendor="whale")
    return otp


def _decode(frame: bytes) -> proto.Packet:
    try:
        return proto.decode(frame)
    except proto.FrameError as exc:
        raise ConnectionLost(f"WhaleAPI sent a bad frame: {exc}") from None


class WhaleStreams(StreamPort):
    """``client.streams.orders()``: every order change of the account."""

    def orders(self, query: m.OrderStreamQuery | None = None, **settings: Any) -> OrderStream:
        stream = self.open_stream(WhaleOrdersProtocol(query), **settings)
        _register_token_endpoint(self.client)
        return stream


def _register_token_endpoint(client: Client) -> None:
    """The socket token is no catalog operation: give the pipeline its endpoint."""
    endpoints = getattr(client.pipeline, "_endpoints", None)
    if isinstance(endpoints, dict):
        endpoints.setdefault(SOCKET_TOKEN.name, SOCKET_TOKEN)
