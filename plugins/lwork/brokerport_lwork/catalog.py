"""The lwork (twapi) catalog's named rules and the tables the adapter reads.

The catalog itself is data: ``catalog/overlay.toml`` beside this package (every
endpoint of ``002_57252d204af6d347.txt`` and ``003_8b471905b1244653.txt``),
built into ``catalog.json`` by ``brokerport catalog build lwork`` and read once,
lazily, by ``LworkAdapter.catalog()``. Every parameter rule is data (the
overlay's ``[rules]``; amounts are ``money``); this module holds the tables the
adapter and the signer read, and :func:`format_amounts`. It imports nothing
heavy: the adapter module imports it, and ``brokerport plugins`` the adapter.

Parameters the pipeline fills:

* ``signature`` (3.2, 3.3, 3.11) is computed by :class:`~brokerport_lwork.LworkAdapter`
  in ``build_request`` from the documented concatenation (:data:`SIGNED_ENDPOINTS`);
  a host does not pass it.
* the tenant headers ``x-api-tenantId`` / ``x-api-token`` are set by the signer
  on every call and are not parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brokerport.errors import InvalidRequest

__all__ = [
    "MONEY_PARAMS",
    "PAGED_ENDPOINTS",
    "SIGNED_ENDPOINTS",
    "VENDORS",
    "format_amounts",
]

#: Trading platforms the documents name (upper case on the wire; the overlay's
#: ``vendor`` rule lists the same two).
VENDORS = ("MT4", "MT5")


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


def format_amounts(
    endpoint: str, params: Mapping[str, Any], *, vendor: str = "lwork"
) -> dict[str, Any]:
    """``params`` with every amount of ``endpoint`` as a string with exactly two decimals.

    More than two decimals raises :class:`InvalidRequest`: an amount is never
    rounded. Floats are refused.
    """
    from decimal import Decimal, InvalidOperation

    from brokerport.types import format_money

    out = dict(params)
    for name in MONEY_PARAMS.get(endpoint, ()):
        value = out.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, str, int)):
            raise InvalidRequest(
                f"{name}: pass a Decimal or a decimal string",
                field=name,
                vendor=vendor,
                endpoint=endpoint,
            )
        try:
            amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
            out[name] = format_money(amount, 2)
        except (InvalidOperation, ValueError):
            raise InvalidRequest(
                f"{name}: lwork amounts have at most two decimal places and are never rounded",
                field=name,
                vendor=vendor,
                endpoint=endpoint,
            ) from None
    return out
