"""The wlink sandbox: both portals, both auth modes, state for what changes.

Built on the core sandbox toolkit, as data-driven as it allows: every one of
the 112 catalog endpoints is routed from the catalog (method, path, service),
each request's parameters are checked against the catalog (required, integer,
boolean, no unknown body keys) before any handler runs, read-only operations
without state answer the generated ``fixtures.json`` (one example per
operation, made from the vendor's spec at development time), and handlers are
written only for what keeps state: trading accounts, applications (deposit
drafts and receipts, withdrawals, transfers, payees), messages, IB clients and
rebates, sessions and email codes.

* **Two servers**: the client portal (``base_url``) and the IB portal
  (``ib_base_url``, a second port); an endpoint answers only on its own.
* **Signed calls** are verified from the vendor README (independent of the
  client's signer): unknown key, stale timestamp (30 s), reused nonce and bad
  signature are each refused with 401. **Portal tokens** come from login.
* **50 requests/second per key** (the catalog's group), counted per API key or
  per session.
* Errors: ``{"code": status, "reason": "...", "message": "...", "metadata": {}}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources
from typing import Any

from aiohttp import web
from brokerport.catalog import Endpoint
from brokerport.profile import Profile
from brokerport.testing.sandbox import Sandbox, SandboxClock, json_response, verify_digest

from .adapter import WlinkAdapter

__all__ = ["WlinkSandbox", "create_sandbox"]

API_KEY = "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b"
API_SECRET = "wlink-sandbox-secret-0001"
EMAIL = "client@sandbox.wlink.invalid"
PASSWORD = "Sandbox-pass1"
WINDOW_MS = 30_000
ZONE = timezone(timedelta(hours=8))  # the sandbox tenant's zone (the client's default)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CENT = Decimal("0.01")
USER = web.RequestKey("wlink_user", int)
ARGS = web.RequestKey("wlink_args", dict)


def fail(status: int, reason: str, message: str) -> web.Response:
    return json_response(
        {"code": status, "reason": reason, "message": message, "metadata": {}}, status=status
    )


def money(value: Decimal) -> str:
    return format(value, "f")


PAYEE_INFO = {
    "bank_transfer": "bank_transfer_info",
    "international_wire_transfer": "international_wire_info",
    "cryptocurrency": "cryptocurrency_info",
}


class Refused(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.response = fail(status, reason, message)


def canonical(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(p for p in pairs if p[1] != ""))


class WlinkSandbox(Sandbox):
    vendor = "wlink"

    def __init__(
        self,
        *,
        email_codes: bool = True,
        clock: SandboxClock | None = None,
        enforce_rate_limits: bool = True,
    ) -> None:
        super().__init__(
            WlinkAdapter.catalog(), clock=clock, enforce_rate_limits=enforce_rate_limits
        )
        self.email_codes = email_codes
        self.spec_fixtures: dict[str, Any] = json.loads(
            resources.files("brokerport_wlink").joinpath("fixtures.json").read_text("utf-8")
        )
        self.app.middlewares.insert(0, self._envelope)
        self.ib_base_url: str | None = None
        self._ports: dict[str, int] = {}
        for name in self.catalog:
            own = getattr(self, "h_" + name.replace(".", "__"), None) or self._own(name)
            self.add_route(name, self._guarded(name, own or self._spec_fixture(name)))
        self.reset()

    # ------------------------------------------------------------ state

    def reset(self) -> None:
        super().reset()
        self.ids = itertools.count(100)
        self.users: dict[int, dict[str, Any]] = {}
        self.tokens: dict[str, int] = {}
        self.nonces: dict[str, int] = {}
        self.mailbox: dict[tuple[str, str], str] = {}
        self.reset_tokens: dict[str, int] = {}
        self.accounts: dict[int, dict[str, Any]] = {}
        self.deposits: dict[str, dict[str, Any]] = {}
        self.withdrawals: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.payees: dict[int, dict[str, Any]] = {}
        self.leverage_audits: dict[int, dict[str, Any]] = {}
        self.messages: dict[str, dict[int, dict[str, Any]]] = {"client": {}, "ib": {}}
        self.ib_clients: dict[int, dict[str, Any]] = {}
        self.rebates: list[dict[str, Any]] = []
        self.rebate_accounts: dict[int, dict[str, Any]] = {}
        self.trades: dict[str, list[dict[str, Any]]] = {"history": [], "holding": [], "pending": []}
        self.kyc: dict[str, Any] = {}
        self.channels: dict[int, dict[str, Any]] = {
            1: {"id": 1, "method": "bank_transfer", "name": "Bank transfer", "fee": "2.50"},
            2: {"id": 2, "method": "cryptocurrency", "name": "USDT", "fee": "1.00"},
        }
        self.rates = {("USD", "USD"): "1", ("USD", "EUR"): "0.92", ("USD", "USDT"): "1.0005"}
        self.user_id = self.add_user(EMAIL, PASSWORD)
        self.account_id = self.add_account(self.user_id, balance=Decimal("10000"))
        self.add_account(self.user_id, balance=Decimal("500"), is_demo=True)
        for i in range(3):
            self.add_message("client", f"Welcome {i}")
            self.add_message("ib", f"IB notice {i}")
            self.add_ib_client(f"client{i}@sandbox.wlink.invalid")
            self.add_rebate(Decimal("1.5") + i)
        self.rebate_accounts[1] = {
            "id": 1,
            "account_id": "880001",
            "balance": "12.50",
            "enabled": True,
        }
        self.add_trade("history", "EURUSD")
        self.add_trade("holding", "XAUUSD")
        self.add_trade("pending", "GBPUSD")

    def now_text(self, shift: float = 0) -> str:
        return datetime.fromtimestamp(self.clock.now() + shift, ZONE).strftime("%Y-%m-%d %H:%M:%S")

    def order_number(self, prefix: str) -> str:
        return f"{prefix}{self.clock.now_ms()}{next(self.ids)}"

    def add_user(self, email: str, password: str) -> int:
        uid = 1000 + len(self.users) + 1
        self.users[uid] = {
            "id": uid,
            "email": email,
            "password": password,
            "first_name": "San",
            "last_name": "Dbox",
            "full_name": "San Dbox",
            "user_type": "client",
        }
        return uid

    def add_account(
        self,
        user: int,
        *,
        balance: Decimal = Decimal(0),
        is_demo: bool = False,
        platform: str = "MT5",
        leverage: int = 100,
    ) -> int:
        aid = next(self.ids)
        self.accounts[aid] = {
            "id": aid,
            "user": user,
            "account": str(880000 + aid),
            "balance": balance,
            "credit": Decimal(0),
            "currency": "USD",
            "is_demo": is_demo,
            "leverage": leverage,
            "password": secrets.token_hex(6),
            "observe_password": secrets.token_hex(6),
            "server_name": f"{platform}-{'Demo' if is_demo else 'Live'}",
            "trading_account_type_name": "Standard",
            "trading_platform": platform,
        }
        return aid

    def add_message(self, portal: str, title: str) -> int:
        mid = next(self.ids)
        self.messages[portal][mid] = {
            "id": mid,
            "title": title,
            "sender": "Sandbox",
            "content": f"{title}.",
            "created_at": self.now_text(),
            "is_read": False,
            "hidden": False,
        }
        return mid

    def add_ib_client(self, email: str) -> int:
        cid = next(self.ids)
        self.ib_clients[cid] = {
            "client_id": cid,
            "client_user_id": cid,
            "email": email,
            "first_name": "Ib",
            "last_name": f"Client{cid}",
            "full_name": f"Ib Client{cid}",
            "kyc_status": "approved",
            "status": "enabled",
            "source": "referral",
            "account": str(770000 + cid),
            "created_at": self.now_text(),
            "updated_at": self.now_text(),
            "latest_trade_time": self.now_text(),
        }
        return cid

    def add_rebate(self, profit: Decimal) -> None:
        cid = next(iter(self.ib_clients), 0)
        self.rebates.append(
            {
                "rebate_id": next(self.ids),
                "client_user_id": cid,
                "client_user_name": cid,
                "ib_user_id": self.user_id,
                "ib_user_name": self.user_id,
                "rebate_type": "commission",
                "symbol": "EURUSD",
                "trade_profit": profit,
                "open_time": self.now_text(-3600),
                "settlement_time": self.now_text(),
                "payment_time": self.now_text(),
            }
        )

    def add_trade(self, kind: str, symbol: str, account: int | None = None, **fields: Any) -> str:
        acct = self.accounts[account or self.account_id]
        number = f"T{next(self.ids)}"
        trade = {
            "order_number": number,
            "symbol": symbol,
            "volume": "0.10",
            "currency": "USD",
            "sl": "0.00",
            "tp": "0.00",
            "user_name": "San Dbox",
            "trading_account": {
                "account": acct["account"],
                "id": acct["id"],
                "server_name": acct["server_name"],
                "server_type": self.server_type(acct),
            },
        }
        if kind == "pending":
            trade.update(
                trading_type="BUY_LIMIT", pending_price="1.0500", pending_time=self.now_text()
            )
        else:
            trade.update(
                trading_type="BUY",
                open_price="1.1000",
                open_time=self.now_text(-7200),
                close_price="1.1050",
                profit="5.00",
                swap="0.00",
                commission="0.70",
            )
            if kind == "history":
                trade["close_time"] = self.now_text(-60)
            else:
                trade["leverage"] = acct["leverage"]
        trade.update(fields)
        self.trades[kind].append(trade)
        return number

    @staticmethod
    def server_type(acct: dict[str, Any]) -> str:
        return f"{acct['trading_platform']}-{'Demo' if acct['is_demo'] else 'Live'}"

    def account_ref(self, aid: int) -> dict[str, Any]:
        acct = self.accounts[aid]
        return {
            "account": acct["account"],
            "id": aid,
            "server_name": acct["server_name"],
            "server_type": self.server_type(acct),
        }

    def add_deposit_draft(self, account: int, amount: str, remittance_id: int = 1) -> str:
        number = self.order_number("D")
        self.deposits[number] = {
            "order_number": number,
            "id": next(self.ids),
            "account": account,
            "user": self.accounts[account]["user"],
            "amount": Decimal(amount),
            "status": "draft",
            "remark": "",
            "remittance_id": remittance_id,
            "receipt_url": "",
            "submit_time": self.now_text(),
        }
        return number

    def add_payee(self, user: int, method: str, info: dict[str, Any], remark: str = "") -> int:
        pid = next(self.ids)
        self.payees[pid] = {
            "id": pid,
            "user": user,
            "payment_method": method,
            "info": dict(info),
            "remark": remark,
            "is_default": not self.payees,
            "created_at": self.now_text(),
            "updated_at": self.now_text(),
        }
        return pid

    def issue_email_code(self, scene: str, email: str = EMAIL) -> str:
        """What the vendor would mail: a one-time code for ``scene``."""
        code = f"{secrets.randbelow(10**6):06d}"
        self.mailbox[(email, scene)] = code
        return code

    def quote(self, remittance_id: int, amount: Decimal, currency: str) -> dict[str, str]:
        """The fee, rate and remittance amount the vendor quotes for a withdrawal."""
        fee, rate = self.channels[remittance_id]["fee"], self.rates[("USD", currency)]
        remit = ((amount - Decimal(fee)) * Decimal(rate)).quantize(CENT, ROUND_HALF_UP)
        return {"fee": fee, "exchange_rate": rate, "remittance_amount": money(remit)}

    # ------------------------------------------------------------ server

    def credentials(self) -> dict[str, str]:
        return {"api_key": API_KEY, "api_secret": API_SECRET, "email": EMAIL, "password": PASSWORD}

    def profile_options(self) -> dict[str, str]:
        return {"ib_base_url": self.ib_base_url or "", "timezone": "+08:00"}

    def profile(self, name: str = "sandbox", **options: str) -> Profile:
        return super().profile(name, **{**self.profile_options(), **options})

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        base = await super().start(host, port)
        if self.ib_base_url is None:
            assert self._runner is not None
            site = web.TCPSite(self._runner, host, 0, reuse_address=True)
            await site.start()
            ib_host, ib_port = self._runner.addresses[-1][:2]
            self.ib_base_url = f"http://{ib_host}:{ib_port}"
            self._ports = {"client": self._runner.addresses[0][1], "ib": ib_port}
        return base

    async def stop(self) -> None:
        await super().stop()
        self.ib_base_url = None

    def rate_limit_key(self, request: web.Request, endpoint: Endpoint) -> str:
        return request.headers.get("X-Api-Key") or request.headers.get("Authorization") or "public"

    def rate_limited(self, endpoint: Endpoint) -> web.StreamResponse:
        response = fail(429, "TOO_MANY_REQUESTS", "more than 50 requests per second for this key")
        response.headers["Retry-After"] = "1"
        return response

    def server_error(self, status: int) -> web.StreamResponse:
        return fail(status, "INTERNAL", "internal error")

    def unknown_route(self, request: web.Request, status: int) -> web.StreamResponse:
        if status == 404:
            return fail(404, "NOT_FOUND", f"no route {request.method} {request.path}")
        return fail(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here")

    @web.middleware
    async def _envelope(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return fail(404, "NOT_FOUND", f"no route {request.method} {request.path}")
        except web.HTTPMethodNotAllowed:
            return fail(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here")
        except (web.HTTPException, asyncio.CancelledError):
            raise
        except Exception as exc:  # a sandbox bug still answers in the vendor's shape
            return fail(500, "INTERNAL", f"{type(exc).__name__}: {exc}")

    def authenticate(
        self, request: web.Request, endpoint: Endpoint, body: bytes
    ) -> web.StreamResponse | None:
        if endpoint.auth == "public":
            return None
        bearer = request.headers.get("Authorization", "")
        if bearer:
            uid = self.tokens.get(bearer.removeprefix("Bearer "))
            if uid is None:
                return fail(401, "TOKEN_INVALID", "the token is not valid")
            request[USER] = uid
            return None
        if endpoint.auth == "bearer":
            return fail(401, "UNAUTHORIZED", "log in first")
        return self._verify_signature(request, body)

    def _verify_signature(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        h = request.headers
        key, ts, nonce = h.get("X-Api-Key", ""), h.get("X-Timestamp", ""), h.get("X-Nonce", "")
        if key != API_KEY:
            return fail(401, "API_KEY_INVALID", "unknown API key")
        if not ts.isdigit() or abs(self.clock.now_ms() - int(ts)) > WINDOW_MS:
            return fail(401, "TIMESTAMP_EXPIRED", "the timestamp is outside the 30 s window")
        digest = hashlib.sha256(body if request.method == "POST" else b"").hexdigest()
        pairs = list(request.rel_url.query.items())
        text = "\n".join(
            (
                request.method,
                request.raw_path.split("?")[0],
                canonical(pairs),
                key,
                ts,
                nonce,
                digest,
            )
        )
        expected = hmac.new(API_SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
        if not verify_digest(expected, h.get("X-Signature")):
            return fail(401, "SIGNATURE_INVALID", "the signature does not match")
        if not nonce or nonce in self.nonces:
            return fail(401, "NONCE_REUSED", "the nonce was used before")
        now = self.clock.now_ms()
        self.nonces = {n: t for n, t in self.nonces.items() if now - t < 2 * WINDOW_MS}
        self.nonces[nonce] = now
        request[USER] = self.user_id  # the key acts for the tenant's sandbox user
        return None

    # --------------------------------------------------------- routing

    def _guarded(self, name: str, handler: Handler) -> Handler:
        endpoint = self.catalog[name]

        async def guarded(request: web.Request) -> web.StreamResponse:
            port = (
                (request.transport.get_extra_info("sockname") or ("", 0))[1]
                if request.transport
                else 0
            )
            if self._ports and port != self._ports[endpoint.service]:
                return fail(
                    404, "NOT_FOUND", f"{request.path} is served by the {endpoint.service} portal"
                )
            try:
                request[ARGS] = self._args(request, endpoint)
                return await handler(request)
            except Refused as exc:
                return exc.response

        return guarded

    def _args(self, request: web.Request, endpoint: Endpoint) -> dict[str, Any]:
        """The request's parameters, checked against the catalog."""
        body = self.json_of(request) if request.method == "POST" else {}
        if not isinstance(body, dict):
            raise Refused(400, "INVALID_ARGUMENT", "the body is not a JSON object")
        query = request.rel_url.query
        args: dict[str, Any] = {}
        names = {p.name for p in endpoint.params}
        unknown = sorted(set(body) - names)
        if unknown:
            raise Refused(400, "INVALID_ARGUMENT", f"unknown field {unknown[0]}")
        for p in endpoint.params:
            if p.location == "query":
                value: Any = query.getall(p.name, []) if p.type == "array" else query.get(p.name)
                if value in (None, []):
                    value = None
                elif p.type == "integer":
                    value = _int(value, p.name)
                elif p.type == "boolean":
                    value = {"true": True, "false": False}.get(value, value)
            elif p.location == "header":
                value = request.headers.get(p.name)
            else:
                value = body.get(p.name)
                if (
                    p.type == "integer"
                    and value is not None
                    and (isinstance(value, bool) or not isinstance(value, int))
                ):
                    raise Refused(400, "INVALID_ARGUMENT", f"{p.name} must be an integer")
            if value is None and p.required:
                raise Refused(400, "INVALID_ARGUMENT", f"{p.name} is required")
            if p.type == "boolean" and value is not None and not isinstance(value, bool):
                raise Refused(400, "INVALID_ARGUMENT", f"{p.name} must be a boolean")
            args[p.name] = value
        return args

    def _spec_fixture(self, name: str) -> Handler:
        async def answer(request: web.Request) -> web.StreamResponse:
            return json_response(self.spec_fixtures[name])

        return answer

    # ------------------------------------------------------------ helpers

    @staticmethod
    def args(request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = request[ARGS]
        return args

    def me(self, request: web.Request) -> dict[str, Any]:
        return self.users[request.get(USER, self.user_id)]

    def own_account(self, request: web.Request, aid: Any) -> dict[str, Any]:
        acct = self.accounts.get(aid)
        if acct is None or acct["user"] != self.me(request)["id"]:
            raise Refused(404, "NOT_FOUND", f"no trading account {aid}")
        return acct

    @staticmethod
    def amount(value: Any, name: str) -> Decimal:
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise Refused(400, "INVALID_ARGUMENT", f"{name} is not an amount") from None
        if not amount.is_finite() or amount <= 0:
            raise Refused(400, "INVALID_ARGUMENT", f"{name} must be positive")
        return amount

    def email_code(self, request: web.Request, scene: str) -> None:
        if not self.email_codes:
            return
        key = (self.me(request)["email"], scene)
        sent = self.args(request).get("email_code")
        if not sent or self.mailbox.get(key) != sent:
            raise Refused(400, "EMAIL_CODE_INVALID", f"a valid {scene} email code is required")
        del self.mailbox[key]  # one time

    def page(self, request: web.Request, items: list[Any]) -> web.Response:
        args = self.args(request)
        page, size = max(args.get("page") or 1, 1), max(args.get("size") or 20, 1)
        return json_response({"list": items[(page - 1) * size : page * size], "total": len(items)})

    def in_window(
        self, request: web.Request, items: list[dict[str, Any]], key: str
    ) -> list[dict[str, Any]]:
        a = self.args(request)
        start, end = a.get("start_time"), a.get("end_time")
        return [i for i in items if (not start or i[key] >= start) and (not end or i[key] <= end)]

    @staticmethod
    def ok(obj: Any = None) -> web.Response:
        return json_response({} if obj is None else obj)

    # ------------------------------------------------------------ sessions

    async def h_auth__account_login(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        user = next((u for u in self.users.values() if u["email"] == a["email"]), None)
        if user is None or user["password"] != a["password"]:
            return fail(401, "LOGIN_FAILED", "wrong email or password")
        token = secrets.token_urlsafe(24)
        self.tokens[token] = user["id"]
        self.mark_effect(request)
        info = {
            k: user[k] for k in ("email", "first_name", "full_name", "id", "last_name", "user_type")
        }
        return self.ok({"token": token, "user_info": info})

    async def h_auth__account_logout(self, request: web.Request) -> web.StreamResponse:
        self.tokens.pop(request.headers.get("Authorization", "").removeprefix("Bearer "), None)
        self.mark_effect(request)
        return self.ok()

    async def h_auth__account_change_password(self, request: web.Request) -> web.StreamResponse:
        a, user = self.args(request), self.me(request)
        if a["old_password"] != user["password"]:
            return fail(400, "INVALID_ARGUMENT", "the old password is wrong")
        self.email_code(request, "password_change")
        user["password"] = a["new_password"]
        self.mark_effect(request)
        return self.ok()

    async def h_auth__account_reset_password_email(
        self, request: web.Request
    ) -> web.StreamResponse:
        user = next(
            (u for u in self.users.values() if u["email"] == self.args(request)["email"]), None
        )
        if user is not None:
            self.reset_tokens[secrets.token_urlsafe(16)] = user["id"]
            self.mark_effect(request)
        return self.ok()

    async def h_auth__account_reset_password_expired(
        self, request: web.Request
    ) -> web.StreamResponse:
        return self.ok({"expired": self.args(request)["token"] not in self.reset_tokens})

    async def h_auth__account_reset_password(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        uid = self.reset_tokens.pop(a["token"], None)
        if uid is None:
            return fail(400, "TOKEN_EXPIRED", "the reset token has expired")
        self.users[uid]["password"] = a["password"]
        self.mark_effect(request)
        return self.ok()

    async def h_public__email_verification_send(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        self.issue_email_code(a["scene"], a.get("email") or EMAIL)
        self.mark_effect(request)
        now = int(self.clock.now())
        return self.ok({"can_resend_at": now + 60, "expired_at": now + 600})

    async def h_public__email_check_registered(self, request: web.Request) -> web.StreamResponse:
        email = self.args(request)["email"]
        return self.ok({"is_registered": any(u["email"] == email for u in self.users.values())})

    async def h_public__setting_security_get(self, request: web.Request) -> web.StreamResponse:
        scenes = ["withdrawal", "transfer", "password_change"] if self.email_codes else []
        return self.ok(
            {
                **self.spec_fixtures["public.setting_security_get"],
                "email_verification_scenarios": scenes,
            }
        )

    async def h_client__user_register(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        if any(u["email"] == a["email"] for u in self.users.values()):
            return fail(409, "ALREADY_EXISTS", "the email is registered")
        uid = self.add_user(a["email"], a["password"])
        token = secrets.token_urlsafe(24)
        self.tokens[token] = uid
        self.mark_effect(request)
        user = self.users[uid]
        return self.ok(
            {
                "token": token,
                "user_info": {
                    k: user[k]
                    for k in ("email", "first_name", "full_name", "id", "last_name", "user_type")
                },
            }
        )

    async def h_public__osstoken_get(self, request: web.Request) -> web.StreamResponse:
        return self.ok(
            {
                "access_key_id": "STS." + secrets.token_hex(8),
                "access_key_secret": secrets.token_urlsafe(24),
                "security_token": secrets.token_urlsafe(48),
                "bucket_name": "wlink-sandbox",
                "bucket_region": "oss-cn-hongkong",
                "bucket_dir": f"kyc/{self.me(request)['id']}/",
                "expiration": self.now_text(3600),
            }
        )

    # ------------------------------------------------------ trading accounts

    def account_view(self, acct: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "account",
            "currency",
            "id",
            "is_demo",
            "leverage",
            "observe_password",
            "password",
            "server_name",
            "trading_account_type_name",
            "trading_platform",
        )
        return {
            **{k: acct[k] for k in keys},
            "balance": money(acct["balance"]),
            "credit": money(acct["credit"]),
            "equity": money(acct["balance"] + acct["credit"]),
        }

    def mine(self, request: web.Request) -> list[dict[str, Any]]:
        uid = self.me(request)["id"]
        return [a for a in self.accounts.values() if a["user"] == uid]

    async def h_trading__account_list(self, request: web.Request) -> web.StreamResponse:
        demo = self.args(request).get("is_demo")
        return self.page(
            request,
            [
                self.account_view(a)
                for a in self.mine(request)
                if demo is None or a["is_demo"] == demo
            ],
        )

    async def h_trading__account_get(self, request: web.Request) -> web.StreamResponse:
        return self.ok(self.account_view(self.own_account(request, self.args(request)["id"])))

    async def h_trading__account_list_options(self, request: web.Request) -> web.StreamResponse:
        items = [self.account_ref(a["id"]) for a in self.mine(request)]
        return self.ok({"list": items, "total": len(items)})

    async def h_trading__account_create(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        aid = self.add_account(
            self.me(request)["id"],
            is_demo=a["is_demo"],
            platform=a["trading_platform"],
            leverage=a["leverage"],
            balance=Decimal("10000") if a["is_demo"] else Decimal(0),
        )
        self.accounts[aid]["password"] = a["password"]
        self.mark_effect(request)
        return self.ok({"id": aid})

    async def h_client__application_account_create(
        self, request: web.Request
    ) -> web.StreamResponse:
        a = self.args(request)
        aid = self.add_account(
            self.me(request)["id"], platform=a["trading_platform"], leverage=a["leverage"]
        )
        self.mark_effect(request)
        return self.ok({"application_account_id": aid})

    async def h_trading__account_get_leverage_options(
        self, request: web.Request
    ) -> web.StreamResponse:
        self.own_account(request, self.args(request)["id"])
        return self.ok({"leverage_options": [50, 100, 200, 500]})

    async def h_trading__account_update_leverage(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        self.own_account(request, a["id"])
        if a["leverage"] not in (50, 100, 200, 500):
            return fail(400, "INVALID_ARGUMENT", "leverage is not one of the options")
        self.leverage_audits[a["id"]] = {
            "audit_id": next(self.ids),
            "audit_status": "pending",
            "leverage": a["leverage"],
        }
        self.mark_effect(request)
        return self.ok()

    async def h_trading__account_get_leverage_update_status(
        self, request: web.Request
    ) -> web.StreamResponse:
        aid = self.args(request)["id"]
        self.own_account(request, aid)
        audit = self.leverage_audits.get(aid, {"audit_id": 0, "audit_status": ""})
        return self.ok({"audit_id": audit["audit_id"], "audit_status": audit["audit_status"]})

    async def h_trading__account_update_password(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        acct = self.own_account(request, a["id"])
        acct["observe_password" if a["type"] == "observe" else "password"] = a["password"]
        self.mark_effect(request)
        return self.ok()

    async def h_trading__account_get_demo_availability(
        self, request: web.Request
    ) -> web.StreamResponse:
        return self.ok({"enabled": True})

    async def h_client__trading_demo_account_update_balance(
        self, request: web.Request
    ) -> web.StreamResponse:
        a = self.args(request)
        acct = self.own_account(request, a["trading_account_id"])
        if not acct["is_demo"]:
            return fail(400, "INVALID_ARGUMENT", "only a demo account can be topped up")
        acct["balance"] += self.amount(a["amount"], "amount")
        self.mark_effect(request)
        return self.ok()

    async def h_client__account_balance_list(self, request: web.Request) -> web.StreamResponse:
        kinds = set(self.args(request)["type"])
        if not kinds <= {"deposit_only", "withdrawal_only", "normal"}:
            return fail(400, "INVALID_ARGUMENT", "type is deposit_only, withdrawal_only or normal")
        items = [
            {
                "trading_account_id": a["id"],
                "trading_account": a["account"],
                "balance": money(a["balance"]),
                "server_name": a["server_name"],
                "server_type": self.server_type(a),
            }
            for a in self.mine(request)
            if not a["is_demo"]
        ]
        return self.ok({"list": items, "total": len(items)})

    # ------------------------------------------------------------ deposits

    async def h_client__trading_deposit_channel_list(
        self, request: web.Request
    ) -> web.StreamResponse:
        base = self.spec_fixtures["client.trading_deposit_channel_list"]["list"][0]
        return self.page(request, [{**base, **c} for c in self.channels.values()])

    async def h_client__trading_withdrawal_channel_list(
        self, request: web.Request
    ) -> web.StreamResponse:
        base = self.spec_fixtures["client.trading_withdrawal_channel_list"]["list"][0]
        return self.page(request, [{**base, **c} for c in self.channels.values()])

    async def h_client__trading_currency_exchange_rate_get(
        self, request: web.Request
    ) -> web.StreamResponse:
        a = self.args(request)
        rate = self.rates.get((a["from_currency"], a["to_currency"]))
        if rate is None:
            return fail(404, "NOT_FOUND", "no rate for this pair")
        return self.ok({"exchange_rate": rate})

    async def h_client__trading_symbol_rate_list(self, request: web.Request) -> web.StreamResponse:
        items = [
            {"base_currency": b, "quote_currency": q, "exchange_rate": r}
            for (b, q), r in self.rates.items()
        ]
        return self.page(request, items)

    async def h_client__trading_deposit_draft_create(
        self, request: web.Request
    ) -> web.StreamResponse:
        a = self.args(request)
        acct = self.own_account(request, a["trading_account_id"])
        if a["remittance_id"] not in self.channels:
            return fail(404, "NOT_FOUND", "no such deposit channel")
        amount = self.amount(a["deposit_amount"], "deposit_amount")
        number = self.add_deposit_draft(acct["id"], money(amount), a["remittance_id"])
        self.deposits[number]["remark"] = a.get("remark") or ""
        self.mark_effect(request)
        return self.ok(
            {
                "order_number": number,
                "status": "draft",
                "pay_type": "bank_transfer",
                "pay_url": "",
                "pay_data": "IBAN WL00 SAND 0000 0001",
            }
        )

    def deposit(self, request: web.Request, number: str) -> dict[str, Any]:
        dep = self.deposits.get(number)
        if dep is None or dep["user"] != self.me(request)["id"]:
            raise Refused(404, "NOT_FOUND", f"no deposit {number}")
        return dep

    async def h_client__trading_deposit_draft_get(self, request: web.Request) -> web.StreamResponse:
        dep = self.deposit(request, self.args(request)["order_number"])
        return self.ok(
            {
                "order_number": dep["order_number"],
                "deposit_amount": money(dep["amount"]),
                "account_info": "IBAN WL00 SAND 0000 0001",
                "receipt_url": dep["receipt_url"],
            }
        )

    async def h_client__trading_deposit_drafted_count(
        self, request: web.Request
    ) -> web.StreamResponse:
        uid = self.me(request)["id"]
        return self.ok(
            {
                "count": sum(
                    1 for d in self.deposits.values() if d["user"] == uid and d["status"] == "draft"
                )
            }
        )

    async def h_client__trading_deposit_submit(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        dep = self.deposit(request, a["order_number"])
        if dep["status"] != "draft":
            return fail(409, "CONFLICT", f"deposit {dep['order_number']} is {dep['status']}")
        dep.update(status="auditing", receipt_url=a["receipt_url"])
        self.mark_effect(request)
        return self.ok({"order_number": dep["order_number"], "status": dep["status"]})

    async def h_client__trading_deposit_cancel(self, request: web.Request) -> web.StreamResponse:
        dep = self.deposit(request, self.args(request)["order_number"])
        if dep["status"] not in ("draft", "auditing"):
            return fail(409, "CONFLICT", f"deposit {dep['order_number']} is {dep['status']}")
        dep["status"] = "cancelled"
        self.mark_effect(request)
        return self.ok({"order_number": dep["order_number"], "status": dep["status"]})

    def funding_view(self, rec: dict[str, Any], side: str) -> dict[str, Any]:
        acct = self.accounts[rec["account"]]
        return {
            "id": rec["id"],
            "order_number": rec["order_number"],
            "amount": money(rec["amount"]),
            "currency": rec.get("currency", "USD"),
            "status": rec["status"],
            "submit_time": rec["submit_time"],
            "server_name": acct["server_name"],
            "server_type": self.server_type(acct),
            "remark": rec["remark"],
            "client_remark": rec["remark"],
            "icon": "",
            "remittance_name": self.channels[rec["remittance_id"]]["name"],
            side: self.account_ref(acct["id"]),
        }

    def history(
        self, request: web.Request, records: dict[str, dict[str, Any]], side: str
    ) -> web.Response:
        uid = self.me(request)["id"]
        items = [self.funding_view(r, side) for r in records.values() if r["user"] == uid]
        return self.page(request, self.in_window(request, items[::-1], "submit_time"))

    async def h_client__trading_history_deposit_list(
        self, request: web.Request
    ) -> web.StreamResponse:
        return self.history(request, self.deposits, "target_trading_account")

    async def h_client__trading_history_withdrawal_list(
        self, request: web.Request
    ) -> web.StreamResponse:
        return self.history(request, self.withdrawals, "source_trading_account")

    # ---------------------------------------------------------- withdrawals

    async def h_client__trading_withdrawal_create(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        acct = self.own_account(request, a["trading_account_id"])
        amount = self.amount(a["withdrawal_amount"], "withdrawal_amount")
        if a["remittance_id"] not in self.channels or ("USD", a["currency"]) not in self.rates:
            return fail(404, "NOT_FOUND", "no such withdrawal channel or currency")
        quoted = self.quote(a["remittance_id"], amount, a["currency"])
        sent = {k: a[k] for k in quoted}
        if sent != quoted:
            return fail(409, "QUOTE_CHANGED", f"the quote is {quoted}, not {sent}")
        method = a["method"]
        info = {
            "bank_transfer": "bank_transfer_info",
            "international_wire_transfer": "international_wire_info",
            "cryptocurrency": "cryptocurrency_info",
        }.get(method)
        if info is None or not isinstance(a.get(info), dict):
            return fail(
                400, "INVALID_ARGUMENT", f"method {method} needs {info or 'a known method'}"
            )
        self.email_code(request, "withdrawal")
        if amount > acct["balance"]:
            return fail(400, "INSUFFICIENT_BALANCE", "the balance is too low")
        acct["balance"] -= amount
        number = self.order_number("W")
        self.withdrawals[number] = {
            "order_number": number,
            "id": next(self.ids),
            "account": acct["id"],
            "user": acct["user"],
            "amount": amount,
            "currency": "USD",
            "status": "auditing",
            "remark": a.get("remark") or "",
            "remittance_id": a["remittance_id"],
            "submit_time": self.now_text(),
            "method": method,
        }
        self.mark_effect(request)
        return self.ok({"order_number": number})

    async def h_trading__withdrawal_check_pending(self, request: web.Request) -> web.StreamResponse:
        uid = self.me(request)["id"]
        return self.ok(
            {
                "has_pending": any(
                    w["user"] == uid and w["status"] == "auditing"
                    for w in self.withdrawals.values()
                )
            }
        )

    # ------------------------------------------------------------ transfers

    async def h_client__application_transfer_create(
        self, request: web.Request
    ) -> web.StreamResponse:
        a = self.args(request)
        src = self.own_account(request, a["source_trading_account_id"])
        dst = self.own_account(request, a["target_trading_account_id"])
        amount = self.amount(a["amount"], "amount")
        if src is dst:
            return fail(400, "INVALID_ARGUMENT", "source and target are the same account")
        self.email_code(request, "transfer")
        if amount > src["balance"]:
            return fail(400, "INSUFFICIENT_BALANCE", "the balance is too low")
        src["balance"] -= amount
        dst["balance"] += amount
        number = self.order_number("T")
        audit = next(self.ids)
        self.transfers[number] = {
            "order_number": number,
            "id": audit,
            "source": src["id"],
            "target": dst["id"],
            "user": src["user"],
            "amount": amount,
            "remark": a["remark"],
            "status": "approved",
            "submit_time": self.now_text(),
        }
        self.mark_effect(request)
        return self.ok({"audit_id": audit, "audit_status": "approved"})

    def transfer_view(self, t: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": t["id"],
            "order_number": t["order_number"],
            "amount": money(t["amount"]),
            "currency": "USD",
            "remark": t["remark"],
            "status": t["status"],
            "submit_time": t["submit_time"],
            "user_name": "San Dbox",
            "source_trading_account": self.account_ref(t["source"]),
            "target_trading_account": self.account_ref(t["target"]),
        }

    def my_transfers(self, request: web.Request) -> list[dict[str, Any]]:
        uid = self.me(request)["id"]
        items = [self.transfer_view(t) for t in self.transfers.values() if t["user"] == uid][::-1]
        return self.in_window(request, items, "submit_time")

    async def h_client__application_transfer_list(self, request: web.Request) -> web.StreamResponse:
        return self.page(request, self.my_transfers(request))

    async def h_report__transfer_list(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        items = [
            {k: v for k, v in t.items() if k not in ("id", "remark")}
            for t in self.my_transfers(request)
            if a["status"] in ("all", t["status"])
            and a.get("order_number") in (None, t["order_number"])
        ]
        return self.page(request, items)

    def funding_report(
        self, request: web.Request, records: dict[str, dict[str, Any]]
    ) -> web.Response:
        a, uid = self.args(request), self.me(request)["id"]
        items = []
        for r in reversed(records.values()):
            acct = self.accounts[r["account"]]
            if r["user"] != uid or r["status"] not in (
                "auditing",
                "approved",
                "disapproved",
                "pending",
            ):
                continue
            if a["status"] not in ("all", r["status"]) or a.get("method") not in (
                None,
                "all",
                r.get("method"),
            ):
                continue
            items.append(
                {
                    "id": r["id"],
                    "order_number": r["order_number"],
                    "account": acct["account"],
                    "amount": money(r["amount"]),
                    "currency": "USD",
                    "fee": self.channels[r["remittance_id"]]["fee"],
                    "method": self.channels[r["remittance_id"]]["method"],
                    "status": r["status"],
                    "submit_time": r["submit_time"],
                    "server_name": acct["server_name"],
                    "server_type": self.server_type(acct),
                    "auditor_name": "",
                    "user_name": "San Dbox",
                }
            )
        return self.page(request, self.in_window(request, items, "submit_time"))

    async def h_report__deposit_list(self, request: web.Request) -> web.StreamResponse:
        return self.funding_report(request, self.deposits)

    async def h_report__withdrawal_list(self, request: web.Request) -> web.StreamResponse:
        return self.funding_report(request, self.withdrawals)

    # --------------------------------------------------------------- payees

    async def h_client__withdrawal_account_book_create(
        self, request: web.Request
    ) -> web.StreamResponse:
        a = self.args(request)
        key = PAYEE_INFO.get(a["payment_method"])
        if key is None or not isinstance(a.get(key), dict):
            return fail(
                400, "INVALID_ARGUMENT", "payment_method and its *_info object are required"
            )
        pid = self.add_payee(
            self.me(request)["id"], a["payment_method"], a[key], a.get("remark") or ""
        )
        self.mark_effect(request)
        return self.ok({"id": pid})

    def payee(self, request: web.Request, pid: Any) -> dict[str, Any]:
        p = self.payees.get(pid)
        if p is None or p["user"] != self.me(request)["id"]:
            raise Refused(404, "NOT_FOUND", f"no payee account {pid}")
        return p

    async def h_client__withdrawal_account_book_update(
        self, request: web.Request
    ) -> web.StreamResponse:
        a = self.args(request)
        p = self.payee(request, a["id"])
        key = PAYEE_INFO[p["payment_method"]]
        if isinstance(a.get(key), dict):
            p["info"] = dict(a[key])
        if a.get("remark") is not None:
            p["remark"] = a["remark"]
        if a.get("is_default") is not None:
            p["is_default"] = a["is_default"]
        p["updated_at"] = self.now_text()
        self.mark_effect(request)
        return self.ok()

    async def h_client__withdrawal_account_book_delete(
        self, request: web.Request
    ) -> web.StreamResponse:
        del self.payees[self.payee(request, self.args(request)["id"])["id"]]
        self.mark_effect(request)
        return self.ok()

    async def h_client__withdrawal_account_book_get(
        self, request: web.Request
    ) -> web.StreamResponse:
        p = self.payee(request, self.args(request)["id"])
        fixture = self.spec_fixtures["client.withdrawal_account_book_get"]
        info = {
            k: {**fixture[k], **(p["info"] if k == PAYEE_INFO[p["payment_method"]] else {})}
            for k in PAYEE_INFO.values()
        }
        info = {k: {f: v[f] for f in fixture[k]} for k, v in info.items()}
        return self.ok(
            {
                **info,
                "id": p["id"],
                "payment_method": p["payment_method"],
                "remark": p["remark"],
                "account_holder_name": "San Dbox",
                "created_at": p["created_at"],
                "updated_at": p["updated_at"],
            }
        )

    async def h_client__withdrawal_account_book_list(
        self, request: web.Request
    ) -> web.StreamResponse:
        a, uid = self.args(request), self.me(request)["id"]
        out: dict[str, Any] = {
            "bank_transfer": [],
            "international_wire_transfer": [],
            "cryptocurrency": [],
        }
        for p in self.payees.values():
            if p["user"] != uid or a.get("payment_method") not in (None, p["payment_method"]):
                continue
            fields = self.spec_fixtures["client.withdrawal_account_book_list"][p["payment_method"]][
                0
            ]
            item = {
                **fields,
                **p["info"],
                "id": p["id"],
                "remark": p["remark"],
                "is_default": p["is_default"],
                "created_at": p["created_at"],
            }
            out[p["payment_method"]].append({k: item[k] for k in fields})
        return self.ok({**out, "total": sum(len(v) for v in out.values())})

    # ------------------------------------------------------------- messages

    def message_list(self, portal: str) -> Handler:
        async def answer(request: web.Request) -> web.StreamResponse:
            items = [
                {k: m[k] for k in ("created_at", "id", "is_read", "sender", "title")}
                for m in reversed(self.messages[portal].values())
                if not m["hidden"]
            ]
            return self.page(request, items)

        return answer

    def message(self, portal: str, request: web.Request) -> dict[str, Any]:
        msg = self.messages[portal].get(self.args(request)["id"])
        if msg is None or msg["hidden"]:
            raise Refused(404, "NOT_FOUND", "no such message")
        return msg

    def message_op(self, portal: str, op: str) -> Handler:
        async def answer(request: web.Request) -> web.StreamResponse:
            if op == "count":
                return self.ok(
                    {
                        "count": sum(
                            1
                            for m in self.messages[portal].values()
                            if not (m["is_read"] or m["hidden"])
                        )
                    }
                )
            msg = self.message(portal, request)
            if op == "get":
                return self.ok(
                    {k: msg[k] for k in ("content", "created_at", "id", "sender", "title")}
                )
            msg["is_read" if op == "read" else "hidden"] = True
            self.mark_effect(request)
            return self.ok()

        return answer

    # ------------------------------------------------------------------- IB

    async def h_ib__client_user_list(self, request: web.Request) -> web.StreamResponse:
        a = self.args(request)
        items = [
            c
            for c in self.ib_clients.values()
            if all(
                a.get(k) in (None, c[k])
                for k in ("client_user_id", "kyc_status", "status", "email")
            )
            and a.get("client_name") in (None, c["full_name"])
        ]
        return self.page(request, items)

    async def h_ib__client_user_get(self, request: web.Request) -> web.StreamResponse:
        cid = self.args(request)["client_user_id"]
        if cid not in self.ib_clients:
            return fail(404, "NOT_FOUND", f"no client {cid}")
        return self.ok(self.spec_fixtures["ib.client_user_get"])

    async def h_ib__fund_rebate_list(self, request: web.Request) -> web.StreamResponse:
        return self.page(request, self.rebates[::-1])

    async def h_ib__rebate_account_list(self, request: web.Request) -> web.StreamResponse:
        want = self.args(request).get("account_id")
        return self.page(
            request, [r for r in self.rebate_accounts.values() if want in (None, r["account_id"])]
        )

    async def h_ib__rebate_account_update_permission(
        self, request: web.Request
    ) -> web.StreamResponse:
        a = self.args(request)
        acct = self.rebate_accounts.get(a["id"])
        if acct is None:
            return fail(404, "NOT_FOUND", f"no rebate account {a['id']}")
        acct["enabled"] = a["enabled"]
        self.mark_effect(request)
        return self.ok({"account": acct["account_id"]})

    # -------------------------------------------------------------- reports

    def trade_report(self, kind: str) -> Handler:
        async def answer(request: web.Request) -> web.StreamResponse:
            a = self.args(request)
            want = a["trading_type"]
            time_key = {
                "history": "close_time" if a.get("time_type") == "close" else "open_time",
                "holding": "open_time",
                "pending": "pending_time",
            }[kind]
            uid = self.me(request)["id"]
            items = [
                t
                for t in self.trades[kind]
                if self.accounts[t["trading_account"]["id"]]["user"] == uid
                and want in ("all", t["trading_type"])
                and all(a.get(k) in (None, t[k]) for k in ("order_number", "symbol"))
                and a.get("trading_account_id") in (None, t["trading_account"]["id"])
                and a.get("account") in (None, t["trading_account"]["account"])
            ]
            return self.page(request, self.in_window(request, items, time_key))

        return answer

    async def export(self, request: web.Request) -> web.StreamResponse:
        return self.ok(
            {"download_url": f"https://sandbox.wlink.invalid/exports/{uuid.uuid4().hex}.xlsx"}
        )

    def _own(self, name: str) -> Handler | None:
        module, _, action = name.partition(".")
        if name.endswith("_export"):
            return self.export
        if action.startswith("message_"):
            op = action.removeprefix("message_")
            if op == "list":
                return self.message_list(module)
            return self.message_op(
                module, {"mark_read": "read", "unread_count": "count"}.get(op, op)
            )
        if module == "report" and action in ("history_list", "holding_list", "pending_list"):
            return self.trade_report(action.removesuffix("_list"))
        return None


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Refused(400, "INVALID_ARGUMENT", f"{name} must be an integer") from None


def create_sandbox(**options: Any) -> WlinkSandbox:
    return WlinkSandbox(**options)
