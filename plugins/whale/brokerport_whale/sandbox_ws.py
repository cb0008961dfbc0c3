"""The WhaleAPI sandbox's trade websocket and its fill schedule (a mixin of
:class:`~brokerport_whale.sandbox.WhaleSandbox`).

Written from whale-endpoints.md section 5, not from the client's code:

* ``GET /v1/socket/token`` (signed and authenticated like every call) answers
  ``{code: 0, message: "success", data: {otp}}``: a one-time token, valid for
  ``otp_ttl`` seconds (ASSUMPTION: the document gives no lifetime; 60 s).
* The socket is served on the REST port at ``/`` (the trade URL's root) and wants
  ``?version=1&codec=1`` (protocol v1, protobuf); anything else is closed with
  code 1008.
* Binary frames (:mod:`brokerport_whale.proto`). AUTH (2) spends the token and
  answers ``AuthResponse{session_id, expires (ms), limit, online}``; RECONNECT (3)
  with a live ``session_id`` answers a new session (the old one ends); an unknown,
  spent or expired token or session is an ``Error`` response (status 1; codes
  401004 "token invalid" and 401003 "session expired" are ASSUMPTIONS: the
  document names none). SUB (16) / UNSUB (17) before AUTH: 401004. SUB accepts
  ``private`` only (others are in ``fail`` with a reason).
* Every change of an order through the REST API (placed, filled, amended,
  cancelled) is pushed as NOTIFY (18) ``Notification{topic "private",
  CONTENT_JSON, DISPATCH_DIRECT, data}`` with data ``{"event": "order_changed_lb",
  "data": PushOrderChanged}`` (every number a string) to every socket of the
  tenant subscribed to ``private`` (the sandbox has one tenant). Each change is
  stamped ``updated_at`` strictly later (in seconds) than the order's last push.

Fill schedule (deterministic): each :meth:`tick` fills every resting limit order
placed before it by 1/``fill_steps`` of its size (whole shares, rounded down; the
last step fills the rest) at its limit price; with ``fill_every`` = k > 0 every
k-th order write (place/amend/cancel through the REST API) is a tick too.
Defaults: ``fill_steps`` 2, ``fill_every`` 0 (by hand only). Push faults:
``sandbox.push.faults``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from decimal import ROUND_DOWN, Decimal
from typing import Any

from aiohttp import WSMsgType, web
from brokerport.sandbox import Subscriber, json_response

from . import proto
from .proto import whale_push_pb2 as pb
from .streams import EVENT, SOCKET_TOKEN, TOPIC

__all__ = ["SOCKET_PATH", "TradePush"]

SOCKET_PATH = "/"
PRINCIPAL = "tenant"
_FINAL = frozenset(
    {"FilledStatus", "RejectedStatus", "CanceledStatus", "ExpiredStatus", "PartialWithdrawal"}
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        )
    return str(value)


class TradePush:
    """Websocket, one-time tokens, sessions, order pushes and the fill schedule."""

    # provided by the sandbox
    orders: dict[str, dict[str, Any]]
    trades: list[dict[str, Any]]
    prices: dict[str, Decimal]
    clock: Any
    push: Any

    def __init__(
        self,
        *,
        fill_steps: int = 2,
        fill_every: int = 0,
        session_ttl: float = 3600.0,
        otp_ttl: float = 60.0,
        **options: Any,
    ) -> None:
        self.fill_steps, self.fill_every = fill_steps, fill_every
        self.session_ttl, self.otp_ttl = session_ttl, otp_ttl
        self._reset_push()
        super().__init__(**options)
        self.add_websocket(SOCKET_PATH, self._trade_socket)  # type: ignore[attr-defined]

        async def token(request: web.Request) -> web.StreamResponse:
            return self._socket_token(request)

        self.add_route(SOCKET_TOKEN, token)  # type: ignore[attr-defined]  # outside the spec

    def _reset_push(self) -> None:
        self.otps: dict[str, float] = {}  # token -> expires (s)
        self.sessions: dict[str, float] = {}  # session id -> expires (s)
        self._writes = self._ticks = 0
        self.auths = self.reconnects = 0

    def reset(self) -> None:
        self._reset_push()
        super().reset()  # type: ignore[misc]

    # ---------------------------------------------------------------- changes

    def order_changed(self, order: dict[str, Any], *, write: bool = True) -> None:
        """Push ``order``'s new state (a hook of the order handlers); ``write``: a change
        made by a REST call (counts toward ``fill_every``), not by the market."""
        last = order.get("_pushed_at")
        stamp = int(order.get("updated_at") or self.clock.now())
        if last is not None and stamp <= last:
            stamp = last + 1
        order["updated_at"] = order["_pushed_at"] = stamp
        order.setdefault("_tick", self._ticks)
        data = json.dumps({"event": EVENT, "data": self.push_view(order)}).encode()
        note = pb.Notification(
            topic=TOPIC, content_type=pb.CONTENT_JSON, dispatch_type=pb.DISPATCH_DIRECT, data=data
        )
        frame = proto.encode(proto.Packet(proto.PUSH, proto.NOTIFY, note.SerializeToString()))
        self.push.publish(PRINCIPAL, lambda sub: frame if TOPIC in (sub.match or ()) else None)
        if write:
            self._writes += 1
            if self.fill_steps and self.fill_every and self._writes % self.fill_every == 0:
                self.tick()

    def push_view(self, o: dict[str, Any]) -> dict[str, Any]:
        """``PushOrderChanged`` (whale-endpoints.md section 5): every number a string."""
        done = o["executed_quantity"]
        avg = (o["cost"] / done).quantize(Decimal("0.0001")) if done else Decimal(0)
        fill = next((t for t in reversed(self.trades) if t["order_id"] == o["order_id"]), None)
        return {
            "account_no": o["account_no"], "side": o["side"], "stock_name": o["symbol"],
            "symbol": o["symbol"], "order_id": o["order_id"], "order_type": o["order_type"],
            "submitted_at": str(o["submitted_at"]), "updated_at": str(o["updated_at"]),
            "submitted_price": _text(o["price"] or Decimal(0)),
            "submitted_quantity": _text(o["quantity"]), "currency": o["currency"],
            "executed_price": _text(avg), "executed_quantity": _text(done),
            "last_price": fill["price"] if fill else "0",
            "last_share": fill["quantity"] if fill else "0",
            "trigger_price": "", "trigger_status": "DEACTIVE", "trigger_at": "0",
            "trailing_amount": "", "trailing_percent": "", "limit_offset": "",
            "remark": o.get("remark") or "", "msg": "", "status": o["status"], "tag": "Normal",
        }  # fmt: skip

    def tick(self, n: int = 1) -> None:
        """``n`` ticks: each fills every resting order placed before it by one step."""
        for _ in range(n):
            self._ticks += 1
            if not self.fill_steps:
                continue
            for oid in sorted(self.orders):
                o = self.orders[oid]
                if o["status"] in _FINAL or o.get("_tick", self._ticks) >= self._ticks:
                    continue
                size, done = o["quantity"], o["executed_quantity"]
                step = (size / self.fill_steps).quantize(Decimal(1), rounding=ROUND_DOWN)
                last = step <= 0 or done + step * 2 > size
                qty = size - done if last else step
                if qty <= 0:
                    continue
                price = o["price"] or self.prices.get(o["symbol"], Decimal(100))
                self.fill(oid, qty, price)  # type: ignore[attr-defined]

    # -------------------------------------------------------------- the token

    def _socket_token(self, request: web.Request) -> web.StreamResponse:
        otp = "otp-" + secrets.token_hex(16)
        self.otps[otp] = self.clock.now() + self.otp_ttl
        return json_response({"code": 0, "message": "success", "data": {"otp": otp}})

    # -------------------------------------------------------------- the socket

    def _session(self) -> pb.AuthResponse:
        sid = "ws-" + secrets.token_hex(12)
        expires = self.clock.now() + self.session_ttl
        self.sessions[sid] = expires
        online = len(self.push.subscribers) + 1
        return pb.AuthResponse(session_id=sid, expires=int(expires * 1000), limit=10, online=online)

    async def _trade_socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        if request.query.get("version") != "1" or request.query.get("codec") != "1":
            await ws.close(code=1008, message=b"version=1&codec=1 required")
            return ws
        out = Subscriber(ws, PRINCIPAL, match=set())
        pump = asyncio.ensure_future(out.pump())
        authed = False
        try:
            async for msg in ws:
                if msg.type != WSMsgType.BINARY:
                    continue
                try:
                    packet = proto.decode(msg.data)
                except proto.FrameError:
                    break  # a client that breaks the framing is dropped
                if packet.type != proto.REQUEST:
                    continue
                status, body, authed = self._control(packet, out, authed)
                answer = proto.Packet(
                    proto.RESPONSE, packet.cmd, body, request_id=packet.request_id, status=status
                )
                out.send(proto.encode(answer))
        finally:
            self.push.detach(out)
            out.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pump, 1.0)
        return ws

    @staticmethod
    def _err(code: int, msg: str) -> tuple[int, bytes]:
        return 1, pb.Error(code=code, msg=msg).SerializeToString()

    def _control(
        self, packet: proto.Packet, out: Subscriber, authed: bool
    ) -> tuple[int, bytes, bool]:
        now = self.clock.now()
        try:
            if packet.cmd == proto.AUTH:
                token = pb.AuthRequest.FromString(packet.body).token
                if self.otps.pop(token, -1.0) < now:
                    return (*self._err(401004, "token invalid"), authed)
                self.auths += 1
                return 0, self._session().SerializeToString(), True
            if packet.cmd == proto.RECONNECT:
                sid = pb.ReconnectRequest.FromString(packet.body).session_id
                if self.sessions.pop(sid, -1.0) < now:
                    return (*self._err(401003, "session expired"), authed)
                self.reconnects += 1
                reply = pb.ReconnectResponse()
                reply.ParseFromString(self._session().SerializeToString())
                return 0, reply.SerializeToString(), True
            if packet.cmd in (proto.SUB, proto.UNSUB):
                if not authed:
                    return (*self._err(401004, "not authenticated"), authed)
                return (*self._subscribe(packet, out), authed)
        except Exception:  # an undecodable body (protobuf's DecodeError)
            return (*self._err(400, "invalid request body"), authed)
        return (*self._err(400, f"unknown command {packet.cmd}"), authed)

    def _subscribe(self, packet: proto.Packet, out: Subscriber) -> tuple[int, bytes]:
        current: set[str] = out.match
        if packet.cmd == proto.UNSUB:
            current.difference_update(pb.Unsub.FromString(packet.body).topics)
            if not current:
                self.push.detach(out)
            return 0, pb.UnsubResponse(current=sorted(current)).SerializeToString()
        reply = pb.SubResponse()
        for topic in pb.Sub.FromString(packet.body).topics:
            if topic == TOPIC:
                current.add(topic)
                reply.success.append(topic)
            else:
                reply.fail.add(topic=topic, reason="unknown topic")
        reply.current.extend(sorted(current))
        if current:
            self.push.attach(out)
        return 0, reply.SerializeToString()
