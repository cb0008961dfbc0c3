"""The sandbox's state and the handlers of the operations that touch it.

Members and their account applications (states 5 submitted, 6 approved, 7
opening, 8 failed, 9 success: whale-endpoints.md §3), accounts with their
state and trade permissions, cash and stock ledgers with freezes, deposits and
withdrawals through their states, bank cards, orders with partial fills, IPO
subscriptions, access keys and tokens, rewards. Every other operation answers
its documented example (see :mod:`.server`).

Test controls (what the vendor's back office does): :meth:`WhaleSandbox.approve`,
:meth:`reject`, :meth:`settle_deposit`, :meth:`settle_withdrawal`, :meth:`fill`,
:meth:`allot`, :meth:`credit`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeAlias

from aiohttp import web
from brokerport.sandbox import handles

from ..sandbox_ws import TradePush  # wt-wstream: the trade websocket
from .server import Fail, Invalid, Params, WhaleGateway

__all__ = ["SEED_ACCOUNT", "SEED_MEMBER", "WhaleSandbox"]

R: TypeAlias = web.Request
P: TypeAlias = Params
SEED_MEMBER = 10001
SEED_ACCOUNT = "M10001"
MARKETS = ("HK", "US", "SH", "SZ", "SG", "JP", "UK", "DE", "AU")
PRODUCTS = ("stock", "options", "shortsell", "ipo", "warrant", "stockgrey", "otc")
ACCOUNT_PERMS: tuple[str, ...] = ("trade", "exchange", "rollover", "withdraw", "deposit")
ACCOUNT_PERMS += ("public_funds", "private_funds", "otc", "balance_funds")
VALID_PERMS = frozenset(
    [f"{p}.{m}" for p in PRODUCTS for m in MARKETS]
    + [f"account.{a}" for a in ACCOUNT_PERMS]
    + ["va.OSL", "va.HAS", "trade.client", "trade.bo", "trade.fix", "trade.openapi"]
)
FINAL = frozenset(
    {"FilledStatus", "RejectedStatus", "CanceledStatus", "ExpiredStatus", "PartialWithdrawal"}
)


def dec(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid(f"{field} is not a number") from None
    Invalid.when(not number.is_finite(), f"{field} is not a number")
    return number


def txt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def num(p: P, name: str, default: int) -> int:
    value = p.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Invalid(f"{name} is not a number") from None


def _page(items: list[Any], p: P, page: str = "page", size: str = "size") -> list[Any]:
    n, k = num(p, page, 1), num(p, size, 20)
    return items[(n - 1) * k : n * k]


class WhaleSandbox(TradePush, WhaleGateway):  # wt-wstream: TradePush mixin
    """The stateful WhaleAPI sandbox (``brokerport sandbox whale``)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.ids = itertools.count(1001)
        self.prices: dict[str, Decimal] = {"700.HK": Decimal("320"), "AAPL.US": Decimal("190")}
        self.reset()

    def reset(self) -> None:
        super().reset()
        now = self.clock.now()
        self.members: dict[int, dict[str, Any]] = {}
        self.applications: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.cash: dict[tuple[str, str], dict[str, Decimal]] = {}
        self.flows: dict[str, list[dict[str, Any]]] = {}
        self.freezes: dict[str, dict[str, Any]] = {}
        self.stock: dict[tuple[str, str], Decimal] = {}
        self.deposits: dict[int, dict[str, Any]] = {}
        self.withdrawals: dict[str, dict[str, Any]] = {}
        self.cards: dict[int, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.trades: list[dict[str, Any]] = []
        self.ipo_orders: dict[int, dict[str, Any]] = {}
        self.rewards: dict[str, dict[str, Any]] = {}
        self.seen: dict[tuple[str, str], Any] = {}  # (endpoint, request_id) -> answer
        self.keys: dict[str, dict[str, Any]] = {}
        self.access_token = "whale-token-" + self.token_hex(8)
        self.keys[self.app_key] = self._key("tenant", self.app_key, self.app_secret, now)
        self.keys[self.app_key]["tokens"].append(self._token(self.app_key, now, self.access_token))
        self.members[SEED_MEMBER] = self._member(SEED_MEMBER, "seed-open-id")
        self._open_account(SEED_MEMBER, SEED_ACCOUNT, "M", "seed")
        self.credit(SEED_ACCOUNT, "HKD", Decimal("1000000"))
        self.credit(SEED_ACCOUNT, "USD", Decimal("100000"))

    def profile_options(self) -> dict[str, str]:
        return {"account_no": SEED_ACCOUNT, "member_id": str(SEED_MEMBER)}

    # ------------------------------------------------------------ helpers

    def _key(self, account_no: str, key_id: str, secret: str, now: float) -> dict[str, Any]:
        return {"access_key_id": key_id, "secret": secret, "account_no": account_no,
                "disable": False, "ip_whitelist": [], "created": now, "tokens": []}  # fmt: skip

    def _token(self, key_id: str, now: float, token: str = "", ttl: float = 86400 * 30) -> Any:
        return {"access_key_id": key_id, "token": token or "wt-" + self.token_hex(12),
                "expires": now + ttl, "disable": False, "created": now}  # fmt: skip

    @staticmethod
    def _time(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _member(self, member_id: int, open_id: str) -> dict[str, Any]:
        return {"member_id": member_id, "open_id": open_id, "email": f"m{member_id}@example.test",
                "phone": {"country_code": "852", "mobile": f"9{member_id:07d}"},
                "pi_status": "0", "trade_password_set": False}  # fmt: skip

    def _open_account(self, member_id: int, account_no: str, kind: str, app_id: str) -> Any:
        self.accounts[account_no] = {
            "account_no": account_no, "member_id": member_id, "account_type": kind,
            "application_id": app_id, "state": 1, "disable": False, "to_state": "active",
            "opened": self.clock.now(), "password": None, "seq": len(self.accounts) + 1,
            "permissions": {"stock.HK", "stock.US", "account.trade", "account.withdraw",
                            "account.deposit", "ipo.HK"},
        }  # fmt: skip
        return self.accounts[account_no]

    def add_account(self, member_id: Any, kind: str = "C") -> str:
        """Back office: one more open account of ``member_id``; its number."""
        account_no = f"{kind}{next(self.ids)}"
        self._open_account(int(member_id), account_no, kind, "seed")
        return account_no

    def account_nos(self, member_id: Any) -> list[str]:
        return [a for a, v in self.accounts.items() if v["member_id"] == int(member_id)]

    def account(self, account_no: Any, *, active: bool = True) -> dict[str, Any]:
        acct = self.accounts.get(str(account_no))
        if acct is None or (active and acct["state"] == -1):
            raise Fail("404062", "account unavailable")
        return acct

    def _usable(self, account_no: Any, permission: str | None = None) -> dict[str, Any]:
        acct = self.account(account_no)
        Fail.when(acct["disable"] or acct["to_state"] != "active", "401033", "account frozen")
        if permission and permission not in acct["permissions"]:
            raise Invalid(f"no {permission} permission")
        return acct

    def _cash(self, account_no: str, currency: str) -> dict[str, Decimal]:
        return self.cash.setdefault((account_no, currency), {"amount": Decimal(0),
                                                             "frozen": Decimal(0)})  # fmt: skip

    def credit(self, account_no: str, currency: str, amount: Decimal, name: str = "Deposit",
               code: str = "DEP") -> str:  # fmt: skip
        """Move cash in (positive) or out (negative) with a ledger flow; the flow's serial."""
        cash = self._cash(account_no, currency)
        cash["amount"] += amount
        serial = f"S{next(self.ids)}"
        self.flows.setdefault(account_no, []).append({
            "flow_name": name, "amount": txt(abs(amount)), "currency": currency,
            "bussiness_time": str(int(self.clock.now())), "description": name,
            "direction": 2 if amount >= 0 else 1, "serial_num": serial, "bussiness_code": code,
        })  # fmt: skip
        return serial

    def _once(self, request: R, p: P, make: Callable[[], Any]) -> Any:
        """Ledger writes de-duplicated by request_id (ASSUMPTION: the vendor does)."""
        rid = p.get("request_id")
        if rid is None:
            return make()
        key = (self.endpoint_of(request), str(rid))
        if key not in self.seen:
            self.seen[key] = make()
        return self.seen[key]

    # ------------------------------------------------------------ members

    @handles("auth.open_id_login")
    def login(self, request: R, p: P) -> Any:
        open_id = p["open_id"]
        member = next((m for m in self.members.values() if m["open_id"] == open_id), None)
        if member is None:
            member = self._member(next(self.ids), open_id)
            self.members[member["member_id"]] = member
            self.mark_effect(request)
        return {"member_info": {"member": {"member_id": member["member_id"]}, "setting": {},
                                "level_info": {}},
                "credentials": {"token": "mt-" + self.token_hex(8),
                                "refresh_token": "mr-" + self.token_hex(8)},
                "open_api_token": "oa-" + self.token_hex(8)}  # fmt: skip

    def member(self, member_id: Any) -> dict[str, Any]:
        try:
            found = self.members.get(int(member_id))
        except (TypeError, ValueError):
            found = None
        return Fail.absent(found, "401011", "member do not exist or is canceled")

    def _by(self, field: str, value: Any) -> dict[str, Any]:
        found = next((m for m in self.members.values() if m[field] == value), None)
        found = Fail.absent(found, "401011", "member do not exist or is canceled")
        return {"member": {"member_id": found["member_id"], "email_verified": True,
                           "trade_password_set": found["trade_password_set"]}}  # fmt: skip

    @handles("member.get_member_by_phone")
    def by_phone(self, request: R, p: P) -> Any:
        return self._by("phone", p["phone"])

    @handles("member.get_member_by_email")
    def by_email(self, request: R, p: P) -> Any:
        found = self._by("email", p["email"])
        found["member"]["member_id"] = str(found["member"]["member_id"])  # text here
        return found

    @handles("member.change_mobile")
    def change_mobile(self, request: R, p: P) -> Any:
        member = self.member(self._by("phone", p["phone"])["member"]["member_id"])
        member["phone"] = p["new_phone"]
        return self.effect(request, {"code": "0", "message": "success"})

    @handles("member.change_email")
    def change_email(self, request: R, p: P) -> Any:
        self.member(p["member_id"])["email"] = p["new_email"]
        return self.effect(request, {"code": 0, "message": "success"})

    @handles("member.update_pi_status")
    def pi_status(self, request: R, p: P) -> Any:
        member = self.member(p["member_id"])
        status = str(p["pi_status"])
        Fail.when(status not in ("0", "1", "2"), "403047", "pi_status is not valid")
        Fail.when(member["pi_status"] == status, "403048", "pi_status do not change")
        member["pi_status"] = status
        return self.effect(request, {})

    @handles("account.contact_info")
    def contact(self, request: R, p: P) -> Any:
        member = self.member(p["member_id"])
        phone = {"country_code": int(member["phone"]["country_code"]),
                 "mobile": member["phone"]["mobile"], "contact_type": 1}  # fmt: skip
        return {"contact": {"phones": [phone], "emails": [{"email": member["email"]}]}}

    # ------------------------------------------------------------ applications

    @handles("account.submit_application_v2")
    def submit(self, request: R, p: P) -> Any:
        member = self.member(p["member_id"])
        if any(a["member_id"] == member["member_id"] and a["state"] in (5, 6, 7)
               for a in self.applications.values()):  # fmt: skip
            raise Fail("404013", "duplicate submission")
        app_id = f"APP{next(self.ids)}"
        self.applications[app_id] = {"application_id": app_id, "member_id": member["member_id"],
                                     "client_type": int(p["client_type"]), "state": 5,
                                     "reason": "", "submitted": self.clock.now(),
                                     "open_info": p["open_info"], "account_no": "",
                                     "kind": "C"}  # fmt: skip
        return self.effect(request, {"application_id": app_id})

    @handles("account.append_account")
    def append(self, request: R, p: P) -> Any:
        base = self._usable(p["account_no"])
        extra = p["additional_account"]
        kind = str(extra.get("account_type") or "C") if isinstance(extra, dict) else "C"
        app_id = f"APP{next(self.ids)}"
        self.applications[app_id] = {"application_id": app_id, "member_id": base["member_id"],
                                     "client_type": 0, "state": 5, "reason": "",
                                     "submitted": self.clock.now(), "open_info": {},
                                     "account_no": "", "kind": kind}  # fmt: skip
        self.mark_effect(request)
        return {"application_id": app_id, "account_type": kind if kind in ("C", "M") else "C"}

    def application(self, app_id: Any) -> dict[str, Any]:
        return Fail.absent(self.applications.get(str(app_id)), "404103", "application not found")

    def approve(self, app_id: str) -> str:
        """Back office: 5 submitted -> 6 approved -> 7 opening -> 9 success; the account."""
        app = self.application(app_id)
        Fail.when(app["state"] not in (5, 6, 7), "404102", "application state forbids changes")
        app["state"] = 9
        app["account_no"] = f"{app['kind']}{next(self.ids)}"
        self._open_account(app["member_id"], app["account_no"], app["kind"], app_id)
        return str(app["account_no"])

    def advance(self, app_id: str) -> int:
        """One opening step (5 -> 6 -> 7 -> 9)."""
        app = self.application(app_id)
        if app["state"] == 7:
            self.approve(app_id)
        elif app["state"] in (5, 6):
            app["state"] += 1
        return int(app["state"])

    def reject(self, app_id: str, reason: str = "documents unreadable") -> None:
        app = self.application(app_id)
        app["state"], app["reason"] = 8, reason

    @handles("account_requests.index")
    def applications_of(self, request: R, p: P) -> Any:
        member = self.member(p["member_id"])
        return {"list": [{"id": a["application_id"], "state": str(a["state"]),
                          "account_channel": "whale"}
                         for a in self.applications.values()
                         if a["member_id"] == member["member_id"]]}  # fmt: skip

    @handles("account.get_application")
    def get_application(self, request: R, p: P) -> Any:
        app = self.application(p["application_id"])
        # the schema's enum is [3, 5, 9, -1]: in progress (5-7) reads 5, failed (8) -1
        state = {5: 5, 6: 5, 7: 5, 8: -1, 9: 9}[app["state"]]
        info = app["open_info"] if isinstance(app["open_info"], dict) else {}
        return {"application_id": app["application_id"], "member_id": str(app["member_id"]),
                "account_no": app["account_no"], "client_type": app["client_type"],
                "submitted_at": str(int(app["submitted"])), "state": state,
                "reason": app["reason"], "open_info": _sections(info)}  # fmt: skip

    @handles("account.update_application_v2", "account.update_application")
    def update_application(self, request: R, p: P) -> Any:
        member = self.member(p["member_id"])
        app_id = p.get("application_id")
        apps = [a for a in self.applications.values() if a["member_id"] == member["member_id"]]
        app = self.application(app_id) if app_id else (apps[-1] if apps else None)
        app = Fail.absent(app, "404103", "application not found")
        Fail.when(app["state"] not in (5, 8), "404102", "application state forbids changes")
        for section, fields in dict(p["open_info"]).items():
            app["open_info"].setdefault(section, {}).update(fields or {})
        if app["state"] == 8:
            app["state"], app["reason"] = 5, ""
        return self.effect(request, {"code": 0, "message": "success"})

    # ------------------------------------------------------------ accounts

    def _account_view(self, acct: dict[str, Any]) -> dict[str, Any]:
        return {"account_no": acct["account_no"], "account_type": acct["account_type"],
                "application_id": acct["application_id"], "state": acct["state"],
                "disable": acct["disable"], "member_id": str(acct["member_id"]),
                "open_account_time": str(int(acct["opened"]))}  # fmt: skip

    @handles("account.list")
    def list_v1(self, request: R, p: P) -> Any:
        member = self.member(p["member_id"])
        return {"account_list": [self._account_view(a) for a in self.accounts.values()
                                 if a["member_id"] == member["member_id"]]}  # fmt: skip

    @handles("account.list_v2")
    def list_v2(self, request: R, p: P) -> Any:
        after = num(p, "account_id", 0)
        size = num(p, "page_size", 20)
        rows = sorted((a for a in self.accounts.values() if a["seq"] > after),
                      key=lambda a: a["seq"])  # fmt: skip
        page, more = rows[:size], len(rows) > size
        items = [{"member_id": str(a["member_id"]), "account_no": a["account_no"],
                  "open_account_time": str(int(a["opened"]))} for a in page]  # fmt: skip
        return {"list": items, "next_account_id": str(page[-1]["seq"]) if more else ""}

    @handles("account.get")
    def get_account(self, request: R, p: P) -> Any:
        acct = self.account(p["account_no"], active=False)
        view = self._account_view(acct)
        return {"account": {k: view[k] for k in ("account_no", "state", "disable",
                                                  "account_type")}}  # fmt: skip

    @handles("account.change_account_state")
    def change_state(self, request: R, p: P) -> Any:
        acct = self.account(p["account_no"])
        acct["to_state"] = p["to_state"]
        acct["disable"] = p["to_state"] == "disable"
        return self.effect(request, {})

    @handles("account.close")
    def close(self, request: R, p: P) -> Any:
        acct = self.account(p["account_no"])
        no = acct["account_no"]
        if any(v["amount"] for (a, _), v in self.cash.items() if a == no):
            raise Fail("404092", "account assets are not zero")
        if any(o["account_no"] == no and o["status"] not in FINAL for o in self.orders.values()):
            raise Fail("404093", "account has orders in progress")
        acct["state"] = -1
        return self.effect(request, {})

    @handles("account.trade_set_pwd", "account.trade_reset_pwd")
    def set_password(self, request: R, p: P) -> Any:
        acct = self.account(p["account_no"])
        first = self.endpoint_of(request) == "account.trade_set_pwd"
        Fail.when(first and acct["password"] is not None, "402004", "trade password already set")
        if not first and acct["password"] is None:
            raise Fail("402005", "trade password not set")
        acct["password"] = p["encrypt_password"]
        self.member(acct["member_id"])["trade_password_set"] = True
        return self.effect(request, {})

    @handles("account.trade_auth_pwd")
    def check_password(self, request: R, p: P) -> Any:
        acct = self.account(p["account_no"])
        if acct["password"] is None or acct["password"] != p["encrypt_password"]:
            raise Fail("401045", "trade password wrong")
        return {"account": {"aaid": acct["account_no"], "member_id": str(acct["member_id"])}}

    @handles("account.trade_permissions")
    def permissions(self, request: R, p: P) -> Any:
        acct = self.account(p["account_no"])
        products: dict[str, list[str]] = {}
        for perm in sorted(acct["permissions"]):
            product, _, market = perm.partition(".")
            if product not in ("stock", "va"):  # the answer's product enum: stock, va
                continue
            products.setdefault(product, []).append(market)
        return {"permissions": [{"product": k, "markets": m} for k, m in products.items()]}

    @handles("account.update_account_trade_permission")
    def update_permissions(self, request: R, p: P) -> Any:
        acct = self.account(p["account_no"])
        changes = p["changes"]
        Invalid.when(not isinstance(changes, list) or not changes, "changes")
        after = set(acct["permissions"])
        for i, change in enumerate(changes):  # pre-validation, fail fast: failure_index
            kind = change.get("permission_type") if isinstance(change, dict) else None
            status = change.get("permission_status") if isinstance(change, dict) else None
            Invalid.when(kind not in VALID_PERMS, "enum not valid", data={"failure_index": i})
            if status not in ("open", "close"):
                raise Invalid("permission_status", data={"failure_index": i})
            if (kind in after) == (status == "open"):
                raise Invalid("no state change", data={"failure_index": i})
            (after.add if status == "open" else after.discard)(kind)
        acct["permissions"] = after  # the whole batch, atomically
        return self.effect(request, {})

    # ------------------------------------------------------------ cash and stock

    @handles("asset.cash_info", "asset.ob_cash_info")
    def cash_info(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        want = p.get("currency")
        rows = [(c, v) for (a, c), v in sorted(self.cash.items()) if a == no and c in (want, c)]
        cash_list = [{"currency": c, "cash_amount": txt(v["amount"]),
                      "available_amount": txt(v["amount"] - v["frozen"]),
                      "withdraw_amount": txt(v["amount"] - v["frozen"]),
                      "settled_balance": txt(v["amount"]), "unsettled_balance": "0"}
                     for c, v in rows]  # fmt: skip
        total = sum((v["amount"] for _, v in rows), Decimal(0))
        free = sum((v["amount"] - v["frozen"] for _, v in rows), Decimal(0))
        ob = self.endpoint_of(request) == "asset.ob_cash_info"  # documents an object here
        return {
            "total_cash": txt(total),
            "total_available_cash": txt(free),
            "total_withdraw_cash": {} if ob else txt(free),
            "cash_list": cash_list,
            "total_settled_balance": txt(total),
            "total_unsettled_balance": "0",
        }

    @handles("asset.risk_buy_power")
    def buy_power(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        ccy = p.get("currency", "HKD")
        cash = self._cash(no, ccy)
        return {"buy_power": txt(cash["amount"] - cash["frozen"]), "currency": ccy}

    @handles("trade.estimate_buy_limit")
    def buy_limit(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        symbol = p["symbol"]
        price = dec(p.get("price") or self.prices.get(symbol, Decimal(100)), "price")
        if p["side"] == "Sell":
            qty = self.stock.get((no, symbol), Decimal(0))
            return {"cash_max_qty": txt(qty), "margin_max_qty": txt(qty)}
        cash = self._cash(no, _currency(symbol))
        qty = ((cash["amount"] - cash["frozen"]) / price).to_integral_value(rounding="ROUND_DOWN")
        return {"cash_max_qty": txt(qty), "margin_max_qty": txt(qty * 2)}

    @handles("asset.stock_info")
    def positions(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        rows = [{"symbol": s, "market": s.rpartition(".")[2], "currency": _currency(s),
                 "total_quantity": txt(q), "available_quantity": txt(q),
                 "last_done": txt(self.prices.get(s, Decimal(100))),
                 "average_cost_price": txt(self.prices.get(s, Decimal(100)))}
                for (a, s), q in sorted(self.stock.items()) if a == no and q]  # fmt: skip
        return {"stock_list": rows}

    @handles("asset.financial_flows")
    def cash_flows(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        want = p.get("currency")
        rows = [f for f in self.flows.get(no, []) if want in (None, f["currency"])]
        return {"financial_flows_list": _page(rows, p)}

    @handles("asset.adjust_cash")
    def adjust_cash(self, request: R, p: P) -> Any:
        def make() -> Any:
            no = self.account(p["account_no"])["account_no"]
            amount = dec(p["amount"], "amount")
            sign = 1 if int(p["direction"]) == 2 else -1
            cash = self._cash(no, p["currency"])
            if sign < 0 and cash["amount"] - cash["frozen"] < amount:
                raise Invalid("insufficient available cash")
            serial = self.credit(no, p["currency"], sign * amount, "Adjustment", p["biz_code"])
            return self.effect(request, {"msg": "success", "serial_num": serial, "error_code": ""})

        return self._once(request, p, make)

    @handles("asset.adjust_stock")
    def adjust_stock(self, request: R, p: P) -> Any:
        def make() -> Any:
            no = self.account(p["account_no"])["account_no"]
            qty = dec(p["quantity"], "quantity")
            key = (no, str(p["symbol"]))
            held = self.stock.get(key, Decimal(0))
            sign = 1 if int(p["direction"]) == 2 else -1
            Invalid.when(sign < 0 and held < qty, "insufficient position")
            self.stock[key] = held + sign * qty
            self.mark_effect(request)
            return {"msg": "success", "serial_num": f"S{next(self.ids)}", "error_code": ""}

        return self._once(request, p, make)

    @handles("asset.frozen_cash")
    def freeze(self, request: R, p: P) -> Any:
        def make() -> Any:
            no = self.account(p["account_no"])["account_no"]
            amount = dec(p["frozen_amount"], "frozen_amount")
            serial = str(p.get("serial_num") or f"F{next(self.ids)}")
            Invalid.when(serial in self.freezes, "serial_num already used")
            cash = self._cash(no, p["currency"])
            Invalid.when(cash["amount"] - cash["frozen"] < amount, "insufficient available cash")
            cash["frozen"] += amount
            self.freezes[serial] = {"account_no": no, "currency": p["currency"],
                                    "amount": amount, "status": "frozen",
                                    "biz_code": p["biz_code"],
                                    "at": int(self.clock.now())}  # fmt: skip
            return self.effect(request, {"msg": "success", "serial_num": serial})

        return self._once(request, p, make)

    def _freeze(self, p: P) -> dict[str, Any]:
        found = self.freezes.get(str(p["serial_num"]))
        if found is None or found["account_no"] != str(p["account_no"]):
            raise Invalid("unknown serial_num")
        Invalid.when(found["status"] != "frozen", "not frozen")
        return found

    @handles("asset.unfrozen_cash")
    def unfreeze(self, request: R, p: P) -> Any:
        def make() -> Any:
            found = self._freeze(p)
            amount = dec(p["unfrozen_amount"], "unfrozen_amount")
            if amount != found["amount"]:
                raise Invalid("unfrozen_amount differs from the frozen amount")
            self._cash(found["account_no"], found["currency"])["frozen"] -= amount
            found["status"] = "unfrozen"
            return self.effect(request, {"msg": "success", "serial_num": p["serial_num"]})

        return self._once(request, p, make)

    @handles("asset.unfrozen_debit")
    def unfreeze_debit(self, request: R, p: P) -> Any:
        def make() -> Any:
            found = self._freeze(p)
            self._cash(found["account_no"], found["currency"])["frozen"] -= found["amount"]
            self.credit(found["account_no"], found["currency"], -found["amount"], "Debit",
                        found["biz_code"])  # fmt: skip
            found["status"] = "debited"
            self.mark_effect(request)
            return {"msg": "success", "serial_num": p["serial_num"], "error_code": ""}

        return self._once(request, p, make)

    @handles("asset.financial_frozen_flows")
    def freeze_flows(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        rows = [{"flow_name": "Freeze", "amount": txt(f["amount"]), "currency": f["currency"],
                 "bussiness_time": str(f["at"]), "serial_num": s,
                 "frozen_type": 1 if f["status"] == "frozen" else 2,  # 1 LOCK, 2 UNLOCK
                 "bussiness_code": f["biz_code"]}
                for s, f in self.freezes.items() if f["account_no"] == no]  # fmt: skip
        return {"frozen_flows_list": _page(rows, p)}

    # ------------------------------------------------------------ deposits, withdrawals

    @handles("portfolio.deposit_apply")
    def deposit(self, request: R, p: P) -> Any:
        acct = self._usable(p["account_no"], "account.deposit")
        amount = dec(p["amount"], "amount")
        Invalid.when(amount <= 0, "amount")
        dep_id = next(self.ids)
        self.deposits[dep_id] = {
            "id": dep_id, "account_no": acct["account_no"], "currency": p["currency"],
            "amount": amount, "state_code": 0, "state": "Processing",
            "created_at": int(self.clock.now()), "reference_no": p.get("reference_no", ""),
            "vouchers": list(p.get("vouchers") or []), "card_id": p.get("card_id"),
        }  # fmt: skip
        return self.effect(request, {"ok": True, "id": dep_id})

    def settle_deposit(self, dep_id: int, *, ok: bool = True) -> None:
        """Back office: the money arrived (1 Accounted) or not (2 failed)."""
        dep = self.deposits[int(dep_id)]
        Fail.when(dep["state_code"] != 0, "404102", "deposit is not processing")
        dep["state_code"], dep["state"] = (1, "Accounted") if ok else (2, "Processing fail")
        if ok:
            self.credit(dep["account_no"], dep["currency"], dep["amount"])

    def _deposit(self, p: P) -> dict[str, Any]:
        try:
            dep = self.deposits.get(int(p["id"]))
        except (TypeError, ValueError):
            dep = None
        if dep is None or dep["account_no"] != str(p["account_no"]):
            raise Invalid("unknown deposit")
        return dep

    @handles("portfolio.deposit_cancel")
    def cancel_deposit(self, request: R, p: P) -> Any:
        dep = self._deposit(p)
        if dep["state_code"] == 3:
            return {"ok": True, "id": dep["id"]}  # already cancelled: the same answer
        Fail.when(dep["state_code"] != 0, "404102", "deposit can no longer be cancelled")
        dep["state_code"], dep["state"] = 3, "Cancelled"
        return self.effect(request, {"ok": True, "id": dep["id"]})

    def _deposit_view(self, dep: dict[str, Any]) -> dict[str, Any]:
        return {"id": dep["id"], "created_at": dep["created_at"], "currency": dep["currency"],
                "amount": txt(dep["amount"]), "state": dep["state"],
                "state_code": dep["state_code"], "reference_no": dep["reference_no"],
                "can_cancel": dep["state_code"] == 0, "receivable_amount": txt(dep["amount"]),
                "order_id": f"D{dep['id']}"}  # fmt: skip

    @handles("portfolio.deposit_notify")
    def deposits_of(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        ccys = set(str(p.get("currencies", "")).split(",")) - {""}
        rows = [d for d in self.deposits.values() if d["account_no"] == no
                and (not ccys or d["currency"] in ccys)]  # fmt: skip
        items = [{**self._deposit_view(d), "id": str(d["id"]), "created_at": str(d["created_at"]),
                  "state_code": str(d["state_code"]), "vouchers": []}
                 for d in _page(rows, p)]  # fmt: skip
        return {"items": items, "total": str(len(rows))}

    @handles("portfolio.deposit_detail")
    def deposit_detail(self, request: R, p: P) -> Any:
        return self._deposit_view(self._deposit(p))

    @handles("portfolio.withdraw")
    def withdraw(self, request: R, p: P) -> Any:
        acct = self._usable(p["account_no"], "account.withdraw")
        no = acct["account_no"]
        card = self.cards.get(int(p["card_id"])) if str(p["card_id"]).isdigit() else None
        if card is None or card["account_no"] != no:
            raise Invalid("unknown card_id")
        amount = dec(p["amount"], "amount")
        cash = self._cash(no, p["currency"])
        if amount <= 0 or cash["amount"] - cash["frozen"] < amount:
            raise Invalid("amount exceeds the withdrawable cash")
        cash["frozen"] += amount
        n = next(self.ids)
        order_id = f"W{n}"
        self.withdrawals[order_id] = {
            "id": n, "order_id": order_id, "account_no": no, "currency": p["currency"],
            "amount": amount, "state": 0, "created_at": int(self.clock.now()),
            "updated_at": int(self.clock.now()), "bank_account": card["account"],
            "external_order_no": p.get("external_order_no", ""), "card": card,
        }  # fmt: skip
        return self.effect(request, {"ok": True, "id": order_id, "tip_url": ""})

    def settle_withdrawal(self, order_id: str, *, ok: bool = True) -> None:
        """Back office: paid out (state 2, cash debited) or refused (state 3, released)."""
        w = self.withdrawals[order_id]
        cash = self._cash(w["account_no"], w["currency"])
        cash["frozen"] -= w["amount"]
        w["state"] = 2 if ok else 3
        if ok:
            self.credit(w["account_no"], w["currency"], -w["amount"], "Withdrawal", "WDR")

    @handles("portfolio.withdraw_cancel")
    def cancel_withdrawal(self, request: R, p: P) -> Any:
        w = self.withdrawals.get(str(p["order_id"]))
        if w is None or w["account_no"] != str(p["account_no"]):
            raise Invalid("unknown order_id")
        if w["state"] == 4:
            return {"ok": True}
        Fail.when(w["state"] != 0, "404102", "withdrawal can no longer be cancelled")
        self._cash(w["account_no"], w["currency"])["frozen"] -= w["amount"]
        w["state"] = 4
        return self.effect(request, {"ok": True})

    def _withdrawal_view(self, w: dict[str, Any]) -> dict[str, Any]:
        return {"id": w["id"], "order_id": w["order_id"], "currency": w["currency"],
                "amount": txt(w["amount"]), "created_at": w["created_at"], "state": w["state"],
                "bank_account": w["bank_account"], "fee": "0",
                "settlement_amount": txt(w["amount"])}  # fmt: skip

    @handles("portfolio.withdraw_record")
    def withdrawals_of(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        rows = [w for w in self.withdrawals.values() if w["account_no"] == no]
        return {"total": len(rows), "list": [self._withdrawal_view(w) for w in _page(rows, p)]}

    @handles("portfolio.withdraw_detail")
    def withdrawal_detail(self, request: R, p: P) -> Any:
        w = self.withdrawals.get(str(p["id"])) or next(
            (x for x in self.withdrawals.values() if str(x["id"]) == str(p["id"])), None
        )
        if w is None or w["account_no"] != str(p["account_no"]):
            raise Invalid("unknown withdrawal")
        card = {k: str(v) for k, v in w["card"].items()}
        return {**self._withdrawal_view(w), "name": card["name"], "bank": card["bank_en"],
                "bank_en": card["bank_en"], "account": card["account"],
                "swift_code": card.get("swift_code", ""), "updated_at": w["updated_at"],
                "external_order_no": w["external_order_no"]}  # fmt: skip

    # ------------------------------------------------------------ bank cards

    _CARD = ("bank_id", "region", "bank_en", "name", "name_en", "account", "swift_code",
             "account_type", "country", "address", "remark", "bank_code", "fps_id")  # fmt: skip

    @handles("portfolio.withdraw_card")
    def add_card(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        card_id = next(self.ids)
        self.cards[card_id] = {"id": card_id, "account_no": no,
                               **{k: p.get(k, "") for k in self._CARD}}  # fmt: skip
        return self.effect(request, {})

    def _card(self, p: P) -> dict[str, Any]:
        raw = str(p["id"])
        card = self.cards.get(int(raw)) if raw.isdigit() else None
        if card is None or card["account_no"] != str(p["account_no"]):
            raise Invalid("unknown card")
        return card

    @handles("portfolio.withdraw_card_update")
    def update_card(self, request: R, p: P) -> Any:
        card = self._card(p)
        card.update({k: p.get(k) for k in self._CARD if p.get(k) is not None})
        return self.effect(request, {})

    @handles("portfolio.withdraw_card_delete")
    def delete_card(self, request: R, p: P) -> Any:
        del self.cards[self._card(p)["id"]]
        return self.effect(request, {})

    def _card_view(self, card: dict[str, Any]) -> dict[str, Any]:
        view = {k: str(card.get(k) or "") for k in self._CARD}
        bank_id = str(card.get("bank_id") or "0")
        return {**view, "id": card["id"], "bank": card.get("bank_en") or "",
                "bank_id": int(bank_id) if bank_id.isdigit() else 0, "status  ": 2,
                "status": 2}  # fmt: skip

    @handles("portfolio.withdraw_cards")
    def cards_of(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        rows = [self._card_view(c) for c in self.cards.values() if c["account_no"] == no]
        for row in rows:
            row.pop("status")  # the list documents "status  " (with the trailing spaces)
        return {"list": rows, "last_funding_currency": "HKD", "last_funding_type": 0,
                "last_bank_card_id": rows[-1]["id"] if rows else 0}  # fmt: skip

    @handles("portfolio.withdraw_card_detail")
    def card_detail(self, request: R, p: P) -> Any:
        view = self._card_view(self._card(p))
        view.pop("status  ")
        return {**view, "last_funding": 0, "bank_sec_support_currencies": []}

    #: the published average rates (ASSUMPTION: sandbox figures); bid/offer 0.01 apart
    RATES: ClassVar[dict[tuple[str, str], Decimal]] = {
        ("USD", "HKD"): Decimal("7.82"), ("USD", "CNH"): Decimal("7.12"),
    }  # fmt: skip

    @handles("portfolio.forex_getexchangerates")
    def exchange_rates(self, request: R, p: P) -> Any:
        rows = [{"base_currency": b, "other_currency": q, "bid_rate": r - Decimal("0.01"),
                 "offer_rate": r + Decimal("0.01"), "average_rate": r}
                for (b, q), r in self.RATES.items()]  # fmt: skip
        return {"universal_exchanges": {"pspl_sg": {"spec_exchanges": {"am": {"exchanges": rows}}}}}

    # ------------------------------------------------------------ orders

    @handles("trade.order")
    def place(self, request: R, p: P) -> Any:
        symbol = str(p["symbol"])
        market = symbol.rpartition(".")[2]
        acct = self._usable(p["account_no"], f"stock.{market}")
        qty = dec(p["submitted_quantity"], "submitted_quantity")
        kind = p["order_type"]
        # p[...]: a limit order without a price is the gateway's 400
        price = dec(p["submitted_price"], "submitted_price") if kind != "MO" else None
        side = p["side"]
        if side == "Sell" and self.stock.get((acct["account_no"], symbol), Decimal(0)) < qty:
            raise Invalid("insufficient position")
        order_id = str(700000 + next(self.ids))
        now = int(self.clock.now())
        self.orders[order_id] = {
            "order_id": order_id, "account_no": acct["account_no"], "symbol": symbol,
            "side": side, "order_type": kind, "quantity": qty, "price": price,
            "executed_quantity": Decimal(0), "cost": Decimal(0), "status": "NewStatus",
            "remark": p.get("remark", ""), "submitted_at": now, "updated_at": now,
            "time_in_force": p["time_in_force"], "currency": _currency(symbol),
        }  # fmt: skip
        self.order_changed(self.orders[order_id])  # wt-wstream: push
        self.mark_effect(request)
        if kind == "MO":
            self.fill(order_id, qty, self.prices.get(symbol, Decimal(100)))
        return {"order_id": order_id}

    def fill(self, order_id: str, quantity: Decimal, price: Decimal) -> None:
        """The market: execute ``quantity`` at ``price`` (a partial fill when less)."""
        o = self.orders[order_id]
        left = o["quantity"] - o["executed_quantity"]
        Invalid.when(o["status"] in FINAL or quantity <= 0 or quantity > left, "nothing to fill")
        o["executed_quantity"] += quantity
        o["cost"] += quantity * price
        full = o["executed_quantity"] == o["quantity"]
        o["status"] = "FilledStatus" if full else "PartialFilledStatus"
        o["updated_at"] = int(self.clock.now())
        key = (o["account_no"], o["symbol"])
        sign = 1 if o["side"] == "Buy" else -1
        self.stock[key] = self.stock.get(key, Decimal(0)) + sign * quantity
        self.credit(o["account_no"], o["currency"], -sign * quantity * price, "Trade", "TRD")
        self.trades.append({"order_id": order_id, "trade_id": f"T{next(self.ids)}",
                            "quantity": txt(quantity), "price": txt(price),
                            "trade_done_at": str(o["updated_at"]), "symbol": o["symbol"],
                            "side": o["side"], "account_no": o["account_no"]})  # fmt: skip
        self.order_changed(o, write=False)  # wt-wstream: push

    def _order(self, p: P) -> dict[str, Any]:
        o = self.orders.get(str(p["order_id"]))
        if o is None or o["account_no"] != str(p["account_no"]):
            raise Invalid("order not found")
        return o

    @handles("trade.order_update")
    def amend(self, request: R, p: P) -> Any:
        o = self._order(p)
        Invalid.when(o["status"] in FINAL, "the order can no longer be modified")
        qty = dec(p["quantity"], "quantity")
        Invalid.when(qty < o["executed_quantity"], "quantity below the executed quantity")
        o["quantity"] = qty
        if p.get("price") is not None:
            o["price"] = dec(p["price"], "price")
        if p.get("remark") is not None:
            o["remark"] = p["remark"]
        o["updated_at"] = int(self.clock.now())
        if qty == o["executed_quantity"]:
            o["status"] = "FilledStatus"
        self.order_changed(o)  # wt-wstream: push
        return self.effect(request, {})

    @handles("trade.order_delete")
    def cancel(self, request: R, p: P) -> Any:
        o = self._order(p)
        Invalid.when(o["status"] in FINAL, "the order can no longer be cancelled")
        o["status"] = "PartialWithdrawal" if o["executed_quantity"] else "CanceledStatus"
        o["updated_at"] = int(self.clock.now())
        self.order_changed(o)  # wt-wstream: push
        return self.effect(request, {})

    @handles("trade.withdraw_user_orders")
    def cancel_all(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        mine = [o for o in self.orders.values() if o["account_no"] == no
                and o["symbol"].endswith("." + str(p["market"]))]  # fmt: skip
        open_ = [o for o in mine if o["status"] not in FINAL]
        for o in open_:
            o["status"] = "PartialWithdrawal" if o["executed_quantity"] else "CanceledStatus"
            self.order_changed(o)  # wt-wstream: push
        if open_:
            self.mark_effect(request)
        return {"total_orders": len(mine), "submitted_count": len(open_)}

    def _order_view(self, o: dict[str, Any]) -> dict[str, Any]:
        done = o["executed_quantity"]
        avg = (o["cost"] / done).quantize(Decimal("0.0001")) if done else Decimal(0)
        return {"order_id": o["order_id"], "status": o["status"], "stock_name": o["symbol"],
                "quantity": txt(o["quantity"]), "executed_quantity": txt(done),
                "price": txt(o["price"] or Decimal(0)), "executed_price": txt(avg),
                "submitted_at": str(o["submitted_at"]), "updated_at": str(o["updated_at"]),
                "side": o["side"], "symbol": o["symbol"], "order_type": o["order_type"],
                "tag": "Normal", "time_in_force": o["time_in_force"], "currency": o["currency"],
                "remark": o["remark"], "last_done": txt(avg), "msg": "",
                "outside_rth": "RTH_ONLY", "trigger_status": "Deactive"}  # fmt: skip

    @handles("trade.order_detail")
    def order_detail(self, request: R, p: P) -> Any:
        view = self._order_view(self._order(p))
        view["trigger_status"] = "DEACTIVE"
        return view

    def _orders(self, p: P, today: bool) -> Any:
        no = p.get("account_no")
        day = int(self.clock.now()) // 86400
        rows = [o for o in self.orders.values() if no in (None, o["account_no"])
                and p.get("symbol") in (None, o["symbol"])
                and p.get("status") in (None, o["status"])
                and (not today or o["submitted_at"] // 86400 == day)]  # fmt: skip
        size = num(p, "size", 20)
        page = _page(rows, p)
        more = num(p, "page", 1) * size < len(rows)
        return {"has_more": more, "orders": [self._order_view(o) for o in page]}

    @handles("trade.order_today")
    def orders_today(self, request: R, p: P) -> Any:
        return self._orders(p, today=True)

    @handles("trade.order_history")
    def orders_history(self, request: R, p: P) -> Any:
        self.account(p["account_no"])
        return self._orders(p, today=False)

    @handles("trade.execution_today", "trade.execution_history", "trade.execution_history_v2",
        "trade.execution_all_v3")  # fmt: skip
    def fills(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        name = self.endpoint_of(request)
        day = int(self.clock.now()) // 86400
        rows = [
            dict(t)
            for t in self.trades
            if t["account_no"] == no
            and p.get("symbol") in (None, t["symbol"])
            and p.get("order_id") in (None, t["order_id"])
            and (name != "trade.execution_today" or int(t["trade_done_at"]) // 86400 == day)
        ]
        for row in rows:
            row.pop("account_no")
            if name in ("trade.execution_today", "trade.execution_history"):
                row.pop("side")  # v1 answers document no side
        if name == "trade.execution_today":
            return {"trades": rows}
        page = _page(rows, p, size="_")
        return {"has_more": len(rows) > num(p, "page", 1) * 20, "trades": page}

    # ------------------------------------------------------------ IPO

    IPO: ClassVar[dict[str, dict[str, Any]]] = {
        "9999.HK": {"name": "Whale Sandbox Ltd", "price": Decimal("10"), "lot": 500}
    }

    @handles("ipo.submit")
    def ipo_submit(self, request: R, p: P) -> Any:
        symbol = str(p["symbol"])
        ipo = Invalid.absent(self.IPO.get(symbol), "no such IPO")
        acct = self._usable(p["account_no"], f"ipo.{symbol.rpartition('.')[2]}")
        qty = dec(p["sub_qty"], "sub_qty")
        Invalid.when(qty <= 0 or qty % ipo["lot"], f"sub_qty must be a multiple of {ipo['lot']}")
        amount = qty * ipo["price"]
        cash = self._cash(acct["account_no"], "HKD")
        if cash["amount"] - cash["frozen"] < amount:
            raise Invalid("insufficient cash for the subscription")
        cash["frozen"] += amount
        oid = next(self.ids)
        self.ipo_orders[oid] = {"id": oid, "account_no": acct["account_no"], "symbol": symbol,
                                "qty": qty, "amount": amount, "status": "1", "won": Decimal(0),
                                "method": str(p["method"]),
                                "batch_id": str(p["batch_id"])}  # fmt: skip
        return self.effect(request, self._ipo_view(self.ipo_orders[oid]))

    def _ipo_view(self, o: dict[str, Any]) -> dict[str, Any]:
        ipo = self.IPO[o["symbol"]]
        open_ = o["status"] == "1"
        return {"id": str(o["id"]), "name": ipo["name"], "symbol": o["symbol"], "market": "HK",
                "currency": "HKD", "sub_qty": txt(o["qty"]), "sub_amount": txt(o["amount"]),
                "handing_fee": "0", "withdraw_able": "1" if open_ else "0",
                "lot_win_qty": txt(o["won"]), "status": o["status"], "ipo_status": "0",
                "method": o["method"], "ipo_price": txt(ipo["price"]),
                "total_amount": txt(o["amount"]), "modify_enable": "1" if open_ else "0",
                "borrow_enable": "0", "code": o["symbol"].partition(".")[0]}  # fmt: skip

    def _ipo_order(self, p: P) -> dict[str, Any]:
        raw = str(p["order_id"])
        o = self.ipo_orders.get(int(raw)) if raw.isdigit() else None
        if o is None or o["account_no"] != str(p["account_no"]):
            raise Invalid("unknown IPO order")
        return o

    @handles("ipo.amend")
    def ipo_amend(self, request: R, p: P) -> Any:
        o = self._ipo_order(p)
        Invalid.when(o["status"] != "1", "the subscription can no longer be amended")
        qty = dec(p["sub_qty"], "sub_qty")
        ipo = self.IPO[o["symbol"]]
        Invalid.when(qty <= 0 or qty % ipo["lot"], f"sub_qty must be a multiple of {ipo['lot']}")
        cash = self._cash(o["account_no"], "HKD")
        cash["frozen"] += qty * ipo["price"] - o["amount"]
        o["qty"], o["amount"] = qty, qty * ipo["price"]
        return self.effect(request, {**self._ipo_view(o), "sub_fee": "0"})

    @handles("ipo.withdraw")
    def ipo_withdraw(self, request: R, p: P) -> Any:
        o = self._ipo_order(p)
        if o["status"] == "6":
            return {"result": True}
        Invalid.when(o["status"] != "1", "the subscription can no longer be withdrawn")
        self._cash(o["account_no"], "HKD")["frozen"] -= o["amount"]
        o["status"] = "6"
        return self.effect(request, {"result": True})

    def allot(self, order_id: int, won: Decimal) -> None:
        """Allotment day: ``won`` shares (status 4 allotted, or 5 not allotted)."""
        o = self.ipo_orders[order_id]
        ipo = self.IPO[o["symbol"]]
        self._cash(o["account_no"], "HKD")["frozen"] -= o["amount"]
        o["won"], o["status"] = won, "4" if won else "5"
        if won:
            self.credit(o["account_no"], "HKD", -won * ipo["price"], "IPO allotment", "IPO")
            key = (o["account_no"], o["symbol"])
            self.stock[key] = self.stock.get(key, Decimal(0)) + won

    @handles("ipo.order")
    def ipo_order(self, request: R, p: P) -> Any:
        o = self._ipo_order(p)
        view = self._ipo_view(o)
        return {**view, "id": o["id"], "withdraw_able": o["status"] == "1",
                "modify_enable": o["status"] == "1", "batch_id": 0, "luck_at": 0,
                "channel": {}}  # fmt: skip

    @handles("ipo.order_list")
    def ipo_orders_of(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        rows = [self._ipo_view(o) for o in self.ipo_orders.values() if o["account_no"] == no
                and p.get("symbol") in (None, o["symbol"])]  # fmt: skip
        page = _page(rows, p, size="limit")
        return {"has_more": num(p, "page", 1) * num(p, "limit", 20) < len(rows), "list": page}

    # ------------------------------------------------------------ access keys

    def _key_view(self, key: dict[str, Any], disabled_tokens: bool = True) -> dict[str, Any]:
        tokens = [t for t in key["tokens"] if disabled_tokens or not t["disable"]]
        return {"access_key_id": key["access_key_id"], "access_key_secret": key["secret"],
                "disable": key["disable"], "ipwhitelist": {"net": list(key["ip_whitelist"])},
                "created_at": self._time(key["created"]),
                "tokens": [self._token_view(t) for t in tokens]}  # fmt: skip

    def _token_view(self, t: dict[str, Any]) -> dict[str, Any]:
        return {"access_key_id": t["access_key_id"], "token": t["token"],
                "expired_at": self._time(t["expires"]), "disable": t["disable"],
                "created_at": self._time(t["created"])}  # fmt: skip

    def _expiry(self, text: Any, default: float) -> float:
        if text in (None, ""):
            return default
        try:
            return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise Invalid("not an RFC 3339 time") from None

    def _ak(self, p: P) -> dict[str, Any]:
        return Invalid.absent(self.keys.get(str(p["access_key_id"])), "unknown access key")

    @handles("account.accesskeys_create")
    def create_key(self, request: R, p: P) -> Any:
        no = self.account(p["account_no"])["account_no"]
        now = self.clock.now()
        key = next((k for k in self.keys.values() if k["account_no"] == no), None)
        if key is None:  # idempotent per account: an existing key is returned
            key_id = "AK" + self.token_hex(8)
            key = self.keys[key_id] = self._key(no, key_id, self.token_hex(16), now)
            key["ip_whitelist"] = list(p.get("ip_whitelist") or [])
            expires = self._expiry(p.get("token_expired_at"), now + 86400 * 30)
            key["tokens"].append(self._token(key_id, now, ttl=expires - now))
            self.mark_effect(request)
        live = next(t for t in reversed(key["tokens"]) if not t["disable"]) if any(
            not t["disable"] for t in key["tokens"]
        ) else key["tokens"][-1]  # fmt: skip
        return {"access_key": self._key_view(key), "token": self._token_view(live)}

    @handles("account.accesskeys")
    def list_keys(self, request: R, p: P) -> Any:
        no = p.get("account_no")
        rows = [self._key_view(k) for k in self.keys.values()
                if k["account_no"] != "tenant" and no in (None, k["account_no"])]  # fmt: skip
        return {"access_keys": rows}

    @handles("account.accesskeys_detail")
    def get_key(self, request: R, p: P) -> Any:
        flag = str(p.get("include_disabled_tokens", "false")).lower() == "true"
        return {"access_key": self._key_view(self._ak(p), flag)}

    @handles("account.accesskeys_update")
    def update_key(self, request: R, p: P) -> Any:
        key = self._ak(p)
        key["ip_whitelist"] = list(p["ip_whitelist"])
        self.mark_effect(request)
        view = self._key_view(key)
        return {"access_key": {**view, "ipwhitelist": view["ipwhitelist"]["net"]}}

    @handles("account.accesskeys_disable", "account.accesskeys_enable")
    def toggle_key(self, request: R, p: P) -> Any:
        key = self._ak(p)
        disable = self.endpoint_of(request).endswith("disable")
        if key["disable"] != disable:
            key["disable"] = disable
            self.mark_effect(request)
        if not disable and p.get("token_expired_at"):
            now = self.clock.now()
            ttl = self._expiry(p.get("token_expired_at"), now) - now
            key["tokens"].append(self._token(key["access_key_id"], now, ttl=ttl))
        return {"access_key": self._key_view(key)} if disable else {}

    @handles("account.accesskeys_token")
    def renew(self, request: R, p: P) -> Any:
        key = self._ak(p)
        old = next((t for t in key["tokens"] if t["token"] == str(p["token"])), None)
        if old is None or old["disable"]:
            raise Fail("401004", "token invalid", self.token_invalid_status)
        now = self.clock.now()
        ttl = self._expiry(p["expired_at"], now) - now
        Invalid.when(ttl <= 0, "expired_at is in the past")
        old["disable"] = True  # the old token is disabled at once
        new = self._token(key["access_key_id"], now, ttl=ttl)
        key["tokens"].append(new)
        return self.effect(request, {"token": self._token_view(new)})

    @handles("account.accesskeys_token_delete")
    def revoke(self, request: R, p: P) -> Any:
        key = self._ak(p)
        token = next((t for t in key["tokens"] if t["token"] == str(p["token"])), None)
        token = Fail.absent(token, "401004", "token invalid", self.token_invalid_status)
        if not token["disable"]:
            token["disable"] = True
            self.mark_effect(request)
        return {}

    # ------------------------------------------------------------ rewards

    @handles("reward.send_reward")
    def send_reward(self, request: R, p: P) -> Any:
        rid = str(p["request_id"])
        if rid not in self.rewards:
            value = p.get("cash_value")
            if p["type"] == "cash" and not isinstance(value, dict):
                raise Invalid("cash_value is required for cash rewards")
            self.rewards[rid] = {"ref_no": f"RW{next(self.ids)}", "status": 1,
                                 "member_id": int(p.get("x-member-id", 0) or 0)}  # fmt: skip
            self.mark_effect(request)
        r = self.rewards[rid]
        return {"ref_no": r["ref_no"], "status": r["status"]}

    @handles("reward.reward_info")
    def reward_info(self, request: R, p: P) -> Any:
        wanted = set(p["ref_nos"])
        return {
            "reward_infos": [
                {
                    "ref_no": r["ref_no"],
                    "member_id": r["member_id"],
                    "status": r["status"],
                    "sub_status": 0,
                    "done_at": 0,
                }
                for r in self.rewards.values()
                if r["ref_no"] in wanted
            ]
        }


def _currency(symbol: str) -> str:
    return {"HK": "HKD", "US": "USD", "SG": "SGD", "SH": "CNY", "SZ": "CNY"}.get(
        symbol.rpartition(".")[2], "HKD"
    )


def _sections(info: dict[str, Any]) -> dict[str, Any]:
    return {s: info.get(s) or {} for s in ("upload", "base", "employ", "finance", "risk")}
