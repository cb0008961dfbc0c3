"""lwork ports as bindings: accounts, funding, read-only trading.

lwork addresses most things by *user id + trading login* and, for account
info, by *platform (MT4/MT5) + server id* headers. Port requests that do not
carry these (``OrderQuery`` has no user id, for instance) take them from
``request.extra`` (``user_id``/``userId``, ``server_id``/``serverId``,
``platform``/``vendor``) or from the profile options ``user_id``,
``server_id``, ``platform``; when neither has them the call fails with
InvalidRequest before any I/O (the sources in :mod:`brokerport_lwork.sources`).

Answers are structured by lwork's converter (:mod:`brokerport_lwork.convert`
reads wall-clock times in the vendor's zone) through the field maps below, and
read inside the call: an unreadable answer to a write is UnknownOutcome, to a
read DecodeError. Three operations stay hand-written; each docstring says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from brokerport import models as m
from brokerport.binding import (
    Ctx,
    Step,
    as_page,
    bind,
    const,
    counted,
    first,
    from_request,
    joined,
    keep,
    pick,
    refine,
)
from brokerport.errors import InvalidRequest
from brokerport.paging import Pager
from brokerport.ports import AccountPort, FundingPort, TradingPort

from .convert import vendor_timezone
from .sources import (
    ACCOUNT,
    ACCOUNT_INFO,
    ACCOUNT_NAME,
    APPLICATION,
    BALANCE,
    CLOSED_ORDER,
    DEMO_TYPE,
    FUNDING_RECORD,
    LOGIN,
    PAGES,
    PAY_CURRENCY,
    PENDING_ORDER,
    PHONE,
    PLATFORM,
    POSITION,
    RECEIPT_SERVER,
    RECEIPT_VENDOR,
    SERVER,
    SOURCE_SERVER,
    USER,
    CashflowPages,
    application,
    as_object,
    date_from,
    date_to,
    page_size,
    payee,
)

__all__ = ["LworkAccounts", "LworkFunding", "LworkTrading", "vendor_timezone"]


def paged(
    endpoint: str,
    into: type[Any],
    fields: Mapping[str, Any],
    steps: tuple[Step, ...],
    *,
    open_items: bool = False,
    page: Pager = PAGES,
) -> Any:
    """3.7-3.10: one login's pages between two dates, then client-side ``steps``."""
    params = {
        "userId": USER,
        "login": LOGIN,
        "from": date_from(open_items=open_items),
        "to": date_to,
        "page": const("1"),
        "size": page_size,
    }
    binding = bind(endpoint, params=params, extra=False, page=page, into=into, fields=fields)
    return refine(binding, *steps)


def report(endpoint: str, into: type[Any], fields: Mapping[str, Any], open_items: bool) -> Any:
    """3.8-3.10: a report with the answer's total, filtered by instrument client-side."""
    steps = (keep(instrument="instrument"), counted())
    return paged(endpoint, into, fields, steps, open_items=open_items)


def cashflow(pages: CashflowPages) -> Any:
    """3.7: cash flow, filtered by currency and status client-side."""
    steps = (keep(currency="currency", status="status"), pages.counted)
    return paged("account.cashflow", m.FundingRecord, FUNDING_RECORD, steps, page=pages)


# --------------------------------------------------------------- accounts

_INFO = {"x-api-vendor": PLATFORM, "x-api-serverid": SERVER, "account": "account_id"}
_OPEN = {"v1": "account.open", "sc": "account.open_sc", "task": "account.open_task"}
_ID_KEYS = ("user_id", "userId", "server_id", "serverId", "platform", "vendor")
_SECTIONS = {
    "account.update_base": ("base", "baseinfo"),
    "account.update_finance": ("finance", "financial", "financeinfo"),
    "account.update_certificate": ("certificate", "certificates", "certificateinfo"),
}
_PROFILE_SECTIONS = {alias: name for name, aliases in _SECTIONS.items() for alias in aliases}


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
                "demoAccountType": DEMO_TYPE,
                "vendor": PLATFORM,
                "accountName": ACCOUNT_NAME,
                "phone": PHONE,
            },
            extra=False,
            into=m.AccountApplication,
            fields=APPLICATION,
        ),
        before=application,
    )

    async def open_live(self, request: m.OpenAccount) -> m.AccountApplication:
        """3.5, or 3.15/3.16 with ``extra['via']`` = ``"sc"``/``"task"``: hand-written
        because ``via`` picks the endpoint and the body's shape (``accountInfo`` built
        from the request, ``phone`` from ``countryCode``, other ``extra`` passed on).
        The answer is read like :attr:`open_demo`'s."""
        ctx = Ctx(self.client, request)
        extra = dict(request.extra)
        name = _OPEN.get(str(extra.pop("via", "v1")).lower())
        if name is None:
            message = "extra['via'] must be 'v1', 'sc' or 'task'"
            raise InvalidRequest(message, field="via", vendor="lwork")
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
            params["group"], params["phone"], params["password"] = group, phone, request.password
            params["leverage"] = None if leverage is None else int(leverage)
            params["accountName"] = extra.pop("accountName", None) or extra.pop("name", None)
            params["email"] = extra.pop("email", None)
        else:
            info = dict(extra.pop("accountInfo", None) or {})
            for key, value in (("group", group), ("leverage", leverage)):
                if value is not None:
                    info.setdefault(key, str(value))
            if request.password is not None:
                info.setdefault("password", request.password)
            params["accountInfo"] = {"enable": 1, "readOnly": 0, **info}
            for part in ("baseInfo", "financialInfo", "certificatesInfo"):
                params[part] = extra.pop(part, {}) or {}
        read = LworkAccounts.open_demo.read
        return await self.client.invoke(  # type: ignore[no-any-return]
            name, {**params, **extra}, read=lambda data: read(data, ctx)
        )

    async def update_profile(self, request: m.UpdateProfile) -> m.Ack:
        """3.12-3.14: hand-written because ``section`` picks the endpoint and the body
        is the request's open-ended ``fields`` (named as the vendor names them)."""
        name = _PROFILE_SECTIONS.get(request.section.strip().lower())
        if name is None:
            message = "section must be base, finance or certificate"
            raise InvalidRequest(message, field="section", vendor="lwork")
        if not request.fields:
            raise InvalidRequest("no fields to update", field="fields", vendor="lwork")
        if "pubUserId" in request.fields:
            message = "pubUserId is the user_id, not a profile field"
            raise InvalidRequest(message, field="pubUserId", vendor="lwork")
        params = {"pubUserId": request.user_id, **request.fields}
        return await self.client.invoke(  # type: ignore[no-any-return]
            name, params, read=lambda data: m.Ack(reference=request.user_id, raw={"data": data})
        )


# ---------------------------------------------------------------- funding

#: 3.11 (signed), once the receipt account name and currency are known.
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
    before=as_object,
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
    #: 3.3 (signed): the payment succeeded (status 1); the vendor credits the deposit.
    #: An answer other than "1" is Conflict (the adapter's decoder says so).
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
        before=as_object,
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
        before=as_object,
    )
    #: 3.7 cash flow of type Deposit / Withdraw; the ledger: ``extra['type']`` alone,
    #: or Deposit, Withdraw then Transfer (cursor ``Type:page``).
    deposit_history = cashflow(CashflowPages(types=("Deposit",)))
    withdrawal_history = cashflow(CashflowPages(types=("Withdraw",)))
    cash_ledger = cashflow(CashflowPages())

    async def transfer(self, request: m.TransferRequest) -> m.TransferResult:
        """3.11 (signed): hand-written because a missing receipt account name or
        currency is first read with 3.1 (up to three calls); the transfer itself is a
        binding. ``extra``: ``receiptAccountName``, ``receiptServerId``,
        ``receiptVendor``, ``receiptUserId`` and the source's ``serverId``."""
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
    order_history = report("account.history", m.Order, CLOSED_ORDER, open_items=False)
    #: 3.9 pending orders, paged.
    open_orders = report("account.pending", m.Order, PENDING_ORDER, open_items=True)
    #: 3.10 open positions, paged (``extra`` may carry ``start``/``end`` datetimes).
    positions = report("account.position", m.Position, POSITION, open_items=True)
