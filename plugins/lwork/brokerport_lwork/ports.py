"""lwork port implementations: accounts, funding, read-only trading.

lwork addresses most things by *user id + trading login* and, for account
info, by *platform (MT4/MT5) + server id* headers. Port requests that do not
carry these (``OrderQuery`` has no user id, for instance) take them from
``request.extra`` (``user_id``/``userId``, ``server_id``/``serverId``,
``platform``/``vendor``) or from the profile options ``user_id``,
``server_id``, ``platform``; when neither has them the call fails with
InvalidRequest before any I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

from brokerport import models as m
from brokerport.errors import Conflict, DecodeError, InvalidRequest, UnknownOutcome
from brokerport.ports import AccountPort, FundingPort, Port, TradingPort
from brokerport.types import Secret, parse_decimal

from .catalog import VENDORS

__all__ = ["LworkAccounts", "LworkFunding", "LworkTrading", "vendor_timezone"]

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
DEFAULT_HISTORY_DAYS = 90
DEFAULT_TIMEZONE = "+08:00"
CASHFLOW_TYPES = ("Deposit", "Withdraw", "Transfer")

_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2}):?(\d{2})?$")


def vendor_timezone(text: str | None) -> tzinfo:
    """``+08:00`` / ``UTC+8`` / ``UTC`` / an IANA name -> tzinfo."""
    text = (text or DEFAULT_TIMEZONE).strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-delta if sign == "-" else delta)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest(
            f"lwork option timezone: unknown zone {text!r}", vendor="lwork"
        ) from None


# ------------------------------------------------------------ wire readers


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return parse_decimal(value)


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not an integer")
    return int(Decimal(str(value)))


def _flag(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def _time(value: Any, tz: tzinfo) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, (int, Decimal)) or (isinstance(value, str) and value.isdigit()):
        n = int(value)
        return datetime.fromtimestamp(n / 1000 if n > 10**11 else n, tz=UTC)
    if not isinstance(value, str):
        raise TypeError(f"cannot read {type(value).__name__} as a time")
    dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(UTC)


def _side(kind: Any) -> str | None:
    text = str(kind or "").lower()
    if text.startswith("buy"):
        return "buy"
    if text.startswith("sell"):
        return "sell"
    return None


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DecodeError(
            f"lwork {what}: expected an object, got {type(value).__name__}", vendor="lwork"
        )
    return value


# ------------------------------------------------------------------- base


class _LworkPort(Port):
    """Shared helpers: defaults from the profile, dates, pages, decoding."""

    def _opt(self, name: str) -> str | None:
        value = self.client.profile.options.get(name)
        return value or None

    def _fail(self, op: str, message: str, field: str | None = None) -> InvalidRequest:
        return InvalidRequest(message, field=field, vendor="lwork", endpoint=op)

    def _pick(
        self,
        op: str,
        value: Any,
        extra: Mapping[str, Any],
        keys: Sequence[str],
        option: str,
        field: str,
    ) -> str:
        """``value``, else the first of ``extra[keys]``, else the profile option; else fail."""
        if value in (None, ""):
            for key in keys:
                if extra.get(key) not in (None, ""):
                    value = extra[key]
                    break
        if value in (None, ""):
            value = self._opt(option)
        if value in (None, ""):
            raise self._fail(
                op,
                f"lwork needs {field} for {op}: pass it or set the profile option {option}",
                field,
            )
        return str(value)

    def _user(self, op: str, value: Any, extra: Mapping[str, Any]) -> str:
        return self._pick(
            op, value, extra, ("user_id", "userId", "pubUserId"), "user_id", "user_id"
        )

    def _server(self, op: str, value: Any, extra: Mapping[str, Any]) -> str:
        return self._pick(op, value, extra, ("server_id", "serverId"), "server_id", "server_id")

    def _platform(self, op: str, value: Any, extra: Mapping[str, Any]) -> str:
        text = self._pick(op, value, extra, ("platform", "vendor"), "platform", "platform").upper()
        if text not in VENDORS:
            raise self._fail(op, f"platform must be one of {', '.join(VENDORS)}", "platform")
        return text

    @property
    def _tz(self) -> tzinfo:
        return vendor_timezone(self._opt("timezone"))

    def _dates(
        self, start: datetime | None, end: datetime | None, *, open_items: bool = False
    ) -> tuple[str, str]:
        """``from``/``to`` dates in the vendor's zone.

        Defaults: ``to`` today; ``from`` ``history_days`` (90) before, or for
        open items (pending orders, positions) ``open_items_from`` (2000-01-01),
        since an order or position opened long ago is still open.
        """
        tz = self._tz
        now = datetime.fromtimestamp(self.client.clock() + self.client.clock_offset, tz=UTC)
        end_dt = end or now
        if start is not None:
            start_dt = start
        elif open_items:
            first = self._opt("open_items_from") or "2000-01-01"
            return first, end_dt.astimezone(tz).date().isoformat()
        else:
            days = int(self._opt("history_days") or DEFAULT_HISTORY_DAYS)
            start_dt = end_dt - timedelta(days=days)
        return (
            start_dt.astimezone(tz).date().isoformat(),
            end_dt.astimezone(tz).date().isoformat(),
        )

    def _size(self, limit: int | None) -> int:
        size = limit or int(self._opt("page_size") or DEFAULT_PAGE_SIZE)
        return max(1, min(size, 1000))

    def _page_no(self, op: str, cursor: str | None) -> int:
        if cursor in (None, ""):
            return 1
        try:
            page = int(str(cursor))
        except ValueError:
            raise self._fail(op, f"not an lwork page cursor: {cursor!r}", "cursor") from None
        if page < 1:
            raise self._fail(op, f"not an lwork page cursor: {cursor!r}", "cursor")
        return page

    def _read(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except DecodeError:
            raise
        except Exception as exc:
            raise DecodeError(
                f"cannot read the lwork {what}: {type(exc).__name__}", vendor="lwork"
            ) from None

    def _read_effect(
        self, endpoint: str, what: str, fn: Callable[[], T], params: Mapping[str, Any]
    ) -> T:
        """Read the answer to a write the vendor accepted; unreadable -> UnknownOutcome.

        The vendor said ``result: true`` (the effect happened) but the answer
        cannot be read (no job id, no login): the host must reconcile, not retry.
        """
        try:
            return fn()
        except Exception as exc:
            ep = self.client.catalog[endpoint]
            raise UnknownOutcome(
                f"{endpoint} was accepted but its {what} could not be read ({type(exc).__name__})",
                vendor="lwork",
                endpoint=endpoint,
                reconcile_with={
                    k: str(v)
                    for k, v in params.items()
                    if v is not None
                    and not isinstance(v, (dict, list, Secret))
                    and k not in ep.sensitive_names
                },
                how_to_reconcile=ep.reconcile or "look the operation up before retrying",
            ) from None

    def _paged(
        self,
        what: str,
        data: Any,
        item: Callable[[Mapping[str, Any]], T],
        cursor_for: Callable[[int], str] = str,
    ) -> tuple[list[T], str | None, int | None]:
        def read() -> tuple[list[T], str | None, int | None]:
            body = _obj(data, what)
            rows = body.get("list")
            if rows is None:
                rows = []
            if not isinstance(rows, list):
                raise TypeError("list is not an array")
            items = [item(_obj(r, what)) for r in rows]
            pager = _int(body.get("pager"))
            pages = _int(body.get("pages"))
            size = _int(body.get("size"))
            total = _int(body.get("total"))
            nxt: str | None = None
            if rows and pager is not None:
                if pages is not None:
                    more = pager < pages
                elif total is not None and size:
                    more = pager * size < total
                else:
                    more = False
                if more:
                    nxt = cursor_for(pager + 1)
            return items, nxt, total

        return self._read(what, read)


# --------------------------------------------------------------- accounts


def _status(enable: Any, read_only: Any) -> str | None:
    en, ro = _flag(enable), _flag(read_only)
    if en is False:
        return "disabled"
    if ro:
        return "read_only"
    if en:
        return "active"
    return None


def _application(data: Any) -> m.AccountApplication:
    if data is None or data == "" or data == []:
        return m.AccountApplication(status="submitted")
    if isinstance(data, str):
        return m.AccountApplication(application_id=data, status="submitted")
    if isinstance(data, list) and data and isinstance(data[0], Mapping):
        data = data[0]
    body = _obj(data, "account application")
    login = _str(body.get("login") or body.get("accountId") or body.get("account"))
    app_id = _str(body.get("taskId") or body.get("jobId") or body.get("id"))
    return m.AccountApplication(
        application_id=app_id,
        account_id=login,
        status=_str(body.get("state") or body.get("status"))
        or ("opened" if login else "submitted"),
        raw=body,
    )


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


class LworkAccounts(_LworkPort, AccountPort):
    async def list(self, request: m.ListAccounts) -> m.Page[m.Account]:
        """002 §1: every account of the given user ids (one answer, not paged)."""
        data = await self.client.invoke(
            "account.info_by_user_ids", {"userIds": ",".join(request.user_ids)}
        )
        tz = self._tz
        default_user = request.user_ids[0] if len(request.user_ids) == 1 else None

        def read() -> list[m.Account]:
            rows = [] if data is None else data
            if not isinstance(rows, list):
                raise TypeError("data is not an array")
            out = []
            for row in rows:
                r = _obj(row, "account")
                out.append(
                    m.Account(
                        account_id=str(r["login"]),
                        user_id=_str(r.get("oweId")) or default_user,
                        name=_str(r.get("name") or r.get("accountName")),
                        currency=_str(r.get("currency")),
                        group=_str(r.get("group")),
                        leverage=_int(r.get("leverage")),
                        status=_status(r.get("enable"), r.get("readOnly")),
                        platform=_str(r.get("vendor")),
                        server_id=_str(r.get("serverId")),
                        created_at=_time(r.get("regdate"), tz),
                        raw=r,
                    )
                )
            return out

        items = self._read("account list", read)
        return m.Page(items=tuple(items), next_cursor=None, total=len(items))

    async def _info(
        self,
        op: str,
        account_id: str,
        server_id: Any,
        platform: Any,
        extra: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        extra = extra or {}
        params = {
            "account": account_id,
            "x-api-vendor": self._platform(op, platform, extra),
            "x-api-serverid": self._server(op, server_id, extra),
        }
        data = await self.client.invoke("account.info", params)
        return _obj(data, "account info")

    async def get(self, request: m.GetAccount) -> m.Account:
        """3.1: one trading account (platform and server id travel as headers)."""
        op = "accounts.get"
        platform = self._platform(op, request.platform, {})
        server = self._server(op, request.server_id, {})
        info = await self._info(op, request.account_id, server, platform)
        return self._read(
            "account info",
            lambda: m.Account(
                account_id=str(info.get("accountId") or request.account_id),
                name=_str(info.get("accountName")),
                currency=_str(info.get("currency")),
                platform=platform,
                server_id=server,
                group=_str(info.get("group")),
                leverage=_int(info.get("leverage")),
                balance=_dec(info.get("balance")),
                raw=info,
            ),
        )

    async def open_live(self, request: m.OpenAccount) -> m.AccountApplication:
        """3.5 by default; ``extra['via']`` = ``"sc"`` (3.15) or ``"task"`` (3.16)."""
        op = "accounts.open_live"
        extra = dict(request.extra)
        via = str(extra.pop("via", "v1")).lower()
        user = self._user(op, request.user_id, extra)
        server = self._server(op, request.server_id, extra)
        platform = self._platform(op, request.platform, extra)
        for k in ("user_id", "userId", "server_id", "serverId", "platform", "vendor"):
            extra.pop(k, None)
        group = request.group or extra.pop("group", None) or self._opt("group")
        leverage = request.leverage or extra.pop("leverage", None) or self._opt("leverage")
        if via in ("sc", "task"):
            account_info = dict(extra.pop("accountInfo", None) or {})
            if group is not None:
                account_info.setdefault("group", str(group))
            if leverage is not None:
                account_info.setdefault("leverage", str(leverage))
            if request.password is not None:
                account_info.setdefault("password", request.password)
            account_info.setdefault("enable", 1)
            account_info.setdefault("readOnly", 0)
            params: dict[str, Any] = {
                "userId": user,
                "serverId": server,
                "vendor": platform,
                "accountInfo": account_info,
                "baseInfo": extra.pop("baseInfo", {}) or {},
                "financialInfo": extra.pop("financialInfo", {}) or {},
                "certificatesInfo": extra.pop("certificatesInfo", {}) or {},
                **extra,
            }
            name = "account.open_sc" if via == "sc" else "account.open_task"
        elif via == "v1":
            phone = extra.pop("phone", None)
            country = extra.pop("countryCode", None)
            if isinstance(phone, str) and country is not None:
                phone = {"countryCode": str(country), "phone": phone}
            params = {
                "userId": user,
                "serverId": server,
                "vendor": platform,
                "group": group,
                "leverage": None if leverage is None else int(leverage),
                "accountName": extra.pop("accountName", None) or extra.pop("name", None),
                "email": extra.pop("email", None),
                "phone": phone,
                "password": request.password,
                **extra,
            }
            name = "account.open"
        else:
            raise self._fail(op, "extra['via'] must be 'v1', 'sc' or 'task'", "via")
        data = await self.client.invoke(name, params)
        return self._read_effect(name, "account application", lambda: _application(data), params)

    async def open_demo(self, request: m.OpenDemoAccount) -> m.AccountApplication:
        """3.6: the vendor opens a demo account and texts its credentials to ``phone``."""
        op = "accounts.open_demo"
        extra = dict(request.extra)
        params = {
            "pubUserId": self._user(op, request.user_id, extra),
            "demoAccountType": self._pick(
                op, None, extra, ("demoAccountType",), "demo_account_type", "demoAccountType"
            ),
            "vendor": self._platform(op, request.platform, extra),
            "accountName": self._pick(
                op, None, extra, ("accountName", "name"), "account_name", "accountName"
            ),
            "phone": self._pick(op, request.phone, extra, ("phone",), "phone", "phone"),
        }
        data = await self.client.invoke("account.open_demo_sms", params)
        return self._read_effect(
            "account.open_demo_sms", "demo account", lambda: _application(data), params
        )

    async def update_profile(self, request: m.UpdateProfile) -> m.Ack:
        """3.12-3.14: section ``base``, ``finance`` or ``certificate``; vendor field names."""
        op = "accounts.update_profile"
        name = _PROFILE_SECTIONS.get(request.section.strip().lower())
        if name is None:
            raise self._fail(op, "section must be base, finance or certificate", "section")
        if not request.fields:
            raise self._fail(op, "no fields to update", "fields")
        fields = dict(request.fields)
        if "pubUserId" in fields:
            raise self._fail(op, "pubUserId is the user_id, not a profile field", "pubUserId")
        data = await self.client.invoke(name, {"pubUserId": request.user_id, **fields})
        return m.Ack(ok=True, reference=request.user_id, raw={"data": data})


# ---------------------------------------------------------------- funding

_KIND = {"Deposit": "deposit", "Withdraw": "withdrawal", "Transfer": "transfer"}


def _transaction(item: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    ttype = str(item.get("transactionType") or "")
    key = ttype[:1].lower() + ttype[1:] + "Transaction" if ttype else ""
    tx = item.get(key) if key else None
    if not isinstance(tx, Mapping):
        tx = next(
            (v for k, v in item.items() if k.endswith("Transaction") and isinstance(v, Mapping)),
            None,
        )
    if tx is None:
        raise KeyError("no <type>Transaction object")
    return ttype, tx


def _funding_record(item: Mapping[str, Any], account_id: str, tz: tzinfo) -> m.FundingRecord:
    ttype, tx = _transaction(item)
    if ttype == "Deposit":
        kind, amount, currency = "deposit", tx.get("depositAmount"), tx.get("depositCurrency")
    elif ttype == "Withdraw":
        kind, amount = "withdrawal", tx.get("withdrawAmount")
        currency = tx.get("currency") or tx.get("withdrawCurrency")
    elif ttype == "Transfer":
        src = _str(tx.get("accountId"))
        kind = "transfer_out" if src is None or src == account_id else "transfer_in"
        amount, currency = tx.get("transferAmount"), tx.get("currency")
    else:
        kind = "other"
        amount = next((tx[k] for k in tx if k.endswith("Amount")), None)
        currency = tx.get("currency")
    value = _dec(amount)
    if value is None:
        raise KeyError("no amount")
    return m.FundingRecord(
        record_id=str(tx["id"]),
        kind=kind,
        amount=value,
        currency=_str(currency),
        status=_str(tx.get("state") or tx.get("payStatus")),
        account_id=_str(tx.get("accountId")) or account_id,
        created_at=_time(tx.get("createTime"), tz),
        tx_id=_str(tx.get("orderId")),
        raw=item,
    )


class LworkFunding(_LworkPort, FundingPort):
    async def balances(self, request: m.GetBalances) -> tuple[m.Balance, ...]:
        """3.1 account info: balance, credit, floatProfit, marginFree."""
        op = "funding.balances"
        params = {
            "account": request.account_id,
            "x-api-vendor": self._platform(op, request.platform, {}),
            "x-api-serverid": self._server(op, request.server_id, {}),
        }
        data = await self.client.invoke("account.info", params)

        def read() -> tuple[m.Balance, ...]:
            info = _obj(data, "account info")
            balance = parse_decimal(info["balance"])
            credit = _dec(info.get("credit"))
            floating = _dec(info.get("floatProfit"))
            equity = balance + (credit or 0) + (floating or 0)
            return (
                m.Balance(
                    currency=str(info["currency"]),
                    total=balance,
                    available=_dec(info.get("marginFree")),
                    credit=credit,
                    equity=equity,
                    margin_free=_dec(info.get("marginFree")),
                    floating_pnl=floating,
                    account_id=_str(info.get("accountId")) or request.account_id,
                    raw=info,
                ),
            )

        balances = self._read("account info", read)
        if request.currency and balances[0].currency != request.currency:
            return ()
        return balances

    async def request_deposit(self, request: m.DepositRequest) -> m.DepositTicket:
        """3.2 (signed): the vendor answers the amount to pay and a job id.

        The balance moves only when the payment callback (:meth:`confirm_deposit`) lands.
        """
        op = "funding.request_deposit"
        extra = dict(request.extra)
        pay_currency = self._pick(
            op, request.pay_currency, extra, ("payCurrency",), "pay_currency", "pay_currency"
        )
        params = {
            "userId": self._user(op, request.user_id, extra),
            "serverId": self._server(op, request.server_id, extra),
            "login": request.account_id,
            "depositAmount": request.amount,
            "payCurrency": pay_currency,
            "comment": request.comment,
        }
        data = await self.client.invoke("account.deposit", params)

        def read() -> m.DepositTicket:
            body = _obj(data, "deposit application")
            return m.DepositTicket(
                deposit_id=str(body["jobId"]),
                account_id=_str(body.get("accountId")) or request.account_id,
                status="pending_payment",
                amount=request.amount,
                currency=request.currency,
                pay_amount=_dec(body.get("payAmount")),
                pay_currency=pay_currency,
                raw=body,
            )

        return self._read_effect("account.deposit", "deposit application", read, params)

    async def confirm_deposit(self, request: m.DepositConfirmation) -> m.Ack:
        """3.3 (signed): the payment succeeded (status 1); the vendor credits the deposit."""
        params = {
            "jobId": request.deposit_id,
            "orderId": request.payment_reference,
            "status": "1",
            "platform": request.platform or self._opt("payment_platform") or "twAPI",
            "payAmount": request.pay_amount,
            "payCurrency": request.pay_currency,
        }
        data = await self.client.invoke("account.deposit_callback", params)
        if str(data).strip() != "1":
            raise Conflict(
                f"lwork did not record the payment (callback answered data={str(data)[:20]!r})",
                vendor="lwork",
                endpoint="account.deposit_callback",
            )
        return m.Ack(ok=True, reference=request.deposit_id, raw={"data": data})

    async def request_withdrawal(self, request: m.WithdrawalRequest) -> m.WithdrawalTicket:
        """3.4: a withdrawal application to the payee's bank account."""
        op = "funding.request_withdrawal"
        extra = dict(request.extra)
        payee = request.payee
        if payee is None:
            raise self._fail(op, "lwork withdrawals need a payee (bank account)", "payee")
        if not payee.bank_name:
            raise self._fail(op, "lwork withdrawals need payee.bank_name", "bank_name")
        params: dict[str, Any] = {
            "userId": self._user(op, request.user_id, extra),
            "serverId": self._server(op, request.server_id, extra),
            "login": request.account_id,
            "currency": request.currency,
            "payCurrency": request.pay_currency,
            "withdrawAmount": request.amount,
            "bankAccountName": payee.name,
            "bankAccountNumber": payee.account_number,
            "bankName": payee.bank_name,
            "bankBranchName": payee.branch,
            "SWIFT": payee.swift,
        }
        data = await self.client.invoke("account.withdraw", params)
        raw = data if isinstance(data, Mapping) else {"data": data}
        return m.WithdrawalTicket(
            withdrawal_id=_str(raw.get("jobId") or raw.get("id")),
            account_id=request.account_id,
            status="submitted",
            amount=request.amount,
            currency=request.currency,
            raw=raw,
        )

    async def transfer(self, request: m.TransferRequest) -> m.TransferResult:
        """3.11 (signed): between two accounts of one user on one platform.

        ``extra`` may carry ``receiptAccountName``, ``receiptServerId``,
        ``receiptVendor``, ``receiptUserId`` and the source ``serverId``;
        a missing receipt name or currency is read with account info (3.1).
        """
        op = "funding.transfer"
        extra = dict(request.extra)
        user = self._user(op, request.user_id, extra)
        platform = self._platform(op, extra.get("receiptVendor"), extra)
        receipt_server = self._pick(
            op,
            None,
            extra,
            ("receiptServerId", "server_id", "serverId"),
            "server_id",
            "receiptServerId",
        )
        receipt_name = extra.get("receiptAccountName")
        if receipt_name in (None, ""):
            accounts = self.client.accounts
            assert isinstance(accounts, LworkAccounts)
            info = await accounts._info(op, request.to_account, receipt_server, platform)
            receipt_name = self._read("account info", lambda: str(info["accountName"]))
        currency = request.currency
        if not currency:
            src_server = self._pick(
                op, None, extra, ("serverId", "server_id"), "server_id", "server_id"
            )
            accounts = self.client.accounts
            assert isinstance(accounts, LworkAccounts)
            info = await accounts._info(op, request.from_account, src_server, platform)
            currency = self._read("account info", lambda: str(info["currency"]))
        params = {
            "pubUserId": user,
            "accountId": request.from_account,
            "receiptAccount": request.to_account,
            "receiptAccountName": str(receipt_name),
            "receiptServerId": receipt_server,
            "receiptUserId": str(extra.get("receiptUserId") or user),
            "receiptVendor": platform,
            "currency": currency,
            "transferAmount": request.amount,
            "comment": request.comment,
        }
        data = await self.client.invoke("account.transfer", params)
        raw = data if isinstance(data, Mapping) else {"data": data}
        return m.TransferResult(
            transfer_id=_str(raw.get("id") or raw.get("jobId")),
            status="accepted",
            amount=request.amount,
            currency=currency,
            raw=raw,
        )

    async def _cashflow(
        self, op: str, request: m.FundingHistoryQuery, types: Sequence[str]
    ) -> m.Page[m.FundingRecord]:
        extra = dict(request.extra)
        user = self._user(op, request.user_id, extra)
        account = self._pick(op, request.account_id, extra, ("login",), "account_id", "account_id")
        ttype, page = types[0], 1
        if request.cursor:
            head, sep, tail = str(request.cursor).partition(":")
            if not sep or head not in types:
                raise self._fail(op, f"not an lwork cash-flow cursor: {request.cursor!r}", "cursor")
            ttype, page = head, self._page_no(op, tail)
        date_from, date_to = self._dates(request.start, request.end)
        data = await self.client.invoke(
            "account.cashflow",
            {
                "userId": user,
                "login": account,
                "from": date_from,
                "to": date_to,
                "type": ttype,
                "page": page,
                "size": self._size(request.limit),
            },
        )
        tz = self._tz
        items, nxt, total = self._paged(
            "cash flow",
            data,
            lambda r: _funding_record(r, account, tz),
            cursor_for=lambda n: f"{ttype}:{n}",
        )
        if nxt is None:
            i = list(types).index(ttype)
            if i + 1 < len(types):
                nxt = f"{types[i + 1]}:1"
        if request.currency:
            items = [r for r in items if r.currency == request.currency]
        if request.status:
            items = [r for r in items if r.status == request.status]
        return m.Page(items=tuple(items), next_cursor=nxt, total=total if len(types) == 1 else None)

    async def deposit_history(self, request: m.FundingHistoryQuery) -> m.Page[m.FundingRecord]:
        """3.7 cash flow, type Deposit."""
        return await self._cashflow("funding.deposit_history", request, ("Deposit",))

    async def withdrawal_history(self, request: m.FundingHistoryQuery) -> m.Page[m.FundingRecord]:
        """3.7 cash flow, type Withdraw."""
        return await self._cashflow("funding.withdrawal_history", request, ("Withdraw",))

    async def cash_ledger(self, request: m.FundingHistoryQuery) -> m.Page[m.FundingRecord]:
        """3.7 cash flow: ``extra['type']`` alone, or Deposit, Withdraw then Transfer."""
        op = "funding.cash_ledger"
        only = request.extra.get("type")
        if only is not None and only not in CASHFLOW_TYPES:
            raise self._fail(op, f"type must be one of {', '.join(CASHFLOW_TYPES)}", "type")
        return await self._cashflow(op, request, (only,) if only else CASHFLOW_TYPES)


# ---------------------------------------------------------------- trading


def _closed_order(r: Mapping[str, Any], tz: tzinfo) -> m.Order:
    return m.Order(
        order_id=str(r["id"]),
        instrument=_str(r.get("symbol")),
        side=_side(r.get("type")),
        order_type=_str(r.get("type")),
        quantity=_dec(r.get("volume")),
        price=_dec(r.get("openPrice")),
        filled_quantity=_dec(r.get("volume")),
        average_price=_dec(r.get("closePrice")),
        status="closed",
        account_id=_str(r.get("account")),
        profit=_dec(r.get("profit")),
        created_at=_time(r.get("openTime"), tz),
        updated_at=_time(r.get("closeTime"), tz),
        raw=r,
    )


def _pending_order(r: Mapping[str, Any], tz: tzinfo) -> m.Order:
    return m.Order(
        order_id=str(r["id"]),
        instrument=_str(r.get("symbol")),
        side=_side(r.get("type")),
        order_type=_str(r.get("type")),
        quantity=_dec(r.get("volume")),
        price=_dec(r.get("orderPrice")),
        status="pending",
        account_id=_str(r.get("account")),
        created_at=_time(r.get("orderTime"), tz),
        raw=r,
    )


def _position(r: Mapping[str, Any], tz: tzinfo) -> m.Position:
    quantity = _dec(r.get("volume"))
    if quantity is None:
        raise KeyError("volume")
    return m.Position(
        instrument=str(r["symbol"]),
        quantity=quantity,
        side=_side(r.get("type")),
        position_id=_str(r.get("id")),
        account_id=_str(r.get("account")),
        average_price=_dec(r.get("openPrice")),
        unrealized_pnl=_dec(r.get("profit")),
        opened_at=_time(r.get("openTime"), tz),
        raw=r,
    )


class LworkTrading(_LworkPort, TradingPort):
    """Read-only: lwork reports orders and positions, it does not take orders."""

    async def _report(
        self,
        op: str,
        endpoint: str,
        account_id: str | None,
        user_id: Any,
        start: datetime | None,
        end: datetime | None,
        cursor: str | None,
        limit: int | None,
        extra: Mapping[str, Any],
        item: Callable[[Mapping[str, Any], tzinfo], T],
        instrument: str | None,
    ) -> m.Page[T]:
        user = self._user(op, user_id, extra)
        account = self._pick(op, account_id, extra, ("login",), "account_id", "account_id")
        date_from, date_to = self._dates(start, end, open_items=endpoint != "account.history")
        data = await self.client.invoke(
            endpoint,
            {
                "userId": user,
                "login": account,
                "from": date_from,
                "to": date_to,
                "page": self._page_no(op, cursor),
                "size": self._size(limit),
            },
        )
        tz = self._tz
        items, nxt, total = self._paged(op, data, lambda r: item(r, tz))
        if instrument:
            items = [i for i in items if getattr(i, "instrument", None) == instrument]
        return m.Page(items=tuple(items), next_cursor=nxt, total=total)

    async def order_history(self, request: m.OrderQuery) -> m.Page[m.Order]:
        """3.8 trade history (closed trades), paged."""
        return await self._report(
            "trading.order_history",
            "account.history",
            request.account_id,
            None,
            request.start,
            request.end,
            request.cursor,
            request.limit,
            request.extra,
            _closed_order,
            request.instrument,
        )

    async def open_orders(self, request: m.OrderQuery) -> m.Page[m.Order]:
        """3.9 pending orders, paged."""
        return await self._report(
            "trading.open_orders",
            "account.pending",
            request.account_id,
            None,
            request.start,
            request.end,
            request.cursor,
            request.limit,
            request.extra,
            _pending_order,
            request.instrument,
        )

    async def positions(self, request: m.PositionQuery) -> m.Page[m.Position]:
        """3.10 open positions, paged (``extra`` may carry ``start``/``end`` datetimes)."""
        extra = request.extra
        start, end = extra.get("start"), extra.get("end")
        return await self._report(
            "trading.positions",
            "account.position",
            request.account_id,
            None,
            start if isinstance(start, datetime) else None,
            end if isinstance(end, datetime) else None,
            request.cursor,
            request.limit,
            extra,
            _position,
            request.instrument,
        )
