"""wlink port operations: bindings to catalog endpoints, a few hand-written methods.

A wlink user is the session's (the portal token's, or the API key's): listing
calls take no user id. Amounts are strings on the wire (Decimal text, exact);
times are ``YYYY-MM-DD HH:MM:SS`` in the vendor's zone (option ``timezone``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs
from brokerport import models as m
from brokerport.binding import (
    Ctx,
    bind,
    const,
    first,
    from_request,
    keep,
    option,
    refine,
    refuse,
)
from brokerport.errors import InvalidRequest
from brokerport.paging import PageNumber
from brokerport.ports import AccountPort, FundingPort, KeyMgmtPort, TradingPort

if TYPE_CHECKING:
    from .adapter import WlinkAdapter
    from .auth import WlinkSigner

__all__ = ["WlinkAccounts", "WlinkFunding", "WlinkKeys", "WlinkTrading"]

PAGE_SIZE = 20
#: ``list``/``total`` pages; ``page`` and ``size`` (integers) are required by every paged
#: endpoint. The sandbox answers listings with this very pager.
PAGED = PageNumber(
    page="page", size="size", items="list", total="total", default_size=PAGE_SIZE, as_text=False
)
PAGING = {"page": const(1), "size": const(PAGE_SIZE)}


def _bad(field: str | None, text: str) -> InvalidRequest:
    return InvalidRequest(text, field=field, vendor="wlink")


def _adapter(ctx: Ctx) -> WlinkAdapter:
    return cast("WlinkAdapter", ctx.client.adapter)


def wire_time(field: str) -> Any:
    """A datetime request field as the vendor's zone-less text."""
    return lambda request, ctx: _adapter(ctx).wire_time(getattr(request, field, None))


def extra(key: str, name: str | None = None, *, required: bool = False) -> Any:
    """``request.extra[key]``, else profile option ``name`` (required: else InvalidRequest)."""
    return option(None, name or key, extra_keys=(key,), required=required)


def as_int(field: str, *, name: str | None = None, extra_key: str | None = None) -> Any:
    """An id or number the vendor wants as a JSON integer: the request's ``field``,
    else ``request.extra[extra_key]``, else profile option ``name``."""

    def source(request: Any, ctx: Ctx) -> Any:
        value = getattr(request, field, None) if field else None
        if value is None and extra_key:
            value = (getattr(request, "extra", None) or {}).get(extra_key)
        if value is None and name:
            value = ctx.option(name)
        if value is None or value == "":
            return None
        try:
            return int(str(value))
        except ValueError:
            raise _bad(
                field or extra_key, f"{field or extra_key or name} must be an integer id"
            ) from None

    return source


def quoted(key: str) -> Any:
    """A value the vendor quoted (fee, exchange rate, remittance amount), from
    ``request.extra``: text only, sent exactly as given (never re-formatted)."""

    def source(request: Any, _ctx: Ctx) -> Any:
        value = (getattr(request, "extra", None) or {}).get(key)
        if value is not None and not isinstance(value, str):
            raise _bad(
                key,
                f"{key}: echo the vendor's quoted text exactly (a str, not {type(value).__name__})",
            )
        return value

    return source


def session_user(request: Any, ctx: Ctx) -> None:
    """wlink lists the session's own accounts: ``user_ids`` must name that user
    (``"me"``, profile option ``user_id``, or the id the login answered)."""
    signer = cast("WlinkSigner", ctx.client.signer)
    me = {"me", ctx.option("user_id"), str(signer.user.get("id") or "") or None}
    others = [u for u in request.user_ids if u not in me]
    if others:
        raise _bad("user_ids", f"wlink lists the session user's accounts only, not {others[0]!r}")
    return None


def side_of(key: str) -> Any:
    """``BUY`` / ``SELL_LIMIT`` ... -> ``buy`` / ``sell``."""
    return lambda item, _ctx: str(item.get(key) or "").split("_")[0].lower() or None


def order_type_of(item: Mapping[str, Any], _ctx: Ctx) -> str:
    parts = str(item.get("trading_type") or "").split("_", 1)
    return parts[1].lower() if len(parts) > 1 else "market"


# ------------------------------------------------------------------ accounts

ACCOUNT = dict(
    account_id="id", name="account", platform="trading_platform", server_id="server_name"
)
ACCOUNT |= {k: k for k in ("currency", "leverage", "is_demo", "balance")}
ACCOUNT["group"] = "trading_account_type_name"
KYC_MODULES = {"base": "identity", "finance": "job", "certificate": "authentication"}


def _open(is_demo: bool) -> Any:
    return bind(
        "trading.account_create",
        params={
            "is_demo": const(is_demo),
            "trading_account_type_id": as_int(
                "group", name="account_type_id", extra_key="trading_account_type_id"
            ),
            "trading_platform": option("platform", "platform", upper=True, choices=("MT4", "MT5")),
            "currency": option("currency", "currency", required=False),
            "leverage": as_int("leverage", name="leverage"),
            "password": (lambda r, _c: r.password)
            if not is_demo
            else extra("password", "demo_password", required=True),
        },
        defaults={"currency": const("USD")},
        into=m.AccountApplication,
        fields={"account_id": "id", "application_id": "id", "status": lambda _i, _c: "created"},
    )


class WlinkAccounts(AccountPort):
    list = bind(
        "trading.account_list",
        params={"is_demo": "is_demo", "_": session_user},
        defaults=PAGING,
        page=PAGED,
        into=m.Account,
        fields=ACCOUNT,
    )
    get = bind(
        "trading.account_get", params={"id": as_int("account_id")}, into=m.Account, fields=ACCOUNT
    )
    open_live = _open(False)
    open_demo = _open(True)
    update_profile = bind(
        "client.user_save",
        params={
            "current_module": lambda r, _c: KYC_MODULES.get(r.section, r.section),
            "kyc_data": lambda r, _c: dict(r.fields),
        },
        extra=False,
        into=m.Ack,
    )
    set_leverage = bind(
        "trading.account_update_leverage",
        params={
            "id": as_int("account_id"),
            "leverage": "leverage",
            "remark": option(None, "leverage_remark", required=False),
        },
        defaults={"remark": const("brokerport")},
        into=m.Ack,
    )
    set_trade_password = bind(
        "trading.account_update_password",
        params={
            "id": as_int("account_id"),
            "password": "new_password",
            "type": "kind",
            "_": refuse("old_password"),
        },
        into=m.Ack,
    )

    async def get_leverage(self, request: m.GetLeverage) -> m.Leverage:
        """Three reads (the account, its options, a pending change): not one binding."""
        invoke, params = self.client.invoke, {"id": request.account_id}  # query text
        account = await invoke("trading.account_get", params)
        options = await invoke("trading.account_get_leverage_options", params)
        pending = await invoke("trading.account_get_leverage_update_status", params)
        return m.Leverage(
            account_id=request.account_id,
            current=account.get("leverage"),
            available=tuple(int(x) for x in options.get("leverage_options") or ()),
            status=pending.get("audit_status") or None,
            raw={"options": options, "update_status": pending},
        )


# ------------------------------------------------------------------- funding


def _record(kind: str, account: str) -> dict[str, Any]:
    return {
        "record_id": "order_number",
        "kind": const(kind),
        "amount": "amount",
        "currency": "currency",
        "status": "status",
        "account_id": f"{account}.id",
        "created_at": "submit_time",
    }


def _history(endpoint: str, kind: str, account: str) -> Any:
    return refine(
        bind(
            endpoint,
            params={
                "start_time": wire_time("start"),
                "end_time": wire_time("end"),
                "_": refuse("user_id"),
            },
            defaults=PAGING,
            page=PAGED,
            into=m.FundingRecord,
            fields=_record(kind, account),
        ),
        keep(account_id="account_id", currency="currency", status="status"),
    )


def payee_info(payee: m.Payee) -> dict[str, Any]:
    """A Payee as the account book's ``payment_method`` and its ``*_info`` object.
    Fields the Payee model lacks (``bank_country``, ``bsc_code``,
    ``beneficiary_address``, ``network``) come from ``payee.raw``."""
    raw = dict(payee.raw)
    if payee.swift:
        return {
            "payment_method": "international_wire_transfer",
            "international_wire_info": {
                "bank_country": raw.get("bank_country", ""),
                "bank_name": payee.bank_name or "",
                "bank_no": payee.account_number,
                "beneficiary_address": raw.get("beneficiary_address", ""),
                "swift_code": payee.swift,
            },
        }
    if payee.bank_name:
        return {
            "payment_method": "bank_transfer",
            "bank_transfer_info": {
                "bank_country": raw.get("bank_country", ""),
                "bank_name": payee.bank_name,
                "bank_no": payee.account_number,
                "branch_name": payee.branch or "",
                "bsc_code": raw.get("bsc_code", ""),
            },
        }
    return {
        "payment_method": "cryptocurrency",
        "cryptocurrency_info": {
            "network": raw.get("network") or payee.branch or "",
            "wallet_address": payee.account_number,
        },
    }


def payee_part(key: str) -> Any:
    """One key of the withdrawal's payee object (with the holder's name), if a payee is given."""

    def source(request: Any, _ctx: Ctx) -> Any:
        if request.payee is None:
            return None
        info = payee_info(request.payee)
        part = info.get(key)
        if isinstance(part, dict) and "bank_no" in part:
            part = {"account_holder_name": request.payee.name, **part}
        elif isinstance(part, dict):  # a wallet names its currency
            part = {"currency": request.payee.currency or request.currency, **part}
        return part

    return source


#: account book list -> Payee field -> wire key
PAYEE_LISTS = {
    "bank_transfer": {
        "bank_name": "bank_name",
        "account_number": "bank_no",
        "branch": "branch_name",
    },
    "international_wire_transfer": {
        "bank_name": "bank_name",
        "account_number": "bank_no",
        "swift": "swift_code",
    },
    "cryptocurrency": {"account_number": "wallet_address", "branch": "network"},
}


def _payees(payload: Any, _ctx: Ctx) -> tuple[m.Payee, ...]:
    return tuple(
        m.Payee(
            name=item.get("remark") or item.get("bank_name") or item["network"],
            payee_id=str(item["id"]),
            raw=item,
            **{field: item.get(wire) for field, wire in fields.items()},
        )
        for kind, fields in PAYEE_LISTS.items()
        for item in payload.get(kind) or ()
    )


class WlinkFunding(FundingPort):
    balances = refine(
        bind(
            "client.account_balance_list",
            params={
                "type": extra("type", "balance_types", required=False),
                "_": refuse("server_id", "platform"),
            },
            defaults={"type": const(("deposit_only", "withdrawal_only", "normal"))},
            at="list",
            many=True,
            into=m.Balance,
            fields={
                "currency": first(
                    from_request("currency"),
                    lambda _i, c: c.option("currency"),
                    lambda _i, _c: "USD",
                ),
                "total": "balance",
                "available": "balance",
                "account_id": "trading_account_id",
            },
        ),
        keep(account_id="account_id"),
    )
    request_deposit = bind(
        "client.trading_deposit_draft_create",
        params={
            "trading_account_id": as_int("account_id"),
            "deposit_amount": "amount",
            "remittance_id": as_int("", name="deposit_remittance_id", extra_key="remittance_id"),
            "remark": "comment",
            "_": refuse("pay_currency", "user_id", "server_id", "platform"),
        },
        into=m.DepositTicket,
        fields={
            "deposit_id": "order_number",
            "status": "status",
            "account_id": from_request("account_id"),
            "amount": from_request("amount"),
            "currency": from_request("currency"),
        },
    )
    confirm_deposit = bind(
        "client.trading_deposit_submit",
        params={
            "order_number": "deposit_id",
            "receipt_url": first(
                lambda i, c: c.request.receipt_url, lambda i, c: c.request.payment_reference
            ),
        },
        into=m.Ack,
        fields={"reference": "order_number", "ok": const(True)},
    )
    cancel_deposit = bind(
        "client.trading_deposit_cancel",
        params={"order_number": "deposit_id", "_": refuse("reason")},
        into=m.Ack,
        fields={"reference": "order_number", "ok": const(True)},
    )
    request_withdrawal = bind(
        "client.trading_withdrawal_create",
        params={
            "trading_account_id": as_int("account_id"),
            "withdrawal_amount": "amount",
            "currency": "currency",
            "method": first(
                payee_part("payment_method"), extra("method", "withdrawal_method", required=False)
            ),
            "remittance_id": as_int("", name="withdrawal_remittance_id", extra_key="remittance_id"),
            # quoted by the vendor: echoed exactly as the text it sent
            "fee": quoted("fee"),
            "exchange_rate": quoted("exchange_rate"),
            "remittance_amount": quoted("remittance_amount"),
            "bank_transfer_info": payee_part("bank_transfer_info"),
            "international_wire_info": payee_part("international_wire_info"),
            "cryptocurrency_info": payee_part("cryptocurrency_info"),
            "remark": "comment",
            "_": refuse("pay_currency", "user_id", "server_id"),
        },
        into=m.WithdrawalTicket,
        fields={
            "withdrawal_id": "order_number",
            "status": const("auditing"),
            "account_id": from_request("account_id"),
            "amount": from_request("amount"),
            "currency": from_request("currency"),
        },
    )
    transfer = bind(
        "client.application_transfer_create",
        params={
            "source_trading_account_id": as_int("from_account"),
            "target_trading_account_id": as_int("to_account"),
            "amount": "amount",
            "remark": "comment",
            "_": refuse("currency", "user_id"),
        },
        defaults={"remark": const("transfer")},
        into=m.TransferResult,
        fields={
            "transfer_id": "audit_id",
            "status": "audit_status",
            "amount": from_request("amount"),
        },
    )
    deposit_history = _history(
        "client.trading_history_deposit_list", "deposit", "target_trading_account"
    )
    withdrawal_history = _history(
        "client.trading_history_withdrawal_list", "withdrawal", "source_trading_account"
    )
    cash_ledger = _history(
        "client.application_transfer_list", "transfer_out", "source_trading_account"
    )
    list_payees = bind(
        "client.withdrawal_account_book_list",
        params={"_": refuse("user_id", "account_id")},
        result=_payees,
    )
    exchange_rate = bind(
        "client.trading_currency_exchange_rate_get",
        params={"from_currency": "base", "to_currency": "quote"},
        into=m.ExchangeRate,
        fields={
            "base": from_request("base"),
            "quote": from_request("quote"),
            "rate": "exchange_rate",
        },
    )
    delete_payee = bind(
        "client.withdrawal_account_book_delete",
        params={"id": as_int("payee_id"), "_": refuse("user_id")},
        into=m.Ack,
        fields={"reference": from_request("payee_id"), "ok": const(True)},
    )

    async def add_payee(self, request: m.AddPayee) -> m.Payee:
        """The answer is only the new id: the payee is the request's, with that id."""
        payee = request.payee
        params = {**payee_info(payee), "remark": payee.name}
        added: m.Payee = await self.client.invoke(
            "client.withdrawal_account_book_create",
            params,
            read=lambda d: attrs.evolve(payee, payee_id=str(d["id"])),
        )
        return added

    async def update_payee(self, request: m.UpdatePayee) -> m.Payee:
        """The answer is empty: the payee is the request's."""
        payee = request.payee
        if not payee.payee_id:
            raise _bad("payee_id", "update_payee needs payee.payee_id")
        info = payee_info(payee)
        info.pop("payment_method")
        params = {"id": int(payee.payee_id), **info, "remark": payee.name}
        updated: m.Payee = await self.client.invoke(
            "client.withdrawal_account_book_update", params, read=lambda _d: payee
        )
        return updated


# ------------------------------------------------------------------- trading

TRADE_FILTERS = {
    "start_time": wire_time("start"),
    "end_time": wire_time("end"),
    "trading_account_id": as_int("account_id"),
    "symbol": "instrument",
    "server_id": "server_id",
    "trading_type": extra("trading_type", "trading_type", required=False),
    "_": refuse("platform"),
}
ORDER = {
    "order_id": "order_number",
    "instrument": "symbol",
    "side": side_of("trading_type"),
    "quantity": "volume",
    "account_id": "trading_account.id",
}


class WlinkTrading(TradingPort):
    order_history = bind(
        "report.history_list",
        params=TRADE_FILTERS,
        defaults={**PAGING, "trading_type": const("all")},
        page=PAGED,
        into=m.Order,
        fields={
            **ORDER,
            "order_type": const("market"),
            "price": "open_price",
            "average_price": "close_price",
            "profit": "profit",
            "status": const("closed"),
            "created_at": "open_time",
            "updated_at": "close_time",
        },
    )
    open_orders = bind(
        "report.pending_list",
        params=TRADE_FILTERS,
        defaults={**PAGING, "trading_type": const("all")},
        page=PAGED,
        into=m.Order,
        fields={
            **ORDER,
            "order_type": order_type_of,
            "price": "pending_price",
            "status": const("pending"),
            "created_at": "pending_time",
        },
    )
    positions = bind(
        "report.holding_list",
        params={k: v for k, v in TRADE_FILTERS.items() if k not in ("start_time", "end_time")},
        defaults={**PAGING, "trading_type": const("all")},
        page=PAGED,
        into=m.Position,
        fields={
            "position_id": "order_number",
            "instrument": "symbol",
            "quantity": "volume",
            "side": side_of("trading_type"),
            "account_id": "trading_account.id",
            "average_price": "open_price",
            "unrealized_pnl": "profit",
            "opened_at": "open_time",
        },
    )


# ---------------------------------------------------------------------- keys


class WlinkKeys(KeyMgmtPort):
    """Portal sessions: log in (``renew_token``) and log out (``revoke_token``)."""

    async def renew_token(self, request: m.RenewToken) -> m.SessionToken:
        """Log in with the profile's email and password; the client uses the new token."""
        if request.refresh_token is not None:
            raise _bad("refresh_token", "wlink has no refresh token: it logs in again")
        signer = cast("WlinkSigner", self.client.signer)
        token = await signer.login()
        return m.SessionToken(access_token=token, raw=dict(signer.user))

    async def revoke_token(self, request: m.RenewToken) -> m.Ack:
        """Log out; the token is forgotten (a portal profile logs in again on its next call)."""
        signer = cast("WlinkSigner", self.client.signer)
        ack: m.Ack = await self.client.invoke("auth.account_logout", {}, read=lambda _d: m.Ack())
        signer.forget()
        return ack
