"""An in-process Acme Prime server on brokerport's sandbox toolkit.

The toolkit routes every catalog endpoint, checks parameters with the client's rules and
answers in Acme's envelope from the README's error table (objects the adapter's decoder
shares); here are Acme's signature check, written from the README, and the handlers.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from aiohttp import web
from brokerport.catalog import Endpoint
from brokerport.paging import serve_page
from brokerport.sandbox import Reject, Sandbox, handles, verify_digest

from .adapter import AcmeAdapter
from .ports import PAGES  # the pager the bindings read listings with
from .protocol import ENVELOPE, ERRORS

__all__ = ["AcmeSandbox", "create_sandbox"]

STALE_AFTER_MS = 10_000
FILTERS = ("account", "currency", "client_ref")


class AcmeSandbox(Sandbox):
    vendor = "acme"
    envelope, errors = ENVELOPE, ERRORS
    codes: ClassVar[Mapping[str, str]] = {"not_found": "ACME-4040", "server_error": "ACME-5000"}
    codes = {**codes, "invalid": "ACME-1001", "not_json": "ACME-1001", "method": "ACME-1001"}

    def __init__(self, *, api_key: str = "acme-sandbox-key", read_only: bool = False,
                 secret_key: str = "acme-sandbox-secret", **toolkit: Any) -> None:  # fmt: skip
        super().__init__(AcmeAdapter.catalog(), **toolkit)  # clock, enforce_rate_limits, seed
        self.api_key, self.secret_key, self.read_only = api_key, secret_key, read_only
        self.reset()

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key, "secret_key": self.secret_key}

    def reset(self) -> None:
        super().reset()  # journal, faults, rate-limit windows
        self.subaccounts: dict[str, dict[str, Any]] = {}  # insertion order = listing order
        self.money: dict[tuple[str, str], Decimal] = {}  # (sub-account, currency) -> balance
        self.records: list[dict[str, Any]] = []  # deposits and withdrawals, oldest first
        self.orders: dict[str, dict[str, Any]] = {}  # by id, oldest first
        self.ids = itertools.count(1)

    def authenticate(self, request: web.Request, endpoint: Endpoint, body: bytes) -> None:
        """README "Authentication": HMAC-SHA256 over ``ts\\nMETHOD\\npath[?query]\\nbody``
        rebuilt from what arrived (raw path and query, exact body bytes)."""
        h, url = request.headers, request.rel_url
        Reject.when(h.get("X-Acme-Key") != self.api_key, "ACME-2002")
        ts = h.get("X-Acme-Timestamp", "")
        stale = not ts.isdigit() or abs(int(ts) - self.clock.now_ms()) > STALE_AFTER_MS
        Reject.when(stale, "ACME-2003")
        target = url.raw_path + (f"?{url.raw_query_string}" if url.raw_query_string else "")
        text = f"{ts}\n{request.method}\n{target}\n".encode() + body
        digest = hmac.new(self.secret_key.encode(), text, hashlib.sha256).hexdigest()
        Reject.when(not verify_digest(digest, h.get("X-Acme-Signature")), "ACME-2001")
        Reject.when(self.read_only and endpoint.method != "GET", "ACME-2100")

    def rate_limit_key(self, request: web.Request, endpoint: Endpoint) -> str:
        return request.headers.get("X-Acme-Key", "")  # Acme counts per API key

    def rate_limited(self, endpoint: Endpoint) -> web.StreamResponse:
        return self.fail("ACME-4290", headers={"Retry-After": "1"})

    def page(self, items: list[dict[str, Any]], p: dict[str, Any]) -> Any:
        try:
            return serve_page(PAGES, items, p)
        except ValueError:
            raise Reject("ACME-1001", message="cursor: not a cursor from this listing") from None

    def subaccount(self, name: str) -> dict[str, Any]:
        return Reject.absent(self.subaccounts.get(name), "ACME-4040", message=f"no {name!r}")

    # ------------------------------------------------------------- handlers

    @handles("subaccount.create")
    def create_subaccount(self, request: web.Request, p: dict[str, Any]) -> Any:
        taken = f"sub-account {p['name']!r} already exists"
        Reject.when(p["name"] in self.subaccounts, "ACME-4090", message=taken)
        sub = {"id": f"sa-{next(self.ids):06d}", "name": p["name"], "label": p.get("label")}
        sub |= {"status": "active", "created_at": self.clock.now_ms()}
        return self.effect(request, self.subaccounts.setdefault(p["name"], sub))

    @handles("subaccount.delete")
    def delete_subaccount(self, request: web.Request, p: dict[str, Any]) -> Any:
        self.subaccount(p["name"])
        funded = any(v for (owner, _), v in self.money.items() if owner == p["name"])
        Reject.when(funded, "ACME-4090", message="withdraw all funds before deleting it")
        del self.subaccounts[p["name"]]
        return self.effect(request, {"name": p["name"], "deleted": True})

    @handles("subaccount.list")
    def list_subaccounts(self, request: web.Request, p: dict[str, Any]) -> Any:
        return self.page(list(self.subaccounts.values()), p)

    @handles("subaccount.get")
    def get_subaccount(self, request: web.Request, p: dict[str, Any]) -> Any:
        return self.subaccount(p["name"])

    @handles("funding.deposit")
    def deposit(self, request: web.Request, p: dict[str, Any]) -> Any:
        self.subaccount(p["account"])
        for record in self.records:  # Acme de-duplicates deposits by client_ref
            if record["type"] == "deposit" and record["client_ref"] == p["client_ref"]:
                return record
        return self.move(request, p, "deposit", Decimal(p["amount"]))

    @handles("funding.withdraw")
    def withdraw(self, request: web.Request, p: dict[str, Any]) -> Any:
        self.subaccount(p["account"])
        amount = Decimal(p["amount"])
        Reject.when(self.money.get((p["account"], p["currency"]), 0) < amount, "ACME-4220")
        return self.move(request, p, "withdrawal", -amount)

    def move(self, request: web.Request, p: dict[str, Any], kind: str, delta: Decimal) -> Any:
        key = (p["account"], p["currency"])
        self.money[key] = self.money.get(key, Decimal(0)) + delta
        record: dict[str, Any] = {k: p[k] for k in ("account", "currency", "client_ref")}
        record |= {"id": f"{kind[:3]}-{next(self.ids):06d}", "type": kind, "status": "completed"}
        record |= {"amount": format(abs(delta), "f"), "created_at": self.clock.now_ms()}
        self.records.append(record)
        return self.effect(request, record)

    @handles("funding.deposits", "funding.withdrawals")
    def history(self, request: web.Request, p: dict[str, Any]) -> Any:
        kind = "deposit" if request.path.endswith("deposits") else "withdrawal"
        found = [r for r in self.records if r["type"] == kind]
        return self.page([r for r in found if all(p.get(f) in (None, r[f]) for f in FILTERS)], p)

    @handles("funding.balances")
    def balances(self, request: web.Request, p: dict[str, Any]) -> Any:
        self.subaccount(p["account"])
        mine = [
            (c, format(v, "f")) for (a, c), v in sorted(self.money.items()) if a == p["account"]
        ]
        rows = [dict(account=p["account"], currency=c, total=v, available=v) for c, v in mine]
        return [row for row in rows if p.get("currency") in (None, row["currency"])]

    # ------------------------------------------------------- orders (README, "Orders")

    def order(self, p: dict[str, Any]) -> dict[str, Any]:
        found = [o for o in self.orders.values() if p.get("id") in (None, o["id"])]
        found = [o for o in found if p.get("client_order_id") in (None, o["client_order_id"])]
        Reject.when(not p.get("id") and not p.get("client_order_id"), "ACME-1001")
        return Reject.absent(found[0] if found else None, "ACME-4040", message="no such order")

    def open_order(self, p: dict[str, Any]) -> dict[str, Any]:
        order = self.order(p)
        Reject.when(order["status"] != "open", "ACME-4090", message=f"order is {order['status']}")
        return order

    @handles("order.place")
    def place(self, request: web.Request, p: dict[str, Any]) -> Any:
        reused = any(o["client_order_id"] == p["client_order_id"] for o in self.orders.values())
        Reject.when(reused, "ACME-4090", message="client_order_id already used")
        order = {k: p[k] for k in ("instrument", "side", "type", "client_order_id")}
        order |= {k: format(Decimal(p[k]), "f") for k in ("quantity", "price")}
        order |= {"id": f"ord-{next(self.ids):06d}", "status": "open", "filled": "0"}
        self.orders[order["id"]] = order | {"created_at": self.clock.now_ms()}
        return self.effect(request, self.orders[order["id"]])

    @handles("order.get")
    def get_order(self, request: web.Request, p: dict[str, Any]) -> Any:
        return self.order(p)

    @handles("order.open")
    def open_orders(self, request: web.Request, p: dict[str, Any]) -> Any:
        mine = [o for o in self.orders.values() if o["status"] == "open"]
        return self.page([o for o in mine if p.get("instrument") in (None, o["instrument"])], p)

    @handles("order.amend")
    def amend(self, request: web.Request, p: dict[str, Any]) -> Any:
        order = self.open_order(p)
        order |= {k: format(Decimal(p[k]), "f") for k in ("quantity", "price") if k in p}
        return self.effect(request, order)

    @handles("order.cancel")
    def cancel(self, request: web.Request, p: dict[str, Any]) -> Any:
        self.open_order(p)["status"] = "cancelled"
        return self.effect(request, self.orders[p["id"]])


#: The ``brokerport.sandboxes`` entry point: options are AcmeSandbox's keywords.
create_sandbox = AcmeSandbox.factory
