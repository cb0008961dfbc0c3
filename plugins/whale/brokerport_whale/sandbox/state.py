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
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

from ..sandbox_ws import TradePush  # wt-wstream: the trade websocket
from .server import Call, Fail, GatewayCore

__all__ = ["SEED_ACCOUNT", "SEED_MEMBER", "WhaleSandbox"]

F = TypeVar("F", bound=Callable[..., Any])
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
_handlers: dict[str, str] = {}


def on(*names: str) -> Callable[[F], F]:
    """Registers a method as the handler of these catalog endpoints."""

    def deco(fn: F) -> F:
        for name in names:
            _handlers[name] = fn.__name__
        return fn

    return deco


def dec(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Fail(400, f"invalid params: {field} is not a number") from None
    if not number.is_finite():
        raise Fail(400, f"invalid params: {field} is not a number")
    return number


def txt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def num(call: Call, name: str, default: int) -> int:
    value = call.get(name, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Fail(400, f"invalid params: {name} is not a number") from None


def _page(items: list[Any], call: Call, page: str = "page", size: str = "size") -> list[Any]:
    n, k = num(call, page, 1), num(call, size, 20)
    return items[(n - 1) * k : n * k]


class WhaleSandbox(TradePush, GatewayCore):  # wt-wstream: TradePush mixin
    """The stateful WhaleAPI sandbox (``brokerport sandbox whale``)."""

    HANDLERS: ClassVar[dict[str, str]] = _handlers

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
        self.access_token = "whale-token-" + secrets.token_hex(8)
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
        return {"access_key_id": key_id, "token": token or "wt-" + secrets.token_hex(12),
                "expires": now + ttl, "disable": False, "created": now}  # fmt: skip

    def key_record(self, key_id: str) -> dict[str, Any] | None:
        return self.keys.get(key_id)

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
            raise Fail(404062, "account unavailable")
        return acct

    def _usable(self, account_no: Any, permission: str | None = None) -> dict[str, Any]:
        acct = self.account(account_no)
        if acct["disable"] or acct["to_state"] != "active":
            raise Fail(401033, "account frozen")
        if permission and permission not in acct["permissions"]:
            raise Fail(400, f"invalid params: no {permission} permission")
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

    def _once(self, call: Call, make: Callable[[], Any]) -> Any:
        """Ledger writes de-duplicated by request_id (ASSUMPTION: the vendor does)."""
        rid = call.get("request_id")
        if rid is None:
            return make()
        key = (call.endpoint.name, str(rid))
        if key not in self.seen:
            self.seen[key] = make()
        return self.seen[key]

    # ------------------------------------------------------------ members

    @on("auth.open_id_login")
    def login(self, call: Call) -> Any:
        open_id = call["open_id"]
        member = next((m for m in self.members.values() if m["open_id"] == open_id), None)
        if member is None:
            member = self._member(next(self.ids), open_id)
            self.members[member["member_id"]] = member
            call.effect()
        return {"member_info": {"member": {"member_id": member["member_id"]}, "setting": {},
                                "level_info": {}},
                "credentials": {"token": "mt-" + secrets.token_hex(8),
                                "refresh_token": "mr-" + secrets.token_hex(8)},
                "open_api_token": "oa-" + secrets.token_hex(8)}  # fmt: skip

    def member(self, member_id: Any) -> dict[str, Any]:
        try:
            found = self.members.get(int(member_id))
        except (TypeError, ValueError):
            found = None
        if found is None:
            raise Fail(401011, "member do not exist or is canceled")
        return found

    def _by(self, field: str, value: Any) -> dict[str, Any]:
        found = next((m for m in self.members.values() if m[field] == value), None)
        if found is None:
            raise Fail(401011, "member do not exist or is canceled")
        return {"member": {"member_id": found["member_id"], "email_verified": True,
                           "trade_password_set": found["trade_password_set"]}}  # fmt: skip

    @on("member.get_member_by_phone")
    def by_phone(self, call: Call) -> Any:
        return self._by("phone", call["phone"])

    @on("member.get_member_by_email")
    def by_email(self, call: Call) -> Any:
        found = self._by("email", call["email"])
        found["member"]["member_id"] = str(found["member"]["member_id"])  # text here
        return found

    @on("member.change_mobile")
    def change_mobile(self, call: Call) -> Any:
        member = self.member(self._by("phone", call["phone"])["member"]["member_id"])
        member["phone"] = call["new_phone"]
        call.effect()
        return {"code": "0", "message": "success"}

    @on("member.change_email")
    def change_email(self, call: Call) -> Any:
        self.member(call["member_id"])["email"] = call["new_email"]
        call.effect()
        return {"code": 0, "message": "success"}

    @on("member.update_pi_status")
    def pi_status(self, call: Call) -> Any:
        member = self.member(call["member_id"])
        status = str(call["pi_status"])
        if status not in ("0", "1", "2"):
            raise Fail(403047, "pi_status is not valid")
        if member["pi_status"] == status:
            raise Fail(403048, "pi_status do not change")
        member["pi_status"] = status
        call.effect()
        return {}

    @on("account.contact_info")
    def contact(self, call: Call) -> Any:
        member = self.member(call["member_id"])
        phone = {"country_code": int(member["phone"]["country_code"]),
                 "mobile": member["phone"]["mobile"], "contact_type": 1}  # fmt: skip
        return {"contact": {"phones": [phone], "emails": [{"email": member["email"]}]}}

    # ------------------------------------------------------------ applications

    @on("account.submit_application_v2")
    def submit(self, call: Call) -> Any:
        member = self.member(call["member_id"])
        if any(a["member_id"] == member["member_id"] and a["state"] in (5, 6, 7)
               for a in self.applications.values()):  # fmt: skip
            raise Fail(404013, "duplicate submission")
        app_id = f"APP{next(self.ids)}"
        self.applications[app_id] = {"application_id": app_id, "member_id": member["member_id"],
                                     "client_type": int(call["client_type"]), "state": 5,
                                     "reason": "", "submitted": self.clock.now(),
                                     "open_info": call["open_info"], "account_no": "",
                                     "kind": "C"}  # fmt: skip
        call.effect()
        return {"application_id": app_id}

    @on("account.append_account")
    def append(self, call: Call) -> Any:
        base = self._usable(call["account_no"])
        extra = call["additional_account"]
        kind = str(extra.get("account_type") or "C") if isinstance(extra, dict) else "C"
        app_id = f"APP{next(self.ids)}"
        self.applications[app_id] = {"application_id": app_id, "member_id": base["member_id"],
                                     "client_type": 0, "state": 5, "reason": "",
                                     "submitted": self.clock.now(), "open_info": {},
                                     "account_no": "", "kind": kind}  # fmt: skip
        call.effect()
        return {"application_id": app_id, "account_type": kind if kind in ("C", "M") else "C"}

    def application(self, app_id: Any) -> dict[str, Any]:
        app = self.applications.get(str(app_id))
        if app is None:
            raise Fail(404103, "application not found")
        return app

    def approve(self, app_id: str) -> str:
        """Back office: 5 submitted -> 6 approved -> 7 opening -> 9 success; the account."""
        app = self.application(app_id)
        if app["state"] not in (5, 6, 7):
            raise Fail(404102, "application state forbids changes")
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

    @on("account_requests.index")
    def applications_of(self, call: Call) -> Any:
        member = self.member(call["member_id"])
        return {"list": [{"id": a["application_id"], "state": str(a["state"]),
                          "account_channel": "whale"}
                         for a in self.applications.values()
                         if a["member_id"] == member["member_id"]]}  # fmt: skip

    @on("account.get_application")
    def get_application(self, call: Call) -> Any:
        app = self.application(call["application_id"])
        # the schema's enum is [3, 5, 9, -1]: in progress (5-7) reads 5, failed (8) -1
        state = {5: 5, 6: 5, 7: 5, 8: -1, 9: 9}[app["state"]]
        info = app["open_info"] if isinstance(app["open_info"], dict) else {}
        return {"application_id": app["application_id"], "member_id": str(app["member_id"]),
                "account_no": app["account_no"], "client_type": app["client_type"],
                "submitted_at": str(int(app["submitted"])), "state": state,
                "reason": app["reason"], "open_info": _sections(info)}  # fmt: skip

    @on("account.update_application_v2", "account.update_application")
    def update_application(self, call: Call) -> Any:
        member = self.member(call["member_id"])
        app_id = call.get("application_id")
        apps = [a for a in self.applications.values() if a["member_id"] == member["member_id"]]
        app = self.application(app_id) if app_id else (apps[-1] if apps else None)
        if app is None:
            raise Fail(404103, "application not found")
        if app["state"] not in (5, 8):
            raise Fail(404102, "application state forbids changes")
        for section, fields in dict(call["open_info"]).items():
            app["open_info"].setdefault(section, {}).update(fields or {})
        if app["state"] == 8:
            app["state"], app["reason"] = 5, ""
        call.effect()
        return {"code": 0, "message": "success"}

    # ------------------------------------------------------------ accounts

    def _account_view(self, acct: dict[str, Any]) -> dict[str, Any]:
        return {"account_no": acct["account_no"], "account_type": acct["account_type"],
                "application_id": acct["application_id"], "state": acct["state"],
                "disable": acct["disable"], "member_id": str(acct["member_id"]),
                "open_account_time": str(int(acct["opened"]))}  # fmt: skip

    @on("account.list")
    def list_v1(self, call: Call) -> Any:
        member = self.member(call["member_id"])
        return {"account_list": [self._account_view(a) for a in self.accounts.values()
                                 if a["member_id"] == member["member_id"]]}  # fmt: skip

    @on("account.list_v2")
    def list_v2(self, call: Call) -> Any:
        after = num(call, "account_id", 0)
        size = num(call, "page_size", 20)
        rows = sorted((a for a in self.accounts.values() if a["seq"] > after),
                      key=lambda a: a["seq"])  # fmt: skip
        page, more = rows[:size], len(rows) > size
        items = [{"member_id": str(a["member_id"]), "account_no": a["account_no"],
                  "open_account_time": str(int(a["opened"]))} for a in page]  # fmt: skip
        return {"list": items, "next_account_id": str(page[-1]["seq"]) if more else ""}

    @on("account.get")
    def get_account(self, call: Call) -> Any:
        acct = self.account(call["account_no"], active=False)
        view = self._account_view(acct)
        return {"account": {k: view[k] for k in ("account_no", "state", "disable",
                                                  "account_type")}}  # fmt: skip

    @on("account.change_account_state")
    def change_state(self, call: Call) -> Any:
        acct = self.account(call["account_no"])
        acct["to_state"] = call["to_state"]
        acct["disable"] = call["to_state"] == "disable"
        call.effect()
        return {}

    @on("account.close")
    def close(self, call: Call) -> Any:
        acct = self.account(call["account_no"])
        no = acct["account_no"]
        if any(v["amount"] for (a, _), v in self.cash.items() if a == no):
            raise Fail(404092, "account assets are not zero")
        if any(o["account_no"] == no and o["status"] not in FINAL for o in self.orders.values()):
            raise Fail(404093, "account has orders in progress")
        acct["state"] = -1
        call.effect()
        return {}

    @on("account.trade_set_pwd", "account.trade_reset_pwd")
    def set_password(self, call: Call) -> Any:
        acct = self.account(call["account_no"])
        first = call.endpoint.name == "account.trade_set_pwd"
        if first and acct["password"] is not None:
            raise Fail(402004, "trade password already set")
        if not first and acct["password"] is None:
            raise Fail(402005, "trade password not set")
        acct["password"] = call["encrypt_password"]
        self.member(acct["member_id"])["trade_password_set"] = True
        call.effect()
        return {}

    @on("account.trade_auth_pwd")
    def check_password(self, call: Call) -> Any:
        acct = self.account(call["account_no"])
        if acct["password"] is None or acct["password"] != call["encrypt_password"]:
            raise Fail(401045, "trade password wrong")
        return {"account": {"aaid": acct["account_no"], "member_id": str(acct["member_id"])}}

    @on("account.trade_permissions")
    def permissions(self, call: Call) -> Any:
        acct = self.account(call["account_no"])
        products: dict[str, list[str]] = {}
        for perm in sorted(acct["permissions"]):
            product, _, market = perm.partition(".")
            if product not in ("stock", "va"):  # the answer's product enum: stock, va
                continue
            products.setdefault(product, []).append(market)
        return {"permissions": [{"product": p, "markets": m} for p, m in products.items()]}

    @on("account.update_account_trade_permission")
    def update_permissions(self, call: Call) -> Any:
        acct = self.account(call["account_no"])
        changes = call["changes"]
        if not isinstance(changes, list) or not changes:
            raise Fail(400, "invalid params: changes")
        after = set(acct["permissions"])
        for i, change in enumerate(changes):  # pre-validation, fail fast: failure_index
            kind = change.get("permission_type") if isinstance(change, dict) else None
            status = change.get("permission_status") if isinstance(change, dict) else None
            if kind not in VALID_PERMS:
                raise Fail(400, "invalid params: enum not valid", data={"failure_index": i})
            if status not in ("open", "close"):
                raise Fail(400, "invalid params: permission_status", data={"failure_index": i})
            if (kind in after) == (status == "open"):
                raise Fail(400, "invalid params: no state change", data={"failure_index": i})
            (after.add if status == "open" else after.discard)(kind)
        acct["permissions"] = after  # the whole batch, atomically
        call.effect()
        return {}

    # ------------------------------------------------------------ cash and stock

    @on("asset.cash_info", "asset.ob_cash_info")
    def cash_info(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        want = call.get("currency")
        rows = [(c, v) for (a, c), v in sorted(self.cash.items()) if a == no and c in (want, c)]
        cash_list = [{"currency": c, "cash_amount": txt(v["amount"]),
                      "available_amount": txt(v["amount"] - v["frozen"]),
                      "withdraw_amount": txt(v["amount"] - v["frozen"]),
                      "settled_balance": txt(v["amount"]), "unsettled_balance": "0"}
                     for c, v in rows]  # fmt: skip
        total = sum((v["amount"] for _, v in rows), Decimal(0))
        free = sum((v["amount"] - v["frozen"] for _, v in rows), Decimal(0))
        ob = call.endpoint.name == "asset.ob_cash_info"  # documents an object here
        return {
            "total_cash": txt(total),
            "total_available_cash": txt(free),
            "total_withdraw_cash": {} if ob else txt(free),
            "cash_list": cash_list,
            "total_settled_balance": txt(total),
            "total_unsettled_balance": "0",
        }

    @on("asset.risk_buy_power")
    def buy_power(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        ccy = call.get("currency", "HKD")
        cash = self._cash(no, ccy)
        return {"buy_power": txt(cash["amount"] - cash["frozen"]), "currency": ccy}

    @on("trade.estimate_buy_limit")
    def buy_limit(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        symbol = call["symbol"]
        price = dec(call.get("price") or self.prices.get(symbol, Decimal(100)), "price")
        if call["side"] == "Sell":
            qty = self.stock.get((no, symbol), Decimal(0))
            return {"cash_max_qty": txt(qty), "margin_max_qty": txt(qty)}
        cash = self._cash(no, _currency(symbol))
        qty = ((cash["amount"] - cash["frozen"]) / price).to_integral_value(rounding="ROUND_DOWN")
        return {"cash_max_qty": txt(qty), "margin_max_qty": txt(qty * 2)}

    @on("asset.stock_info")
    def positions(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        rows = [{"symbol": s, "market": s.rpartition(".")[2], "currency": _currency(s),
                 "total_quantity": txt(q), "available_quantity": txt(q),
                 "last_done": txt(self.prices.get(s, Decimal(100))),
                 "average_cost_price": txt(self.prices.get(s, Decimal(100)))}
                for (a, s), q in sorted(self.stock.items()) if a == no and q]  # fmt: skip
        return {"stock_list": rows}

    @on("asset.financial_flows")
    def cash_flows(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        want = call.get("currency")
        rows = [f for f in self.flows.get(no, []) if want in (None, f["currency"])]
        return {"financial_flows_list": _page(rows, call)}

    @on("asset.adjust_cash")
    def adjust_cash(self, call: Call) -> Any:
        def make() -> Any:
            no = self.account(call["account_no"])["account_no"]
            amount = dec(call["amount"], "amount")
            sign = 1 if int(call["direction"]) == 2 else -1
            cash = self._cash(no, call["currency"])
            if sign < 0 and cash["amount"] - cash["frozen"] < amount:
                raise Fail(400, "invalid params: insufficient available cash")
            serial = self.credit(
                no, call["currency"], sign * amount, "Adjustment", call["biz_code"]
            )
            call.effect()
            return {"msg": "success", "serial_num": serial, "error_code": ""}

        return self._once(call, make)

    @on("asset.adjust_stock")
    def adjust_stock(self, call: Call) -> Any:
        def make() -> Any:
            no = self.account(call["account_no"])["account_no"]
            qty = dec(call["quantity"], "quantity")
            key = (no, str(call["symbol"]))
            held = self.stock.get(key, Decimal(0))
            sign = 1 if int(call["direction"]) == 2 else -1
            if sign < 0 and held < qty:
                raise Fail(400, "invalid params: insufficient position")
            self.stock[key] = held + sign * qty
            call.effect()
            return {"msg": "success", "serial_num": f"S{next(self.ids)}", "error_code": ""}

        return self._once(call, make)

    @on("asset.frozen_cash")
    def freeze(self, call: Call) -> Any:
        def make() -> Any:
            no = self.account(call["account_no"])["account_no"]
            amount = dec(call["frozen_amount"], "frozen_amount")
            serial = str(call.get("serial_num") or f"F{next(self.ids)}")
            if serial in self.freezes:
                raise Fail(400, "invalid params: serial_num already used")
            cash = self._cash(no, call["currency"])
            if cash["amount"] - cash["frozen"] < amount:
                raise Fail(400, "invalid params: insufficient available cash")
            cash["frozen"] += amount
            self.freezes[serial] = {"account_no": no, "currency": call["currency"],
                                    "amount": amount, "status": "frozen",
                                    "biz_code": call["biz_code"],
                                    "at": int(self.clock.now())}  # fmt: skip
            call.effect()
            return {"msg": "success", "serial_num": serial}

        return self._once(call, make)

    def _freeze(self, call: Call) -> dict[str, Any]:
        found = self.freezes.get(str(call["serial_num"]))
        if found is None or found["account_no"] != str(call["account_no"]):
            raise Fail(400, "invalid params: unknown serial_num")
        if found["status"] != "frozen":
            raise Fail(400, "invalid params: not frozen")
        return found

    @on("asset.unfrozen_cash")
    def unfreeze(self, call: Call) -> Any:
        def make() -> Any:
            found = self._freeze(call)
            amount = dec(call["unfrozen_amount"], "unfrozen_amount")
            if amount != found["amount"]:
                raise Fail(400, "invalid params: unfrozen_amount differs from the frozen amount")
            self._cash(found["account_no"], found["currency"])["frozen"] -= amount
            found["status"] = "unfrozen"
            call.effect()
            return {"msg": "success", "serial_num": call["serial_num"]}

        return self._once(call, make)

    @on("asset.unfrozen_debit")
    def unfreeze_debit(self, call: Call) -> Any:
        def make() -> Any:
            found = self._freeze(call)
            self._cash(found["account_no"], found["currency"])["frozen"] -= found["amount"]
            self.credit(found["account_no"], found["currency"], -found["amount"], "Debit",
                        found["biz_code"])  # fmt: skip
            found["status"] = "debited"
            call.effect()
            return {"msg": "success", "serial_num": call["serial_num"], "error_code": ""}

        return self._once(call, make)

    @on("asset.financial_frozen_flows")
    def freeze_flows(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        rows = [{"flow_name": "Freeze", "amount": txt(f["amount"]), "currency": f["currency"],
                 "bussiness_time": str(f["at"]), "serial_num": s,
                 "frozen_type": 1 if f["status"] == "frozen" else 2,  # 1 LOCK, 2 UNLOCK
                 "bussiness_code": f["biz_code"]}
                for s, f in self.freezes.items() if f["account_no"] == no]  # fmt: skip
        return {"frozen_flows_list": _page(rows, call)}

    # ------------------------------------------------------------ deposits, withdrawals

    @on("portfolio.deposit_apply")
    def deposit(self, call: Call) -> Any:
        acct = self._usable(call["account_no"], "account.deposit")
        amount = dec(call["amount"], "amount")
        if amount <= 0:
            raise Fail(400, "invalid params: amount")
        dep_id = next(self.ids)
        self.deposits[dep_id] = {
            "id": dep_id, "account_no": acct["account_no"], "currency": call["currency"],
            "amount": amount, "state_code": 0, "state": "Processing",
            "created_at": int(self.clock.now()), "reference_no": call.get("reference_no", ""),
            "vouchers": list(call.get("vouchers") or []), "card_id": call.get("card_id"),
        }  # fmt: skip
        call.effect()
        return {"ok": True, "id": dep_id}

    def settle_deposit(self, dep_id: int, *, ok: bool = True) -> None:
        """Back office: the money arrived (1 Accounted) or not (2 failed)."""
        dep = self.deposits[int(dep_id)]
        if dep["state_code"] != 0:
            raise Fail(404102, "deposit is not processing")
        dep["state_code"], dep["state"] = (1, "Accounted") if ok else (2, "Processing fail")
        if ok:
            self.credit(dep["account_no"], dep["currency"], dep["amount"])

    def _deposit(self, call: Call) -> dict[str, Any]:
        try:
            dep = self.deposits.get(int(call["id"]))
        except (TypeError, ValueError):
            dep = None
        if dep is None or dep["account_no"] != str(call["account_no"]):
            raise Fail(400, "invalid params: unknown deposit")
        return dep

    @on("portfolio.deposit_cancel")
    def cancel_deposit(self, call: Call) -> Any:
        dep = self._deposit(call)
        if dep["state_code"] == 3:
            return {"ok": True, "id": dep["id"]}  # already cancelled: the same answer
        if dep["state_code"] != 0:
            raise Fail(404102, "deposit can no longer be cancelled")
        dep["state_code"], dep["state"] = 3, "Cancelled"
        call.effect()
        return {"ok": True, "id": dep["id"]}

    def _deposit_view(self, dep: dict[str, Any]) -> dict[str, Any]:
        return {"id": dep["id"], "created_at": dep["created_at"], "currency": dep["currency"],
                "amount": txt(dep["amount"]), "state": dep["state"],
                "state_code": dep["state_code"], "reference_no": dep["reference_no"],
                "can_cancel": dep["state_code"] == 0, "receivable_amount": txt(dep["amount"]),
                "order_id": f"D{dep['id']}"}  # fmt: skip

    @on("portfolio.deposit_notify")
    def deposits_of(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        ccys = set(str(call.get("currencies", "")).split(",")) - {""}
        rows = [d for d in self.deposits.values() if d["account_no"] == no
                and (not ccys or d["currency"] in ccys)]  # fmt: skip
        items = [{**self._deposit_view(d), "id": str(d["id"]), "created_at": str(d["created_at"]),
                  "state_code": str(d["state_code"]), "vouchers": []}
                 for d in _page(rows, call)]  # fmt: skip
        return {"items": items, "total": str(len(rows))}

    @on("portfolio.deposit_detail")
    def deposit_detail(self, call: Call) -> Any:
        return self._deposit_view(self._deposit(call))

    @on("portfolio.withdraw")
    def withdraw(self, call: Call) -> Any:
        acct = self._usable(call["account_no"], "account.withdraw")
        no = acct["account_no"]
        card = self.cards.get(int(call["card_id"])) if str(call["card_id"]).isdigit() else None
        if card is None or card["account_no"] != no:
            raise Fail(400, "invalid params: unknown card_id")
        amount = dec(call["amount"], "amount")
        cash = self._cash(no, call["currency"])
        if amount <= 0 or cash["amount"] - cash["frozen"] < amount:
            raise Fail(400, "invalid params: amount exceeds the withdrawable cash")
        cash["frozen"] += amount
        n = next(self.ids)
        order_id = f"W{n}"
        self.withdrawals[order_id] = {
            "id": n, "order_id": order_id, "account_no": no, "currency": call["currency"],
            "amount": amount, "state": 0, "created_at": int(self.clock.now()),
            "updated_at": int(self.clock.now()), "bank_account": card["account"],
            "external_order_no": call.get("external_order_no", ""), "card": card,
        }  # fmt: skip
        call.effect()
        return {"ok": True, "id": order_id, "tip_url": ""}

    def settle_withdrawal(self, order_id: str, *, ok: bool = True) -> None:
        """Back office: paid out (state 2, cash debited) or refused (state 3, released)."""
        w = self.withdrawals[order_id]
        cash = self._cash(w["account_no"], w["currency"])
        cash["frozen"] -= w["amount"]
        w["state"] = 2 if ok else 3
        if ok:
            self.credit(w["account_no"], w["currency"], -w["amount"], "Withdrawal", "WDR")

    @on("portfolio.withdraw_cancel")
    def cancel_withdrawal(self, call: Call) -> Any:
        w = self.withdrawals.get(str(call["order_id"]))
        if w is None or w["account_no"] != str(call["account_no"]):
            raise Fail(400, "invalid params: unknown order_id")
        if w["state"] == 4:
            return {"ok": True}
        if w["state"] != 0:
            raise Fail(404102, "withdrawal can no longer be cancelled")
        self._cash(w["account_no"], w["currency"])["frozen"] -= w["amount"]
        w["state"] = 4
        call.effect()
        return {"ok": True}

    def _withdrawal_view(self, w: dict[str, Any]) -> dict[str, Any]:
        return {"id": w["id"], "order_id": w["order_id"], "currency": w["currency"],
                "amount": txt(w["amount"]), "created_at": w["created_at"], "state": w["state"],
                "bank_account": w["bank_account"], "fee": "0",
                "settlement_amount": txt(w["amount"])}  # fmt: skip

    @on("portfolio.withdraw_record")
    def withdrawals_of(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        rows = [w for w in self.withdrawals.values() if w["account_no"] == no]
        return {"total": len(rows), "list": [self._withdrawal_view(w) for w in _page(rows, call)]}

    @on("portfolio.withdraw_detail")
    def withdrawal_detail(self, call: Call) -> Any:
        w = self.withdrawals.get(str(call["id"])) or next(
            (x for x in self.withdrawals.values() if str(x["id"]) == str(call["id"])), None
        )
        if w is None or w["account_no"] != str(call["account_no"]):
            raise Fail(400, "invalid params: unknown withdrawal")
        card = {k: str(v) for k, v in w["card"].items()}
        return {**self._withdrawal_view(w), "name": card["name"], "bank": card["bank_en"],
                "bank_en": card["bank_en"], "account": card["account"],
                "swift_code": card.get("swift_code", ""), "updated_at": w["updated_at"],
                "external_order_no": w["external_order_no"]}  # fmt: skip

    # ------------------------------------------------------------ bank cards

    _CARD = ("bank_id", "region", "bank_en", "name", "name_en", "account", "swift_code",
             "account_type", "country", "address", "remark", "bank_code", "fps_id")  # fmt: skip

    @on("portfolio.withdraw_card")
    def add_card(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        card_id = next(self.ids)
        self.cards[card_id] = {"id": card_id, "account_no": no,
                               **{k: call.get(k, "") for k in self._CARD}}  # fmt: skip
        call.effect()
        return {}

    def _card(self, call: Call) -> dict[str, Any]:
        raw = str(call["id"])
        card = self.cards.get(int(raw)) if raw.isdigit() else None
        if card is None or card["account_no"] != str(call["account_no"]):
            raise Fail(400, "invalid params: unknown card")
        return card

    @on("portfolio.withdraw_card_update")
    def update_card(self, call: Call) -> Any:
        card = self._card(call)
        card.update({k: call.get(k) for k in self._CARD if call.get(k) is not None})
        call.effect()
        return {}

    @on("portfolio.withdraw_card_delete")
    def delete_card(self, call: Call) -> Any:
        del self.cards[self._card(call)["id"]]
        call.effect()
        return {}

    def _card_view(self, card: dict[str, Any]) -> dict[str, Any]:
        view = {k: str(card.get(k) or "") for k in self._CARD}
        bank_id = str(card.get("bank_id") or "0")
        return {**view, "id": card["id"], "bank": card.get("bank_en") or "",
                "bank_id": int(bank_id) if bank_id.isdigit() else 0, "status  ": 2,
                "status": 2}  # fmt: skip

    @on("portfolio.withdraw_cards")
    def cards_of(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        rows = [self._card_view(c) for c in self.cards.values() if c["account_no"] == no]
        for row in rows:
            row.pop("status")  # the list documents "status  " (with the trailing spaces)
        return {"list": rows, "last_funding_currency": "HKD", "last_funding_type": 0,
                "last_bank_card_id": rows[-1]["id"] if rows else 0}  # fmt: skip

    @on("portfolio.withdraw_card_detail")
    def card_detail(self, call: Call) -> Any:
        view = self._card_view(self._card(call))
        view.pop("status  ")
        return {**view, "last_funding": 0, "bank_sec_support_currencies": []}

    #: the published average rates (ASSUMPTION: sandbox figures); bid/offer 0.01 apart
    RATES: ClassVar[dict[tuple[str, str], Decimal]] = {
        ("USD", "HKD"): Decimal("7.82"), ("USD", "CNH"): Decimal("7.12"),
    }  # fmt: skip

    @on("portfolio.forex_getexchangerates")
    def exchange_rates(self, call: Call) -> Any:
        rows = [{"base_currency": b, "other_currency": q, "bid_rate": r - Decimal("0.01"),
                 "offer_rate": r + Decimal("0.01"), "average_rate": r}
                for (b, q), r in self.RATES.items()]  # fmt: skip
        return {"universal_exchanges": {"pspl_sg": {"spec_exchanges": {"am": {"exchanges": rows}}}}}

    # ------------------------------------------------------------ orders

    @on("trade.order")
    def place(self, call: Call) -> Any:
        symbol = str(call["symbol"])
        market = symbol.rpartition(".")[2]
        acct = self._usable(call["account_no"], f"stock.{market}")
        qty = dec(call["submitted_quantity"], "submitted_quantity")
        kind = call["order_type"]
        price = dec(call["submitted_price"], "submitted_price") if kind != "MO" else None
        if kind in ("LO", "LIT") and price is None:
            raise Fail(400, "invalid params: submitted_price is required")
        side = call["side"]
        if side == "Sell" and self.stock.get((acct["account_no"], symbol), Decimal(0)) < qty:
            raise Fail(400, "invalid params: insufficient position")
        order_id = str(700000 + next(self.ids))
        now = int(self.clock.now())
        self.orders[order_id] = {
            "order_id": order_id, "account_no": acct["account_no"], "symbol": symbol,
            "side": side, "order_type": kind, "quantity": qty, "price": price,
            "executed_quantity": Decimal(0), "cost": Decimal(0), "status": "NewStatus",
            "remark": call.get("remark", ""), "submitted_at": now, "updated_at": now,
            "time_in_force": call["time_in_force"], "currency": _currency(symbol),
        }  # fmt: skip
        self.order_changed(self.orders[order_id])  # wt-wstream: push
        call.effect()
        if kind == "MO":
            self.fill(order_id, qty, self.prices.get(symbol, Decimal(100)))
        return {"order_id": order_id}

    def fill(self, order_id: str, quantity: Decimal, price: Decimal) -> None:
        """The market: execute ``quantity`` at ``price`` (a partial fill when less)."""
        o = self.orders[order_id]
        left = o["quantity"] - o["executed_quantity"]
        if o["status"] in FINAL or quantity <= 0 or quantity > left:
            raise Fail(400, "invalid params: nothing to fill")
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

    def _order(self, call: Call) -> dict[str, Any]:
        o = self.orders.get(str(call["order_id"]))
        if o is None or o["account_no"] != str(call["account_no"]):
            raise Fail(400, "invalid params: order not found")
        return o

    @on("trade.order_update")
    def amend(self, call: Call) -> Any:
        o = self._order(call)
        if o["status"] in FINAL:
            raise Fail(400, "invalid params: the order can no longer be modified")
        qty = dec(call["quantity"], "quantity")
        if qty < o["executed_quantity"]:
            raise Fail(400, "invalid params: quantity below the executed quantity")
        o["quantity"] = qty
        if call.get("price") is not None:
            o["price"] = dec(call["price"], "price")
        if call.get("remark") is not None:
            o["remark"] = call["remark"]
        o["updated_at"] = int(self.clock.now())
        if qty == o["executed_quantity"]:
            o["status"] = "FilledStatus"
        self.order_changed(o)  # wt-wstream: push
        call.effect()
        return {}

    @on("trade.order_delete")
    def cancel(self, call: Call) -> Any:
        o = self._order(call)
        if o["status"] in FINAL:
            raise Fail(400, "invalid params: the order can no longer be cancelled")
        o["status"] = "PartialWithdrawal" if o["executed_quantity"] else "CanceledStatus"
        o["updated_at"] = int(self.clock.now())
        self.order_changed(o)  # wt-wstream: push
        call.effect()
        return {}

    @on("trade.withdraw_user_orders")
    def cancel_all(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        mine = [o for o in self.orders.values() if o["account_no"] == no
                and o["symbol"].endswith("." + str(call["market"]))]  # fmt: skip
        open_ = [o for o in mine if o["status"] not in FINAL]
        for o in open_:
            o["status"] = "PartialWithdrawal" if o["executed_quantity"] else "CanceledStatus"
            self.order_changed(o)  # wt-wstream: push
        if open_:
            call.effect()
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

    @on("trade.order_detail")
    def order_detail(self, call: Call) -> Any:
        view = self._order_view(self._order(call))
        view["trigger_status"] = "DEACTIVE"
        return view

    def _orders(self, call: Call, today: bool) -> Any:
        no = call.get("account_no")
        day = int(self.clock.now()) // 86400
        rows = [o for o in self.orders.values() if no in (None, o["account_no"])
                and call.get("symbol") in (None, o["symbol"])
                and call.get("status") in (None, o["status"])
                and (not today or o["submitted_at"] // 86400 == day)]  # fmt: skip
        size = num(call, "size", 20)
        page = _page(rows, call)
        more = num(call, "page", 1) * size < len(rows)
        return {"has_more": more, "orders": [self._order_view(o) for o in page]}

    @on("trade.order_today")
    def orders_today(self, call: Call) -> Any:
        return self._orders(call, today=True)

    @on("trade.order_history")
    def orders_history(self, call: Call) -> Any:
        self.account(call["account_no"])
        return self._orders(call, today=False)

    @on("trade.execution_today", "trade.execution_history", "trade.execution_history_v2",
        "trade.execution_all_v3")  # fmt: skip
    def fills(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        name = call.endpoint.name
        day = int(self.clock.now()) // 86400
        rows = [
            dict(t)
            for t in self.trades
            if t["account_no"] == no
            and call.get("symbol") in (None, t["symbol"])
            and call.get("order_id") in (None, t["order_id"])
            and (name != "trade.execution_today" or int(t["trade_done_at"]) // 86400 == day)
        ]
        for row in rows:
            row.pop("account_no")
            if name in ("trade.execution_today", "trade.execution_history"):
                row.pop("side")  # v1 answers document no side
        if name == "trade.execution_today":
            return {"trades": rows}
        page = _page(rows, call, size="_")
        return {"has_more": len(rows) > num(call, "page", 1) * 20, "trades": page}

    # ------------------------------------------------------------ IPO

    IPO: ClassVar[dict[str, dict[str, Any]]] = {
        "9999.HK": {"name": "Whale Sandbox Ltd", "price": Decimal("10"), "lot": 500}
    }

    @on("ipo.submit")
    def ipo_submit(self, call: Call) -> Any:
        symbol = str(call["symbol"])
        ipo = self.IPO.get(symbol)
        if ipo is None:
            raise Fail(400, "invalid params: no such IPO")
        acct = self._usable(call["account_no"], f"ipo.{symbol.rpartition('.')[2]}")
        qty = dec(call["sub_qty"], "sub_qty")
        if qty <= 0 or qty % ipo["lot"]:
            raise Fail(400, f"invalid params: sub_qty must be a multiple of {ipo['lot']}")
        amount = qty * ipo["price"]
        cash = self._cash(acct["account_no"], "HKD")
        if cash["amount"] - cash["frozen"] < amount:
            raise Fail(400, "invalid params: insufficient cash for the subscription")
        cash["frozen"] += amount
        oid = next(self.ids)
        self.ipo_orders[oid] = {"id": oid, "account_no": acct["account_no"], "symbol": symbol,
                                "qty": qty, "amount": amount, "status": "1", "won": Decimal(0),
                                "method": str(call["method"]),
                                "batch_id": str(call["batch_id"])}  # fmt: skip
        call.effect()
        return self._ipo_view(self.ipo_orders[oid])

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

    def _ipo_order(self, call: Call) -> dict[str, Any]:
        raw = str(call["order_id"])
        o = self.ipo_orders.get(int(raw)) if raw.isdigit() else None
        if o is None or o["account_no"] != str(call["account_no"]):
            raise Fail(400, "invalid params: unknown IPO order")
        return o

    @on("ipo.amend")
    def ipo_amend(self, call: Call) -> Any:
        o = self._ipo_order(call)
        if o["status"] != "1":
            raise Fail(400, "invalid params: the subscription can no longer be amended")
        qty = dec(call["sub_qty"], "sub_qty")
        ipo = self.IPO[o["symbol"]]
        if qty <= 0 or qty % ipo["lot"]:
            raise Fail(400, f"invalid params: sub_qty must be a multiple of {ipo['lot']}")
        cash = self._cash(o["account_no"], "HKD")
        cash["frozen"] += qty * ipo["price"] - o["amount"]
        o["qty"], o["amount"] = qty, qty * ipo["price"]
        call.effect()
        return {**self._ipo_view(o), "sub_fee": "0"}

    @on("ipo.withdraw")
    def ipo_withdraw(self, call: Call) -> Any:
        o = self._ipo_order(call)
        if o["status"] == "6":
            return {"result": True}
        if o["status"] != "1":
            raise Fail(400, "invalid params: the subscription can no longer be withdrawn")
        self._cash(o["account_no"], "HKD")["frozen"] -= o["amount"]
        o["status"] = "6"
        call.effect()
        return {"result": True}

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

    @on("ipo.order")
    def ipo_order(self, call: Call) -> Any:
        o = self._ipo_order(call)
        view = self._ipo_view(o)
        return {**view, "id": o["id"], "withdraw_able": o["status"] == "1",
                "modify_enable": o["status"] == "1", "batch_id": 0, "luck_at": 0,
                "channel": {}}  # fmt: skip

    @on("ipo.order_list")
    def ipo_orders_of(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        rows = [self._ipo_view(o) for o in self.ipo_orders.values() if o["account_no"] == no
                and call.get("symbol") in (None, o["symbol"])]  # fmt: skip
        page = _page(rows, call, size="limit")
        return {"has_more": num(call, "page", 1) * num(call, "limit", 20) < len(rows), "list": page}

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
            raise Fail(400, "invalid params: not an RFC 3339 time") from None

    def _ak(self, call: Call) -> dict[str, Any]:
        key = self.keys.get(str(call["access_key_id"]))
        if key is None:
            raise Fail(400, "invalid params: unknown access key")
        return key

    @on("account.accesskeys_create")
    def create_key(self, call: Call) -> Any:
        no = self.account(call["account_no"])["account_no"]
        now = self.clock.now()
        key = next((k for k in self.keys.values() if k["account_no"] == no), None)
        if key is None:  # idempotent per account: an existing key is returned
            key_id = "AK" + secrets.token_hex(8)
            key = self.keys[key_id] = self._key(no, key_id, secrets.token_urlsafe(24), now)
            key["ip_whitelist"] = list(call.get("ip_whitelist") or [])
            expires = self._expiry(call.get("token_expired_at"), now + 86400 * 30)
            key["tokens"].append(self._token(key_id, now, ttl=expires - now))
            call.effect()
        live = next(t for t in reversed(key["tokens"]) if not t["disable"]) if any(
            not t["disable"] for t in key["tokens"]
        ) else key["tokens"][-1]  # fmt: skip
        return {"access_key": self._key_view(key), "token": self._token_view(live)}

    @on("account.accesskeys")
    def list_keys(self, call: Call) -> Any:
        no = call.get("account_no")
        rows = [self._key_view(k) for k in self.keys.values()
                if k["account_no"] != "tenant" and no in (None, k["account_no"])]  # fmt: skip
        return {"access_keys": rows}

    @on("account.accesskeys_detail")
    def get_key(self, call: Call) -> Any:
        flag = str(call.get("include_disabled_tokens", "false")).lower() == "true"
        return {"access_key": self._key_view(self._ak(call), flag)}

    @on("account.accesskeys_update")
    def update_key(self, call: Call) -> Any:
        key = self._ak(call)
        key["ip_whitelist"] = list(call["ip_whitelist"])
        call.effect()
        view = self._key_view(key)
        return {"access_key": {**view, "ipwhitelist": view["ipwhitelist"]["net"]}}

    @on("account.accesskeys_disable", "account.accesskeys_enable")
    def toggle_key(self, call: Call) -> Any:
        key = self._ak(call)
        disable = call.endpoint.name.endswith("disable")
        if key["disable"] != disable:
            key["disable"] = disable
            call.effect()
        if not disable and call.get("token_expired_at"):
            now = self.clock.now()
            ttl = self._expiry(call.get("token_expired_at"), now) - now
            key["tokens"].append(self._token(key["access_key_id"], now, ttl=ttl))
        return {"access_key": self._key_view(key)} if disable else {}

    @on("account.accesskeys_token")
    def renew(self, call: Call) -> Any:
        key = self._ak(call)
        old = next((t for t in key["tokens"] if t["token"] == str(call["token"])), None)
        if old is None or old["disable"]:
            raise Fail(401004, "token invalid", self.token_invalid_status)
        now = self.clock.now()
        ttl = self._expiry(call["expired_at"], now) - now
        if ttl <= 0:
            raise Fail(400, "invalid params: expired_at is in the past")
        old["disable"] = True  # the old token is disabled at once
        new = self._token(key["access_key_id"], now, ttl=ttl)
        key["tokens"].append(new)
        call.effect()
        return {"token": self._token_view(new)}

    @on("account.accesskeys_token_delete")
    def revoke(self, call: Call) -> Any:
        key = self._ak(call)
        token = next((t for t in key["tokens"] if t["token"] == str(call["token"])), None)
        if token is None:
            raise Fail(401004, "token invalid", self.token_invalid_status)
        if not token["disable"]:
            token["disable"] = True
            call.effect()
        return {}

    # ------------------------------------------------------------ rewards

    @on("reward.send_reward")
    def send_reward(self, call: Call) -> Any:
        rid = str(call["request_id"])
        if rid not in self.rewards:
            value = call.get("cash_value")
            if call["type"] == "cash" and not isinstance(value, dict):
                raise Fail(400, "invalid params: cash_value is required for cash rewards")
            self.rewards[rid] = {"ref_no": f"RW{next(self.ids)}", "status": 1,
                                 "member_id": int(call.get("x-member-id", 0) or 0)}  # fmt: skip
            call.effect()
        r = self.rewards[rid]
        return {"ref_no": r["ref_no"], "status": r["status"]}

    @on("reward.reward_info")
    def reward_info(self, call: Call) -> Any:
        wanted = set(call["ref_nos"])
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
