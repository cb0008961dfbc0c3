"""What lwork's bindings (``ports.toml``) name with ``"@name"``: Python only
where the data cannot say it.

Request side: where user id, server id, platform, login and pay currency come
from (the request, ``request.extra`` or a profile option), the default date
window and page size, the payee. Answer side: the fields the wire does not
carry as a plain value (status from two flags, side from the order type,
equity as a sum, the cash-flow item's nested ``<type>Transaction`` object) and
the answers that are not an object. Paging: the report pager and the cash-flow
pager (one transaction type at a time).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
from brokerport.binding import Ctx, counted, option, pick
from brokerport.errors import InvalidRequest
from brokerport.paging import PageNumber

from .catalog import VENDORS
from .convert import vendor_timezone

DEFAULT_PAGE_SIZE = 50
DEFAULT_HISTORY_DAYS = 90
CASHFLOW_TYPES = ("Deposit", "Withdraw", "Transfer")

# ------------------------------------------------------------ request side

USER = option("user_id", "user_id", extra_keys=("user_id", "userId", "pubUserId"))
SERVER = option("server_id", "server_id", extra_keys=("server_id", "serverId"))
PLATFORM = option(
    "platform", "platform", extra_keys=("platform", "vendor"), upper=True, choices=VENDORS
)
LOGIN = option("account_id", "account_id", extra_keys=("login",))
PAY_CURRENCY = option("pay_currency", "pay_currency", extra_keys=("payCurrency",))
#: 3.11's receiving side (defaults: the profile's server and platform) and source server
RECEIPT_SERVER = option(None, "server_id", extra_keys=("receiptServerId", "server_id", "serverId"))
RECEIPT_VENDOR = option(
    None,
    "platform",
    extra_keys=("receiptVendor", "platform", "vendor"),
    upper=True,
    choices=VENDORS,
)
SOURCE_SERVER = option(None, "server_id", extra_keys=("serverId", "server_id"))
#: 3.6
DEMO_TYPE = option(None, "demo_account_type", extra_keys=("demoAccountType",))
ACCOUNT_NAME = option(None, "account_name", extra_keys=("accountName", "name"))
PHONE = option("phone", "phone", extra_keys=("phone",))


def _when(request: Any, name: str) -> datetime | None:
    """The request's ``start``/``end``, or a datetime under that name in ``extra``."""
    value = getattr(request, name, None) or (getattr(request, "extra", None) or {}).get(name)
    return value if isinstance(value, datetime) else None


def _end(request: Any, ctx: Ctx) -> datetime:
    now = datetime.fromtimestamp(ctx.client.clock() + ctx.client.clock_offset, tz=UTC)
    return _when(request, "end") or now


def _day(moment: datetime, ctx: Ctx) -> str:
    return moment.astimezone(vendor_timezone(ctx.option("timezone"))).date().isoformat()


def date_to(request: Any, ctx: Ctx) -> str:
    """``to``: the request's end, else today, as a date in the vendor's zone."""
    return _day(_end(request, ctx), ctx)


def date_from(*, open_items: bool) -> Any:
    """``from``: the request's start; else, for open items (pending orders and
    positions, which may have opened long ago) option ``open_items_from``
    (2000-01-01); else option ``history_days`` (90) before ``to``."""

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


# ------------------------------------------------------------- answer side

_FLAG = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
_AMOUNT = {"Deposit": "depositAmount", "Withdraw": "withdrawAmount", "Transfer": "transferAmount"}
_KIND = {"Deposit": "deposit", "Withdraw": "withdrawal"}


def status(item: Mapping[str, Any], _ctx: Ctx) -> str | None:
    """An account's status from its ``enable`` and ``readOnly`` flags."""
    enable, read_only = (
        _FLAG.get(str(item.get(k)).strip().lower()) for k in ("enable", "readOnly")
    )
    if enable is False:
        return "disabled"
    return "read_only" if read_only else "active" if enable else None


def side(item: Mapping[str, Any], _ctx: Ctx) -> str | None:
    """buy/sell from the MT order type (``Buy``, ``SellLimit``, ...)."""
    kind = str(item.get("type") or "").lower()
    return "buy" if kind.startswith("buy") else "sell" if kind.startswith("sell") else None


def equity(item: Mapping[str, Any], ctx: Ctx) -> Decimal:
    """balance + credit + floatProfit (3.1 has no equity field)."""
    parts = (item.get(k) or 0 for k in ("balance", "credit", "floatProfit"))
    return sum((ctx.client.converter.structure(p, Decimal) for p in parts), Decimal(0))


def opened(item: Mapping[str, Any], ctx: Ctx) -> str:
    """An application that answers a login has opened the account."""
    return "opened" if pick("login", "accountId", "account")(item, ctx) else "submitted"


def single_user(_item: Mapping[str, Any], ctx: Ctx) -> str | None:
    """The owner, when the request named exactly one user id."""
    ids = ctx.request.user_ids
    return ids[0] if len(ids) == 1 else None


def _tx(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """A cash-flow item's ``<type>Transaction`` object (``depositTransaction``, ...)."""
    ttype = str(item.get("transactionType") or "")
    found = item.get(ttype[:1].lower() + ttype[1:] + "Transaction") if ttype else None
    if not isinstance(found, Mapping):
        found = next((v for k, v in item.items() if k.endswith("Transaction")), None)
    if not isinstance(found, Mapping):
        raise KeyError("no <type>Transaction object")
    return found


def tx(*keys: str) -> Any:
    """The first of these fields of the cash-flow item's transaction object."""
    return lambda item, ctx: pick(*keys)(_tx(item), ctx)


def amount(item: Mapping[str, Any], _ctx: Ctx) -> Any:
    """The transaction's ``<type>Amount`` (any ``...Amount`` for an unknown type)."""
    body, key = _tx(item), _AMOUNT.get(str(item.get("transactionType")))
    return (
        body.get(key) if key else next((v for k, v in body.items() if k.endswith("Amount")), None)
    )


def kind(item: Mapping[str, Any], ctx: Ctx) -> str:
    """A transfer is ``transfer_out`` for its source account, ``transfer_in`` otherwise."""
    ttype = str(item.get("transactionType"))
    if ttype != "Transfer":
        return _KIND.get(ttype, "other")
    source = tx("accountId")(item, ctx)
    mine = source is None or str(source) == LOGIN(ctx.request, ctx)
    return "transfer_out" if mine else "transfer_in"


def receipt_user(request: Any, ctx: Ctx) -> str:
    """3.11's receiving user: ``extra['receiptUserId']``, else the source's user."""
    return str(request.extra.get("receiptUserId") or USER(request, ctx))


def none_as_empty(payload: Any, _ctx: Ctx) -> Any:
    """002 §1 answers null for "no accounts"."""
    return [] if payload is None else payload


def as_object(payload: Any, _ctx: Ctx) -> Mapping[str, Any]:
    """Writes that may answer no object (3.3, 3.4, 3.11): read as ``{"data": payload}``."""
    return payload if isinstance(payload, Mapping) else {"data": payload}


def application(payload: Any, _ctx: Ctx) -> Mapping[str, Any]:
    """3.5/3.15 answer the account, 3.16 ``{taskId, state}``, 3.6 nothing, maybe a bare id."""
    if isinstance(payload, list):
        payload = payload[0] if payload else None
    if isinstance(payload, Mapping):
        return payload
    return {} if payload is None or payload == "" else {"id": payload}


# ------------------------------------------------------------------ paging

#: 3.7-3.10 answer ``{list, offset, pager, pages, size, total}``; pages are 1-based.
PAGES = PageNumber(page="page", size=None, items="list", total_pages="pages", current="pager")


@attrs.frozen(slots=True, kw_only=True)
class CashflowPages(PageNumber):
    """3.7 pages one transaction type at a time: the cursor is ``Type:page``, and
    after the last page of one type comes page 1 of the next. ``types`` empty:
    ``extra['type']`` alone, or Deposit, Withdraw, then Transfer."""

    types: tuple[str, ...] = ()
    size: str | None = None
    items: str = "list"
    total_pages: str | None = "pages"
    current: str | None = "pager"

    def kinds(self, request: Any) -> tuple[str, ...]:
        only = request.extra.get("type")
        if self.types or only is None:
            return self.types or CASHFLOW_TYPES
        if only not in CASHFLOW_TYPES:
            message = f"type must be one of {', '.join(CASHFLOW_TYPES)}"
            raise InvalidRequest(message, field="type", vendor="lwork")
        return (only,)

    def at(self, request: Any) -> tuple[str, str]:
        kinds = self.kinds(request)
        if not request.cursor:
            return kinds[0], "1"
        kind, sep, page = str(request.cursor).partition(":")
        if not sep or kind not in kinds or not page.isdecimal() or int(page) < 1:
            message = f"not an lwork cash-flow cursor: {request.cursor!r}"
            raise InvalidRequest(message, field="cursor", vendor="lwork")
        return kind, page

    def request_params(self, request: Any) -> dict[str, Any]:
        kind, page = self.at(request)
        return {"type": kind, "page": page}

    def next_cursor(self, data: Any, items: Any, request: Any) -> str | None:
        kind, page = self.at(request)
        nxt = PageNumber.next_cursor(self, data, items, types.SimpleNamespace(cursor=page))
        if nxt is not None:
            return f"{kind}:{nxt}"
        kinds = self.kinds(request)
        i = kinds.index(kind)
        return f"{kinds[i + 1]}:1" if i + 1 < len(kinds) else None


def ledger_counted(page: Any, payload: Any, ctx: Ctx) -> Any:
    """The cash ledger's total when ``extra['type']`` lists one type (the pages of
    several types add up to no one total)."""
    return counted()(page, payload, ctx) if ctx.request.extra.get("type") is not None else page
