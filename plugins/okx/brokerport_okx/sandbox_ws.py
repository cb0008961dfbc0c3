"""The OKX sandbox's private websocket (``/ws/v5/private``) and its fill schedule.

Written from OKX's public V5 websocket document, not from the client's code:

* ``login``: ``args[0]`` = apiKey, passphrase, timestamp (Unix seconds, ±30 s),
  sign = base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"));
  errors 60004 (timestamp not a number), 60006 (expired), 60005 (unknown key),
  60024 (passphrase), 60007 (sign); a demo key on the live URL and the reverse
  fail with 60009 (ASSUMPTION: the document names no code for it). Demo trading
  is the URL's ``?brokerId=9999``, as OKX's demo URL has it.
* ``subscribe`` before login: 60011; a channel other than ``orders`` or a bad
  ``instType``: 60018; answered ``{"event":"subscribe","arg":...,"connId":...}``.
* text ``ping`` is answered ``pong``.
* every change of an order through the REST API (placed, filled, amended,
  cancelled) is pushed to each socket of its owner subscribed to a matching
  ``instType`` / ``instId``: ``{"arg":{...,"uid":...},"data":[order]}``.

Fill schedule (deterministic): each tick fills every resting order placed
before it by 1/``fill_steps`` of its size (rounded down to the lot size; the
last step fills the rest) at its limit price. :meth:`tick` runs ticks by hand
(the demo does); with ``fill_every`` = k > 0 every k-th order write
(place/amend/cancel request) is a tick too (default 0: by hand only; the
default ``fill_steps`` 2, 0: resting orders never fill). Push faults:
``sandbox.push.faults``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web
from brokerport.sandbox import Reject, Subscriber, dumps_json, verify_digest

if TYPE_CHECKING:
    from .sandbox import KeyRecord

__all__ = ["PRIVATE_PATH", "WS_MESSAGES", "OrderPush"]

PRIVATE_PATH = "/ws/v5/private"
VERIFY_PATH = "/users/self/verify"
SKEW = 30
INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "ANY")
_OPEN = ("live", "partially_filled")
#: OKX websocket error codes (the document's 60xxx table)
WS_MESSAGES = {
    "60004": "Invalid timestamp",
    "60005": "Invalid apiKey",
    "60006": "Timestamp request expired",
    "60007": "Invalid sign",
    "60009": "Login failed.",
    "60011": "Please log in",
    "60012": "Invalid request: {0}",
    "60018": "Wrong URL or channel:{0},instId:{1} doesn't exist.",
    "60024": "Wrong passphrase",
}


def _error(code: str, conn_id: str, *args: object) -> str:
    msg = WS_MESSAGES[code].format(*args, "", "")
    return json.dumps({"event": "error", "code": code, "msg": msg, "connId": conn_id})


class OrderPush:
    """Mixed into :class:`~brokerport_okx.sandbox.OkxSandbox`."""

    # provided by the sandbox
    orders: dict[str, dict[str, Any]]
    keys: dict[str, KeyRecord]
    clock: Any
    push: Any

    def init_push(self, fill_steps: int, fill_every: int) -> None:
        self.fill_steps, self.fill_every = fill_steps, fill_every
        self._writes = self._ticks = 0
        self.add_websocket(PRIVATE_PATH, self._private_socket)  # type: ignore[attr-defined]

    # ---------------------------------------------------------------- changes

    def order_changed(self, order: dict[str, Any]) -> None:
        """Stamp ``uTime`` (strictly later than the last change) and push the order."""
        before = int(order.get("uTime") or 0)
        order["uTime"] = str(max(self.clock.now_ms(), before + 1))
        view = {k: v for k, v in order.items() if not k.startswith("_")}

        def frame(sub: Subscriber) -> str | None:
            for arg in sub.match or ():
                if arg["instType"] not in ("ANY", order["instType"]):
                    continue
                if arg.get("instId") not in (None, order["instId"]):
                    continue
                doc = {"arg": arg | {"uid": order["_uid"]}, "data": [view]}
                return dumps_json(doc).decode()
            return None

        self.push.publish(order["_uid"], frame)

    def order_written(self) -> None:
        """An order write was handled: maybe a tick of the fill schedule."""
        self._writes += 1
        if self.fill_steps and self.fill_every and self._writes % self.fill_every == 0:
            self.tick()

    def tick(self, n: int = 1) -> None:
        """``n`` ticks: each fills every resting order placed before it by one step."""
        for _ in range(n):
            self._ticks += 1
            if not self.fill_steps:
                continue
            for oid in sorted(self.orders, key=int):
                order = self.orders[oid]
                if order["state"] in _OPEN and order.get("_tick", 0) < self._ticks:
                    self._fill_step(order)

    @staticmethod
    def _digits(amount: Decimal) -> str:
        return format(amount.normalize(), "f")  # OKX's plain digits: "0.005", "1"

    def _fill_step(self, order: dict[str, Any]) -> None:
        from .sandbox import OkxSandbox

        assert isinstance(self, OkxSandbox)
        size, done = Decimal(order["sz"]), Decimal(order["accFillSz"] or "0")
        lot = Decimal(self.instrument(order["instId"])["lotSz"])
        step = (size / self.fill_steps).quantize(lot, rounding=ROUND_DOWN)
        last = step <= 0 or done + step * 2 > size
        qty = size - done if last else step
        px = order["px"] or "100"
        order.update(accFillSz=self._digits(done + qty), fillSz=self._digits(qty), fillPx=px)
        order.update(avgPx=px, fillTime=str(self.clock.now_ms()), tradeId=self._next_id())
        order["state"] = "filled" if last else "partially_filled"
        self.order_changed(order)

    # -------------------------------------------------------------- the socket

    async def _private_socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        demo = request.query.get("brokerId") == "9999"
        conn_id = self.token_hex(4)  # type: ignore[attr-defined]
        out = Subscriber(ws, "")
        pump = asyncio.ensure_future(out.pump())
        key: KeyRecord | None = None
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                if msg.data == "ping":
                    out.send("pong")
                    continue
                try:
                    doc = json.loads(msg.data)
                    op, args = doc["op"], list(doc.get("args") or [])
                except (ValueError, KeyError, TypeError, AttributeError):
                    out.send(_error("60012", conn_id, msg.data))
                    continue
                if op == "login":
                    try:
                        key = self._ws_login(args, demo)
                    except Reject as rej:
                        out.send(_error(rej.code, conn_id))
                        continue
                    out.send(
                        json.dumps({"event": "login", "code": "0", "msg": "", "connId": conn_id})
                    )
                elif op in ("subscribe", "unsubscribe"):
                    if key is None:
                        out.send(_error("60011", conn_id))
                        continue
                    self._ws_subscribe(out, key, op, args, conn_id)
                else:
                    out.send(_error("60012", conn_id, msg.data))
        finally:
            self.push.detach(out)
            out.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pump, 1.0)
        return ws

    def _ws_login(self, args: list[Any], demo: bool) -> KeyRecord:
        arg = args[0] if args and isinstance(args[0], dict) else {}
        stamp = str(arg.get("timestamp") or "")
        Reject.when(not stamp.isdigit(), "60004")
        Reject.when(abs(int(stamp) - self.clock.now()) > SKEW, "60006")
        key = Reject.absent(self.keys.get(str(arg.get("apiKey") or "")), "60005")
        Reject.when(key.demo != demo, "60009")
        Reject.when(not verify_digest(key.passphrase, str(arg.get("passphrase") or "")), "60024")
        text = (stamp + "GET" + VERIFY_PATH).encode()
        digest = base64.b64encode(hmac.new(key.secret.encode(), text, hashlib.sha256).digest())
        Reject.when(not verify_digest(digest, str(arg.get("sign") or "")), "60007")
        return key

    def _ws_subscribe(
        self, out: Subscriber, key: KeyRecord, op: str, args: list[Any], conn_id: str
    ) -> None:
        wanted = []
        for arg in args:
            ok = isinstance(arg, dict) and arg.get("channel") == "orders"
            if not ok or arg.get("instType") not in INST_TYPES:
                channel = arg.get("channel", "") if isinstance(arg, dict) else ""
                inst = arg.get("instId", "") if isinstance(arg, dict) else ""
                out.send(_error("60018", conn_id, channel, inst))
                return
            wanted.append({k: str(v) for k, v in arg.items()})
        current = [a for a in (out.match or []) if a not in wanted]
        out.match = current + wanted if op == "subscribe" else current
        for arg in wanted:  # answered before the socket can get a push
            out.send(json.dumps({"event": op, "arg": arg, "connId": conn_id}))
        out.principal = key.uid
        if out.match:
            self.push.attach(out)
        else:
            self.push.detach(out)
