"""lwork ports as bindings: accounts, funding, read-only trading.

lwork addresses most things by *user id + trading login* and, for account
info, by *platform (MT4/MT5) + server id* headers. Port requests that do not
carry these (``OrderQuery`` has no user id, for instance) take them from
``request.extra`` (``user_id``/``userId``, ``server_id``/``serverId``,
``platform``/``vendor``) or from the profile options ``user_id``,
``server_id``, ``platform``; when neither has them the call fails with
InvalidRequest before any I/O (:func:`brokerport.binding.option`).

Answers are structured by lwork's converter (:mod:`brokerport_lwork.convert`:
wall-clock times in the vendor's zone) through the field maps below. Four
operations stay hand-written, each saying why in its docstring.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
from brokerport import models as m
from brokerport.binding import (
    Ctx,
    as_page,
    bind,
    const,
    counted,
    first,
    from_request,
    joined,
    keep,
    option,
    pick,
    refine,
)
from brokerport.errors import InvalidRequest
from brokerport.paging import PageNumber
from brokerport.ports import AccountPort, FundingPort, TradingPort

from .catalog import VENDORS
from .convert import vendor_timezone

__all__ = ["LworkAccounts", "LworkFunding", "LworkTrading", "vendor_timezone"]

DEFAULT_PAGE_SIZE = 50
DEFAULT_HISTORY_DAYS = 90
CASHFLOW_TYPES = ("Deposit", "Withdraw", "Transfer")

# ------------------------------------------------------ request sources

USER = option("user_id", "user_id", extra_keys=("user_id", "userId", "pubUserId"))
SERVER = option("server_id", "server_id", extra_keys=("server_id", "serverId"))
PLATFORM = option(
    "platform", "platform", extra_keys=("platform", "vendor"), upper=True, choices=VENDORS
)
LOGIN = option("account_id", "account_id", extra_keys=("login",))
PAY_CURRENCY = option("pay_currency", "pay_currency", extra_keys=("payCurrency",))
#: 3.11: the receiving side (defaults: the source's server and platform)
RECEIPT_SERVER = option(None, "server_id", extra_keys=("receiptServerId", "server_id", "serverId"))
SOURCE_SERVER = option(None, "server_id", extra_keys=("serverId", "server_id"))
RECEIPT_VENDOR = option(
    None,
    "platform",
    extra_keys=("receiptVendor", "platform", "vendor"),
    upper=True,
    choices=VENDORS,
)


def _when(request: Any, name: str) -> datetime | None:
    """The request's ``start``/``end``, or a datetime under that name in ``extra``."""
    value = getattr(request, name, None) or (getattr(request, "extra", None) or {}).get(name)
    return value if isinstance(value, datetime) else None


def _end(request: Any, ctx: Ctx) -> datetime:
    now = ctx.client.clock() + ctx.client.clock_offset
    return _when(request, "end") or datetime.fromtimestamp(now, tz=UTC)


def _day(moment: datetime, ctx: Ctx) -> str:
    return moment.astimezone(vendor_timezone(ctx.option("timezone"))).date().isoformat()


def date_to(request: Any, ctx: Ctx) -> str:
    """``to``: the request's end, else today, as a date in the vendor's zone."""
    return _day(_end(request, ctx), ctx)


def date_from(*, open_items: bool) -> Any:
    """``from``: the request's start; else, for open items (pending orders,
    positions, which may have opened long ago) option ``open_items_from``
    (2000-01-01); else ``history_days`` (90) before ``to``."""

    def source(request: Any, ctx: Ctx) -> str:
        start = _when(request, "start")
        if start is None and open_items:
            return ctx.option("open_items_from") or "2000-01-01"
        if start is None:
            days = int(ctx.option("history_days") or DEFAULT_HISTORY_DAYS)
            start = _end(request, ctx) - timedelta(days=days)
        return _day(start, ctx)

    return source


def page_size(request: Any, ctx: Ctx) -> str:
    """``size``: the request's limit, else option ``page_size`` (50); 1..1000."""
    size = request.limit or int(ctx.option("page_size") or DEFAULT_PAGE_SIZE)
    return str(max(1, min(size, 1000)))


def payee(attr: str, *, required: bool = False) -> Any:
    """A field of the withdrawal's payee (lwork pays out to a bank account only)."""

    def source(request: Any, _ctx: Ctx) -> Any:
        if request.payee is None:
            raise InvalidRequest(
                "lwork withdrawals need a payee (bank account)", field="payee", vendor="lwork"
            )
        value = getattr(request.payee, attr)
        if required and not value:
            raise InvalidRequest(f"lwork withdrawals need payee.{attr}", field=attr, vendor="lwork")
        return value

    return source


# ------------------------------------------------------- answer sources

_ON = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _status(item: Mapping[str, Any], _ctx: Ctx) -> str | None:
    enable, read_only = (_ON.get(str(item.get(k)).strip().lower()) for k in ("enable", "readOnly"))
    if enable is False:
        return "disabled"
    return "read_only" if read_only else "active" if enable else None


def _side(item: Mapping[str, Any], _ctx: Ctx) -> str | None:
    kind = str(item.get("type") or "").lower()
    return "buy" if kind.startswith("buy") else "sell" if kind.startswith("sell") else None


def _equity(item: Mapping[str, Any], ctx: Ctx) -> Decimal:
    """balance + credit + floatProfit (3.1 has no equity field)."""
    parts = (item.get(k) or 0 for k in ("balance", "credit", "floatProfit"))
    return sum((ctx.client.converter.structure(p, Decimal) for p in parts), Decimal(0))


def _tx(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """A cash-flow item's ``<type>Transaction`` object (``depositTransaction``, ...)."""
    ttype = str(item.get("transactionType") or "")
    tx = item.get(ttype[:1].lower() + ttype[1:] + "Transaction") if ttype else None
    if not isinstance(tx, Mapping):
        tx = next(
            v for k, v in item.items() if k.endswith("Transaction") and isinstance(v, Mapping)
        )
    return tx


def tx(*keys: str) -> Any:
    """The first of these fields of the item's transaction object."""
    return lambda item, ctx: pick(*keys)(_tx(item), ctx)


_AMOUNT = {"Deposit": "depositAmount", "Withdraw": "withdrawAmount", "Transfer": "transferAmount"}
_KIND = {"Deposit": "deposit", "Withdraw": "withdrawal"}


def _amount(item: Mapping[str, Any], ctx: Ctx) -> Any:
    body = _tx(item)
    key = _AMOUNT.get(str(item.get("transactionType")))
    return (
        body.get(key) if key else next((v for k, v in body.items() if k.endswith("Amount")), None)
    )


def _kind(item: Mapping[str, Any], ctx: Ctx) -> str:
    """A transfer is ``transfer_out`` for its source account, ``transfer_in`` otherwise."""
    ttype = str(item.get("transactionType"))
    if ttype != "Transfer":
        return _KIND.get(ttype, "other")
    source = tx("accountId")(item, ctx)
    return "transfer_out" if source in (None, LOGIN(ctx.request, ctx)) else "transfer_in"


def _single_user(_item: Mapping[str, Any], ctx: Ctx) -> str | None:
    ids = ctx.request.user_ids
    return ids[0] if len(ids) == 1 else None


def _object(payload: Any, _ctx: Ctx) -> Mapping[str, Any]:
    """Answers to writes that may carry no object (3.4, 3.11): ``{"data": payload}``."""
    return payload if isinstance(payload, Mapping) else {"data": payload}


def _application(payload: Any, _ctx: Ctx) -> Mapping[str, Any]:
    """3.5/3.15 answer the account, 3.16 ``{taskId, state}``, 3.6 nothing, maybe a bare id."""
    if isinstance(payload, list):
        payload = payload[0] if payload else None
    if isinstance(payload, Mapping):
        return payload
    return {} if payload is None or payload == "" else {"id": payload}


ACCOUNT = {
    "account_id": "login",
    "user_id": first("oweId", _single_user),
    "name": pick("name", "accountName"),
    "currency": "currency",
    "group": "group",
    "leverage": "leverage",
    "status": _status,
    "platform": "vendor",
    "server_id": "serverId",
    "created_at": "regdate",
}
ACCOUNT_INFO = {
    "account_id": first("accountId", from_request("account_id")),
    "name": "accountName",
    "currency": "currency",
    "platform": from_request(PLATFORM),
    "server_id": from_request(SERVER),
    "group": "group",
    "leverage": "leverage",
    "balance": "balance",
}
BALANCE = {
    "currency": "currency",
    "total": "balance",
    "available": "marginFree",
    "credit": "credit",
    "equity": _equity,
    "margin_free": "marginFree",
    "floating_pnl": "floatProfit",
    "account_id": first("accountId", from_request("account_id")),
}


def _opened(item: Mapping[str, Any], ctx: Ctx) -> str:
    return "opened" if pick("login", "accountId", "account")(item, ctx) else "submitted"


APPLICATION = {
    "application_id": pick("taskId", "jobId", "id"),
    "account_id": pick("login", "accountId", "account"),
    "status": first("state", "status", _opened),
}
FUNDING_RECORD = {
    "record_id": tx("id"),
    "kind": _kind,
    "amount": _amount,
    "currency": tx("depositCurrency", "currency", "withdrawCurrency"),
    "status": tx("state", "payStatus"),
    "account_id": first(tx("accountId"), from_request(LOGIN)),
    "created_at": tx("createTime"),
    "tx_id": tx("orderId"),
}
CLOSED_ORDER = {
    "order_id": "id",
    "instrument": "symbol",
    "side": _side,
    "order_type": "type",
    "quantity": "volume",
    "price": "openPrice",
    "filled_quantity": "volume",
    "average_price": "closePrice",
    "status": const("closed"),
    "account_id": "account",
    "profit": "profit",
    "created_at": "openTime",
    "updated_at": "closeTime",
}
PENDING_ORDER = {
    "order_id": "id",
    "instrument": "symbol",
    "side": _side,
    "order_type": "type",
    "quantity": "volume",
    "price": "orderPrice",
    "status": const("pending"),
    "account_id": "account",
    "created_at": "orderTime",
}
POSITION = {
    "instrument": "symbol",
    "quantity": "volume",
    "side": _side,
    "position_id": "id",
    "account_id": "account",
    "average_price": "openPrice",
    "unrealized_pnl": "profit",
    "opened_at": "openTime",
}

# ---------------------------------------------------------------- paging

#: 3.7-3.10 answer ``{list, offset, pager, pages, size, total}``; pages are 1-based.
PAGES = PageNumber(page="page", size=None, items="list", total_pages="pages", current="pager")


@attrs.frozen(slots=True, kw_only=True)
class CashflowPages:
    """3.7 pages one transaction type at a time: the cursor is ``Type:page``, and
    after the last page of one type comes page 1 of the next. ``types`` empty:
    ``extra['type']`` alone, or Deposit, Withdraw, then Transfer."""

    types: tuple[str, ...] = ()

    def kinds(self, request: Any) -> tuple[str, ...]:
        if self.types:
            return self.types
        only = request.extra.get("type")
        if only is not None and only not in CASHFLOW_TYPES:
            raise InvalidRequest(
                f"type must be one of {', '.join(CASHFLOW_TYPES)}", field="type", vendor="lwork"
            )
        return (only,) if only else CASHFLOW_TYPES

    def position(self, request: Any) -> tuple[str, str]:
        kinds = self.kinds(request)
        if not request.cursor:
            return kinds[0], "1"
        kind, sep, page = str(request.cursor).partition(":")
        if not sep or kind not in kinds or not page.isdigit() or int(page) < 1:
            raise InvalidRequest(
                f"not an lwork cash-flow cursor: {request.cursor!r}", field="cursor", vendor="lwork"
            )
        return kind, page

    def request_params(self, request: Any) -> dict[str, Any]:
        kind, page = self.position(request)
        return {"type": kind, "page": page}

    def items_of(self, data: Any) -> Any:
        return PAGES.items_of(data)

    def next_cursor(self, data: Any, items: Any, request: Any) -> str | None:
        kind, page = self.position(request)
        asked = types.SimpleNamespace(cursor=page, limit=None)
        nxt = PAGES.next_cursor(data, items, asked)
        if nxt is not None:
            return f"{kind}:{nxt}"
        kinds = self.kinds(request)
        i = kinds.index(kind)
        return f"{kinds[i + 1]}:1" if i + 1 < len(kinds) else None


def report(endpoint: str, fields: Mapping[str, Any], into: type[Any], open_items: bool) -> Any:
    """3.8-3.10: a paged report of one login, filtered by instrument client-side."""
    return refine(
        bind(
            endpoint,
            params={
                "userId": USER,
                "login": LOGIN,
                "from": date_from(open_items=open_items),
                "to": date_to,
                "page": const("1"),
                "size": page_size,
            },
            extra=False,
            page=PAGES,
            into=into,
            fields=fields,
        ),
        keep(instrument="instrument"),
        counted(),
    )


def cashflow(pages: CashflowPages) -> Any:
    """3.7: cash flow of one login, filtered by currency and status client-side."""
    return refine(
        bind(
            "account.cashflow",
            params={
                "userId": USER,
                "login": LOGIN,
                "from": date_from(open_items=False),
                "to": date_to,
                "size": page_size,
            },
            extra=False,
            page=pages,
            into=m.FundingRecord,
            fields=FUNDING_RECORD,
        ),
        keep(currency="currency", status="status"),
        # a total only for one type: the pages of several types add up to none
        lambda page, data, ctx: (
            counted()(page, data, ctx) if len(pages.kinds(ctx.request)) == 1 else page
        ),
    )


# --------------------------------------------------------------- accounts

_INFO = {"x-api-vendor": PLATFORM, "x-api-serverid": SERVER, "account": "account_id"}
_OPEN = {"v1": "account.open", "sc": "account.open_sc", "task": "account.open_task"}
_ID_KEYS = ("user_id", "userId", "server_id", "serverId", "platform", "vendor")
_PROFILE_SECTIONS = {
    "base": "account.update_base",
    "baseinfo": "account.update_base",
    "finance": "account.update_finance",
    "financial": "account.update_finance",
    "financeinfo": "account.update_finance",
    "certificate": "account.update_certificate",
    "certificates": "account.update_certificate",
    "certificateinfo": "account.update_certificate",
}


class LworkAccounts(AccountPort):
    #: 002 §1: every account of the given user ids, in one answer (not paged).
    #: ``is_demo`` is not filtered: the answer does not say which accounts are demo.
    list = refine(
        bind(
            "account.info_by_user_ids",
            params={"userIds": joined("user_ids")},
            extra=False,
            many=True,
            into=m.Account,
            fields=ACCOUNT,
        ),
        as_page,
        before=lambda data, _ctx: [] if data is None else data,
    )
    #: 3.1: one trading account (platform and server id travel as headers).
    get = bind("account.info", params=_INFO, extra=False, into=m.Account, fields=ACCOUNT_INFO)
    #: 3.6: the vendor opens a demo account and texts its credentials to ``phone``.
    open_demo = refine(
        bind(
            "account.open_demo_sms",
            params={
                "pubUserId": USER,
                "demoAccountType": option(
                    None, "demo_account_type", extra_keys=("demoAccountType",)
                ),
                "vendor": PLATFORM,
                "accountName": option(None, "account_name", extra_keys=("accountName", "name")),
                "phone": option("phone", "phone", extra_keys=("phone",)),
            },
            extra=False,
            into=m.AccountApplication,
            fields=APPLICATION,
        ),
        before=_application,
    )

    async def open_live(self, request: m.OpenAccount) -> m.AccountApplication:
        """3.5, or 3.15/3.16 with ``extra['via']`` = ``"sc"``/``"task"``: hand-written
        because ``via`` picks the endpoint and the body shape (``accountInfo`` built
        from the request, ``phone`` from ``countryCode``, other ``extra`` passed on)."""
        ctx = Ctx(self.client, request)
        extra = dict(request.extra)
        name = _OPEN.get(str(extra.pop("via", "v1")).lower())
        if name is None:
            raise InvalidRequest(
                "extra['via'] must be 'v1', 'sc' or 'task'", field="via", vendor="lwork"
            )
        ids = {"userId": USER, "serverId": SERVER, "vendor": PLATFORM}
        params: dict[str, Any] = {k: source(request, ctx) for k, source in ids.items()}
        for k in _ID_KEYS:
            extra.pop(k, None)
        group = request.group or extra.pop("group", None) or ctx.option("group")
        leverage = request.leverage or extra.pop("leverage", None) or ctx.option("leverage")
        if name == "account.open":
            phone, country = extra.pop("phone", None), extra.pop("countryCode", None)
            if isinstance(phone, str) and country is not None:
                phone = {"countryCode": str(country), "phone": phone}
            params |= {
                "group": group,
                "leverage": None if leverage is None else int(leverage),
                "accountName": extra.pop("accountName", None) or extra.pop("name", None),
                "email": extra.pop("email", None),
                "phone": phone,
                "password": request.password,
            }
        else:
            info = dict(extra.pop("accountInfo", None) or {})
            for key, value in (("group", group), ("leverage", leverage)):
                if value is not None:
                    info.setdefault(key, str(value))
            if request.password is not None:
                info.setdefault("password", request.password)
            info.setdefault("enable", 1)
            info.setdefault("readOnly", 0)
            params["accountInfo"] = info
            for part in ("baseInfo", "financialInfo", "certificatesInfo"):
                params[part] = extra.pop(part, {}) or {}
        params |= extra
        return await self.client.invoke(  # type: ignore[no-any-return]
            name, params, read=lambda data: LworkAccounts.open_demo.read(data, ctx)
        )

    async def update_profile(self, request: m.UpdateProfile) -> m.Ack:
        """3.12-3.14: hand-written because ``section`` picks the endpoint and the body
        is the request's open-ended ``fields`` (the vendor's own names)."""
        name = _PROFILE_SECTIONS.get(request.section.strip().lower())
        if name is None:
            raise InvalidRequest(
                "section must be base, finance or certificate", field="section", vendor="lwork"
            )
        if not request.fields:
            raise InvalidRequest("no fields to update", field="fields", vendor="lwork")
        if "pubUserId" in request.fields:
            raise InvalidRequest(
                "pubUserId is the user_id, not a profile field", field="pubUserId", vendor="lwork"
            )
        params = {"pubUserId": request.user_id, **request.fields}
        return await self.client.invoke(  # type: ignore[no-any-return]
            name, params, read=lambda data: m.Ack(reference=request.user_id, raw={"data": data})
        )


# ---------------------------------------------------------------- funding

_TRANSFER = refine(
    bind(
        "account.transfer",
        params={
            "pubUserId": USER,
            "accountId": "from_account",
            "receiptAccount": "to_account",
            "receiptAccountName": lambda r, _c: r.extra["receiptAccountName"],
            "receiptServerId": RECEIPT_SERVER,
            "receiptUserId": lambda r, c: str(r.extra.get("receiptUserId") or USER(r, c)),
            "receiptVendor": RECEIPT_VENDOR,
            "currency": "currency",
            "transferAmount": "amount",
            "comment": "comment",
        },
        extra=False,
        into=m.TransferResult,
        fields={
            "transfer_id": pick("id", "jobId"),
            "status": const("accepted"),
            "amount": from_request("amount"),
            "currency": from_request("currency"),
        },
    ),
    before=_object,
)


class LworkFunding(FundingPort):
    #: 3.1 account info: balance, credit, floatProfit, marginFree (one currency).
    balances = refine(
        bind("account.info", params=_INFO, extra=False, into=m.Balance, fields=BALANCE),
        lambda balance, _data, _ctx: (balance,),
        keep(currency="currency"),
    )
    #: 3.2 (signed): the vendor answers the amount to pay and a job id; the
    #: balance moves only when the payment callback (confirm_deposit) lands.
    request_deposit = bind(
        "account.deposit",
        params={
            "payCurrency": PAY_CURRENCY,
            "userId": USER,
            "serverId": SERVER,
            "login": "account_id",
            "depositAmount": "amount",
            "comment": "comment",
        },
        extra=False,
        into=m.DepositTicket,
        fields={
            "deposit_id": "jobId",
            "account_id": first("accountId", from_request("account_id")),
            "status": const("pending_payment"),
            "amount": from_request("amount"),
            "currency": from_request("currency"),
            "pay_amount": "payAmount",
            "pay_currency": from_request(PAY_CURRENCY),
        },
    )
    #: 3.3 (signed): the payment succeeded (status 1); the vendor credits the
    #: deposit. An answer other than "1" is Conflict (the adapter's decoder).
    confirm_deposit = refine(
        bind(
            "account.deposit_callback",
            params={
                "jobId": "deposit_id",
                "orderId": "payment_reference",
                "status": const("1"),
                "platform": lambda r, c: r.platform or c.option("payment_platform") or "twAPI",
                "payAmount": "pay_amount",
                "payCurrency": "pay_currency",
            },
            extra=False,
            into=m.Ack,
            fields={"reference": from_request("deposit_id")},
        ),
        before=_object,
    )
    #: 3.4: a withdrawal application to the payee's bank account.
    request_withdrawal = refine(
        bind(
            "account.withdraw",
            params={
                "bankAccountName": payee("name"),
                "bankAccountNumber": payee("account_number"),
                "bankName": payee("bank_name", required=True),
                "bankBranchName": payee("branch"),
                "SWIFT": payee("swift"),
                "userId": USER,
                "serverId": SERVER,
                "login": "account_id",
                "currency": "currency",
                "payCurrency": "pay_currency",
                "withdrawAmount": "amount",
            },
            extra=False,
            into=m.WithdrawalTicket,
            fields={
                "withdrawal_id": pick("jobId", "id"),
                "account_id": from_request("account_id"),
                "status": const("submitted"),
                "amount": from_request("amount"),
                "currency": from_request("currency"),
            },
        ),
        before=_object,
    )
    #: 3.7 cash flow, type Deposit / type Withdraw / every type (``extra['type']``).
    deposit_history = cashflow(CashflowPages(types=("Deposit",)))
    withdrawal_history = cashflow(CashflowPages(types=("Withdraw",)))
    cash_ledger = cashflow(CashflowPages())

    async def transfer(self, request: m.TransferRequest) -> m.TransferResult:
        """3.11 (signed): hand-written because a missing receipt account name or
        currency is first read with 3.1 (up to three calls); the transfer itself
        is a binding. ``extra``: ``receiptAccountName``, ``receiptServerId``,
        ``receiptVendor``, ``receiptUserId`` and the source ``serverId``."""
        ctx = Ctx(self.client, request)
        platform = RECEIPT_VENDOR(request, ctx)
        extra = dict(request.extra)
        if extra.get("receiptAccountName") in (None, ""):
            server = RECEIPT_SERVER(request, ctx)
            extra["receiptAccountName"] = await self._info(
                request.to_account, server, platform, "accountName"
            )
        currency = request.currency
        if not currency:
            server = SOURCE_SERVER(request, ctx)
            currency = await self._info(request.from_account, server, platform, "currency")
        request = attrs.evolve(request, currency=currency, extra=extra)
        return await _TRANSFER(self, request)  # type: ignore[no-any-return]

    async def _info(self, account: str, server: str, platform: str, key: str) -> str:
        """One field of 3.1 account info, read inside the call."""
        params = {"account": account, "x-api-vendor": platform, "x-api-serverid": server}
        return await self.client.invoke(  # type: ignore[no-any-return]
            "account.info", params, read=lambda data: str(data[key])
        )


# ---------------------------------------------------------------- trading


class LworkTrading(TradingPort):
    """Read-only: lwork reports orders and positions, it does not take orders."""

    #: 3.8 trade history (closed trades), paged.
    order_history = report("account.history", CLOSED_ORDER, m.Order, open_items=False)
    #: 3.9 pending orders, paged.
    open_orders = report("account.pending", PENDING_ORDER, m.Order, open_items=True)
    #: 3.10 open positions, paged (``extra`` may carry ``start``/``end`` datetimes).
    positions = report("account.position", POSITION, m.Position, open_items=True)
