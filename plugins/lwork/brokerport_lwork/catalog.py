"""The lwork (twapi) endpoint catalog, read off the two vendor documents.

Every endpoint of ``002_57252d204af6d347.txt`` (account info by user ids) and
``003_8b471905b1244653.txt`` (sections 3.1-3.16) is here, with the parameter
names exactly as the documents spell them on the wire. Path placeholders keep
the document's names (``userId`` in one section, ``pubUserId`` in another).

Parameters the pipeline fills:

* ``signature`` (3.2, 3.3, 3.11) is computed by :class:`~brokerport_lwork.LworkAdapter`
  in ``build_request`` from the documented concatenation; a host does not pass it.
* the tenant headers ``x-api-tenantId`` / ``x-api-token`` are set by the signer
  on every call and are not parameters.

``x-api-vendor`` and ``x-api-serverid`` are header parameters of 3.1, where the
document asks for them.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from brokerport.catalog import Catalog, Endpoint, Param, int_range, one_of, pattern
from brokerport.types import decimal_places

__all__ = [
    "MONEY_PARAMS",
    "PAGED_ENDPOINTS",
    "SIGNED_ENDPOINTS",
    "VENDORS",
    "build_catalog",
    "money_rule",
]

#: Trading platforms the documents name (upper case on the wire).
VENDORS = ("MT4", "MT5")

_vendor = one_of(*VENDORS)
_date = pattern(r"\d{4}-\d{2}-\d{2}", "must be a date YYYY-MM-DD")
_page = int_range(1, 1_000_000)
_size = int_range(1, 1_000)
_cashflow_type = one_of("Deposit", "Withdraw", "Transfer")


def money_rule(value: Any) -> str | None:
    """A positive amount with at most two decimals (the lwork money format).

    Amounts are never rounded: ``100.005`` is refused before any I/O.
    """
    if isinstance(value, bool) or not isinstance(value, (Decimal, str, int)):
        return "must be a Decimal or a decimal string"
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return "must be a decimal number"
    if not amount.is_finite():
        return "must be a finite amount"
    if amount <= 0:
        return "must be greater than zero"
    if decimal_places(amount) > 2:
        return "at most two decimal places (lwork amounts are never rounded)"
    return None


def _p(name: str, location: str = "body", required: bool = False, **kw: Any) -> Param:
    return Param(name, location, required, **kw)  # type: ignore[arg-type]


def _path(*names: str) -> tuple[Param, ...]:
    return tuple(_p(n, "path", True) for n in names)


def _paging(*, with_type: bool = False) -> tuple[Param, ...]:
    params = [
        _p("from", "query", True, rules=(_date,), doc="dateFrom, YYYY-MM-DD"),
        _p("to", "query", True, rules=(_date,), doc="dateTo, YYYY-MM-DD"),
    ]
    if with_type:
        params.append(
            _p("type", "query", True, rules=(_cashflow_type,), doc="Deposit, Withdraw or Transfer")
        )
    params += [
        _p("page", "query", True, rules=(_page,), doc="pageIndex, 1-based"),
        _p("size", "query", True, rules=(_size,), doc="pageSize"),
    ]
    return tuple(params)


_signature = _p("signature", doc="base64 SHA1withRSA; computed by the adapter")

#: Endpoint name -> body fields that are amounts with exactly two decimals.
MONEY_PARAMS: dict[str, tuple[str, ...]] = {
    "account.deposit": ("depositAmount",),
    "account.deposit_callback": ("payAmount",),
    "account.withdraw": ("withdrawAmount",),
    "account.transfer": ("transferAmount",),
}

#: Endpoint name -> the parameters concatenated, in order, for the signature.
SIGNED_ENDPOINTS: dict[str, tuple[str, ...]] = {
    # 3.2: userId+login+payCurrency+depositAmount
    "account.deposit": ("userId", "login", "payCurrency", "depositAmount"),
    # 3.3: jobId+orderId+status+payCurrency+payAmount
    "account.deposit_callback": ("jobId", "orderId", "status", "payCurrency", "payAmount"),
    # 3.11: accountId + currency + pubUserId + receiptAccount + receiptAccountName
    #       + receiptServerId + receiptVendor + transferAmount
    "account.transfer": (
        "accountId",
        "currency",
        "pubUserId",
        "receiptAccount",
        "receiptAccountName",
        "receiptServerId",
        "receiptVendor",
        "transferAmount",
    ),
}

#: Paged endpoints (pager/pages/size/total in ``data``).
PAGED_ENDPOINTS = frozenset(
    {"account.cashflow", "account.history", "account.pending", "account.position"}
)

_open_sc_params = (
    *_path("userId"),
    _p("serverId", required=True),
    _p("vendor", required=True, rules=(_vendor,)),
    _p(
        "accountInfo",
        required=True,
        doc="group, leverage, login, enable, readOnly, "
        "password, investorPassword, comment, email, phone",
    ),
    _p("baseInfo", required=True),
    _p("financialInfo", required=True),
    _p("certificatesInfo", required=True),
)


def build_catalog() -> Catalog:
    money = (money_rule,)
    eps = [
        # ---------------------------------------------------------- 002 / 1.
        Endpoint(
            "account.info_by_user_ids",
            "GET",
            "/v1/api/account/info/byUserId",
            (_p("userIds", "query", True, doc="comma-separated user ids"),),
            doc="002 §1: the accounts owned by the given user ids",
        ),
        # ------------------------------------------------------------- 3.1
        Endpoint(
            "account.info",
            "GET",
            "/v1/api/account/{account}",
            (
                *_path("account"),
                _p("x-api-vendor", "header", True, rules=(_vendor,), doc="MT4 or MT5"),
                _p("x-api-serverid", "header", True, doc="trading server id"),
            ),
            doc="3.1: one trading account: balance, credit, floatProfit, marginFree",
        ),
        # ------------------------------------------------------------- 3.2
        Endpoint(
            "account.deposit",
            "POST",
            "/v2/api/account/{userId}/{serverId}/{login}/deposit",
            (
                *_path("userId", "serverId", "login"),
                _p("depositAmount", required=True, rules=money),
                _p("payCurrency", required=True),
                _p("comment"),
                _signature,
            ),
            reconcile="list the login's cash flow (type=Deposit) for a new deposit job",
            doc="3.2: deposit application (signed); answers payAmount and jobId",
        ),
        # ------------------------------------------------------------- 3.3
        Endpoint(
            "account.deposit_callback",
            "POST",
            "/v1/api/account/deposit/callback",
            (
                _p("jobId", required=True),
                _p("orderId", required=True),
                _p("status", required=True, doc="1 = paid (only then is the deposit credited)"),
                _p("platform", required=True),
                _p("payAmount", required=True, rules=money),
                _p("payCurrency", required=True),
                _signature,
            ),
            reconcile="list the login's cash flow (type=Deposit): the job's payStatus",
            doc="3.3: payment callback (signed); credits the deposit",
        ),
        # ------------------------------------------------------------- 3.4
        Endpoint(
            "account.withdraw",
            "POST",
            "/v2/api/account/{userId}/{serverId}/{login}/withdraw",
            (
                *_path("userId", "serverId", "login"),
                _p("currency", required=True),
                _p("payCurrency"),
                _p("withdrawAmount", required=True, rules=money),
                _p("bankAccountName", required=True),
                _p("bankAccountNumber", required=True),
                _p("bankName", required=True),
                _p("bankBranchName"),
                _p("SWIFT"),
            ),
            reconcile="list the login's cash flow (type=Withdraw) for a new withdrawal",
            doc="3.4: withdrawal application",
        ),
        # ------------------------------------------------------------- 3.5
        Endpoint(
            "account.open",
            "POST",
            "/v1/api/account/{userId}/open",
            (
                *_path("userId"),
                _p("vendor", required=True, rules=(_vendor,)),
                _p("serverId", required=True),
                _p("group", required=True),
                _p("leverage", required=True, rules=(int_range(1, 10_000),)),
                _p("accountName", required=True),
                _p("email", required=True),
                _p("phone", required=True, doc="{countryCode, phone}"),
                _p("agentAccount"),
                _p("password", sensitive=True),
            ),
            reconcile="list the user's accounts (info by user ids) for a new login",
            doc="3.5: open a live account",
        ),
        # ------------------------------------------------------------- 3.6
        Endpoint(
            "account.open_demo_sms",
            "POST",
            "/v1/api/account/{pubUserId}/sms/open/demo",
            (
                *_path("pubUserId"),
                _p("demoAccountType", required=True),
                _p("vendor", required=True, rules=(_vendor,)),
                _p("accountName", required=True),
                _p("phone", required=True),
            ),
            reconcile="list the user's accounts (info by user ids) for a new demo login",
            doc="3.6: open a demo account; the vendor texts the credentials",
        ),
        # ---------------------------------------------------------- 3.7-3.10
        Endpoint(
            "account.cashflow",
            "GET",
            "/v1/api/account/{userId}/{login}/cashflow",
            (*_path("userId", "login"), *_paging(with_type=True)),
            doc="3.7: cash flow (deposits, withdrawals, transfers), paged",
        ),
        Endpoint(
            "account.history",
            "GET",
            "/v1/api/account/{userId}/{login}/history",
            (*_path("userId", "login"), *_paging()),
            doc="3.8: closed trades, paged",
        ),
        Endpoint(
            "account.pending",
            "GET",
            "/v1/api/account/{userId}/{login}/pending",
            (*_path("userId", "login"), *_paging()),
            doc="3.9: pending orders, paged",
        ),
        Endpoint(
            "account.position",
            "GET",
            "/v1/api/account/{userId}/{login}/position",
            (*_path("userId", "login"), *_paging()),
            doc="3.10: open positions, paged",
        ),
        # ------------------------------------------------------------ 3.11
        Endpoint(
            "account.transfer",
            "POST",
            "/v1/api/account/{pubUserId}/{accountId}/transfer",
            (
                *_path("pubUserId", "accountId"),
                _p("receiptAccount", required=True),
                _p("receiptAccountName", required=True),
                _p("receiptServerId", required=True),
                _p("receiptUserId", required=True),
                _p("receiptVendor", required=True, rules=(_vendor,)),
                _p("currency", required=True),
                _p("transferAmount", required=True, rules=money),
                _p("comment"),
                _signature,
            ),
            reconcile="list both logins' cash flow (type=Transfer) for the transfer",
            doc="3.11: transfer between accounts of the same platform (signed)",
        ),
        # ------------------------------------------------------- 3.12-3.14
        # The body's keys are the owner's baseInfo / financeInfo /
        # certificateInfo keys: open-ended, so these endpoints are not strict.
        Endpoint(
            "account.update_base",
            "POST",
            "/v1/api/account/{pubUserId}/update/diff/base",
            (*_path("pubUserId"), _p("accountName")),
            strict=False,
            idempotent=True,
            doc="3.12: update owner base info (keys of baseInfo)",
        ),
        Endpoint(
            "account.update_finance",
            "POST",
            "/v1/api/account/{pubUserId}/update/diff/finance",
            (
                *_path("pubUserId"),
                _p("accountNo", sensitive=True),
                _p("bankAccount"),
                _p("bankBranch"),
                _p("bankAddress"),
            ),
            strict=False,
            idempotent=True,
            doc="3.13: update owner finance info (keys of financeInfo)",
        ),
        Endpoint(
            "account.update_certificate",
            "POST",
            "/v1/api/account/{pubUserId}/update/diff/certificate",
            (
                *_path("pubUserId"),
                _p("idNum", sensitive=True),
                _p("idType"),
                _p("idUrl1"),
                _p("idUrl2"),
            ),
            strict=False,
            idempotent=True,
            doc="3.14: update owner certificate info (keys of certificateInfo)",
        ),
        # ------------------------------------------------------- 3.15, 3.16
        Endpoint(
            "account.open_sc",
            "POST",
            "/v2/api/account/{userId}/open",
            _open_sc_params,
            reconcile="list the user's accounts (info by user ids) for a new login",
            doc="3.15: open a live account from the Support Center configuration",
        ),
        Endpoint(
            "account.open_task",
            "POST",
            "/v2/api/account/{userId}/task/open",
            _open_sc_params,
            reconcile="list the user's accounts (info by user ids) for a new login",
            doc="3.16: submit a live account-opening task (Support Center configuration)",
        ),
    ]
    return Catalog("lwork", eps)
