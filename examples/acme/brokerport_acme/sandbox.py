"""An in-process Acme Prime server, built on brokerport's sandbox toolkit.

It speaks the wire protocol in the README: same paths, envelopes, error codes,
signature checks and rate limits, with in-memory state. The toolkit base
class adds the request journal, the deterministic clock, fault injection and
rate-limit enforcement from the catalog. Run it alone with
``brokerport sandbox acme``; ``brokerport.connect("acme")`` starts one per client.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aiohttp import web
from brokerport.catalog import Endpoint
from brokerport.errors import InvalidRequest
from brokerport.signing import PreparedRequest, hmac_sha256_hex
from brokerport.testing.sandbox import Sandbox, SandboxClock, json_response, verify_digest

from .adapter import AcmeAdapter, string_to_sign

__all__ = ["AcmeSandbox", "create_sandbox"]

STALE_AFTER_MS = 10_000


class Fail(Exception):
    """Raised by a handler: answered as Acme's error envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return json_response(
        {"ok": False, "error": {"code": code, "message": message}},
        status=status,
        headers=headers or None,
    )


def money(value: Decimal) -> str:
    return format(value, "f")  # Acme sends amounts as decimal strings


Handler = Callable[[web.Request, dict[str, Any]], Any]


class AcmeSandbox(Sandbox):
    vendor = "acme"

    def __init__(
        self,
        *,
        api_key: str = "acme-sandbox-key",
        secret_key: str = "acme-sandbox-secret",
        read_only: bool = False,
        clock: SandboxClock | None = None,
        enforce_rate_limits: bool = True,
    ) -> None:
        super().__init__(
            AcmeAdapter.catalog(), clock=clock, enforce_rate_limits=enforce_rate_limits
        )
        self.api_key, self.secret_key, self.read_only = api_key, secret_key, read_only
        self.reset()
        # One route per catalog endpoint: method and path come from the catalog.
        for name, handler in {
            "subaccount.create": self.create_subaccount,
            "subaccount.delete": self.delete_subaccount,
            "subaccount.list": self.list_subaccounts,
            "subaccount.get": self.get_subaccount,
            "funding.deposit": self.deposit,
            "funding.withdraw": self.withdraw,
            "funding.deposits": lambda request, p: self.history("deposit", p),
            "funding.withdrawals": lambda request, p: self.history("withdrawal", p),
            "funding.balances": self.balances,
        }.items():
            self.add_route(name, self.serve(self.catalog[name], handler))

    # ------------------------------------------------------ toolkit overrides

    def credentials(self) -> dict[str, str]:
        return {"api_key": self.api_key, "secret_key": self.secret_key}

    def reset(self) -> None:
        super().reset()  # journal, faults, rate-limit windows
        self.subaccounts: dict[str, dict[str, Any]] = {}  # insertion order = listing order
        self.money: dict[tuple[str, str], Decimal] = {}  # (sub-account, currency) -> balance
        self.records: list[dict[str, Any]] = []  # deposits and withdrawals, oldest first
        self.ids = itertools.count(1)

    def authenticate(
        self, request: web.Request, endpoint: Endpoint, body: bytes
    ) -> web.StreamResponse | None:
        h = request.headers
        if h.get("X-Acme-Key") != self.api_key:
            return error(401, "ACME-2002", "unknown API key")
        timestamp = h.get("X-Acme-Timestamp", "")
        if not timestamp.isdigit() or abs(int(timestamp) - self.clock.now_ms()) > STALE_AFTER_MS:
            return error(401, "ACME-2003", "timestamp outside the 10 s window")
        # Rebuild the string to sign from what actually arrived: raw path + raw query + body.
        arrived = PreparedRequest(
            request.method,
            "",
            request.rel_url.raw_path,
            request.rel_url.raw_query_string,
            body=body,
        )
        expected = hmac_sha256_hex(self.secret_key, string_to_sign(timestamp, arrived))
        if not verify_digest(expected, h.get("X-Acme-Signature")):  # hmac.compare_digest
            return error(401, "ACME-2001", "signature mismatch")
        if self.read_only and endpoint.method != "GET":
            return error(403, "ACME-2100", "this API key is read-only")
        return None

    def rate_limit_key(self, request: web.Request, endpoint: Endpoint) -> str:
        return request.headers.get("X-Acme-Key", "")  # Acme counts per API key

    def rate_limited(self, endpoint: Endpoint) -> web.StreamResponse:
        return error(429, "ACME-4290", "rate limit exceeded", **{"Retry-After": "1"})

    def server_error(self, status: int) -> web.StreamResponse:
        return error(status, "ACME-5000", "internal error")

    # ------------------------------------------------------------- plumbing

    def serve(self, endpoint: Endpoint, handler: Handler) -> Callable[..., Any]:
        """Parse and check parameters, run ``handler``, wrap its result in the envelope."""

        async def route(request: web.Request) -> web.StreamResponse:
            body = self.json_of(request)
            if not isinstance(body, dict):
                return error(400, "ACME-1001", "the body must be a JSON object")
            params: dict[str, Any] = {**request.query, **request.match_info, **body}
            try:
                # Acme checks the same rules the client does (one source of truth).
                endpoint.validate(params)
                result = handler(request, params)
            except InvalidRequest as exc:
                return error(400, "ACME-1001", exc.message)
            except Fail as exc:
                return error(exc.status, exc.code, exc.message)
            return json_response({"ok": True, "result": result})

        return route

    def page(self, items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        """Cursor pagination: the cursor is an opaque, encoded offset."""
        try:
            cursor = params.get("cursor")
            start = int(base64.urlsafe_b64decode(cursor).decode()) if cursor else 0
        except ValueError:
            raise Fail(400, "ACME-1001", "cursor: not a cursor from this listing") from None
        end = start + int(params.get("limit") or 20)
        more = end < len(items)
        token = base64.urlsafe_b64encode(str(end).encode()).decode() if more else None
        return {"items": items[start:end], "next_cursor": token}

    def subaccount(self, name: str) -> dict[str, Any]:
        if name not in self.subaccounts:
            raise Fail(404, "ACME-4040", f"no sub-account {name!r}")
        return self.subaccounts[name]

    # ------------------------------------------------------------- handlers

    def create_subaccount(self, request: web.Request, p: dict[str, Any]) -> Any:
        if p["name"] in self.subaccounts:
            raise Fail(409, "ACME-4090", f"sub-account {p['name']!r} already exists")
        self.subaccounts[p["name"]] = sub = {
            "id": f"sa-{next(self.ids):06d}",
            "name": p["name"],
            "label": p.get("label"),
            "status": "active",
            "created_at": self.clock.now_ms(),
        }
        self.mark_effect(request)
        return sub

    def delete_subaccount(self, request: web.Request, p: dict[str, Any]) -> Any:
        self.subaccount(p["name"])
        if any(v for (owner, _), v in self.money.items() if owner == p["name"]):
            raise Fail(409, "ACME-4090", "withdraw all funds before deleting a sub-account")
        del self.subaccounts[p["name"]]
        self.mark_effect(request)
        return {"name": p["name"], "deleted": True}

    def list_subaccounts(self, request: web.Request, p: dict[str, Any]) -> Any:
        return self.page(list(self.subaccounts.values()), p)

    def get_subaccount(self, request: web.Request, p: dict[str, Any]) -> Any:
        return self.subaccount(p["name"])

    def deposit(self, request: web.Request, p: dict[str, Any]) -> Any:
        self.subaccount(p["account"])
        for record in self.records:  # Acme de-duplicates deposits by client_ref
            if record["type"] == "deposit" and record["client_ref"] == p["client_ref"]:
                return record
        return self.move(request, p, "deposit", Decimal(p["amount"]))

    def withdraw(self, request: web.Request, p: dict[str, Any]) -> Any:
        self.subaccount(p["account"])
        amount = Decimal(p["amount"])
        if self.money.get((p["account"], p["currency"]), Decimal(0)) < amount:
            raise Fail(422, "ACME-4220", "insufficient funds")
        return self.move(request, p, "withdrawal", -amount)

    def move(self, request: web.Request, p: dict[str, Any], kind: str, delta: Decimal) -> Any:
        key = (p["account"], p["currency"])
        self.money[key] = self.money.get(key, Decimal(0)) + delta
        record = {
            "id": f"{kind[:3]}-{next(self.ids):06d}",
            "type": kind,
            "account": p["account"],
            "amount": money(abs(delta)),
            "currency": p["currency"],
            "client_ref": p["client_ref"],
            "status": "completed",
            "created_at": self.clock.now_ms(),
        }
        self.records.append(record)
        self.mark_effect(request)
        return record

    def history(self, kind: str, p: dict[str, Any]) -> Any:
        found = [
            r
            for r in self.records
            if r["type"] == kind
            and all(p.get(f) in (None, r[f]) for f in ("account", "currency", "client_ref"))
        ]
        return self.page(found, p)

    def balances(self, request: web.Request, p: dict[str, Any]) -> Any:
        self.subaccount(p["account"])
        return [
            {"account": owner, "currency": ccy, "total": money(v), "available": money(v)}
            for (owner, ccy), v in sorted(self.money.items())
            if owner == p["account"] and p.get("currency") in (None, ccy)
        ]


def create_sandbox(**options: Any) -> AcmeSandbox:
    """The ``brokerport.sandboxes`` entry point: options are AcmeSandbox's keywords."""
    return AcmeSandbox(**options)
