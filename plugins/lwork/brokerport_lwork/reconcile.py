"""lwork reconciliation lookups (``LworkAdapter.reconcilers``): the cash flow (3.7).

lwork gives deposits, withdrawals and transfers no client reference, so a
write is found by what it carried (login, amount, and the bank account,
receipt account or comment) among the records created since the call
started. When that cannot single it out — two identical writes near each
other, or another identical write still unsettled — the answer is
``unknown`` with the reason: brokerport does not guess which record is whose.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from brokerport.outbox import OutboxEntry
from brokerport.reconcile import Reconciliation, applied, not_applied, unknown

if TYPE_CHECKING:
    from brokerport.client import Client

__all__ = ["deposit", "transfer", "withdrawal"]

#: records this close before the call started (clock skew) still count as its own
SKEW_MS = 2_000
#: an identical record this long before the call makes the match ambiguous
NEAR_MS = 60_000
PAGE = 200


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


async def _records(
    client: Client, user: str, login: str, kind: str, entry: OutboxEntry
) -> list[Mapping[str, Any]]:
    day = datetime.fromtimestamp(entry.started, UTC)
    base = {
        "userId": user,
        "login": login,
        "type": kind,
        "from": (day - timedelta(days=1)).strftime("%Y-%m-%d"),
        "to": (day + timedelta(days=1)).strftime("%Y-%m-%d"),
        "size": str(PAGE),
    }
    field = {"Deposit": "depositTransaction", "Withdraw": "withdrawTransaction"}.get(
        kind, "transferTransaction"
    )
    since_ms = entry.started * 1000 - NEAR_MS

    def rows_of(data: Any) -> list[Mapping[str, Any]]:
        rows = data.get("list") if isinstance(data, Mapping) else None
        return [
            row[field]
            for row in rows or ()
            if isinstance(row, Mapping) and isinstance(row.get(field), Mapping)
        ]

    # the cash flow is oldest first: read the last pages, back to just before the call
    first = await client.invoke("account.cashflow", {**base, "page": "1"})
    pages = first.get("pages") if isinstance(first, Mapping) else None
    last = int(pages) if isinstance(pages, int | Decimal) and int(pages) > 0 else 1
    out: list[Mapping[str, Any]] = []
    for page in range(last, max(0, last - 50), -1):
        rows = (
            rows_of(first)
            if page == 1
            else rows_of(await client.invoke("account.cashflow", {**base, "page": str(page)}))
        )
        out.extend(rows)
        times = [_amount(r.get("createTime")) for r in rows]
        if not rows or any(t is not None and t < since_ms for t in times):
            break
    return out


async def _settle(
    client: Client,
    entry: OutboxEntry,
    kind: str,
    login: str,
    same: Mapping[str, str],
    result: Any,
) -> Reconciliation:
    """Find the one record ``same`` describes, created since ``entry`` started."""
    user = entry.params.get("userId") or entry.params.get("pubUserId", "")
    records = await _records(client, user, login, kind, entry)
    start_ms = entry.started * 1000

    def matches(rec: Mapping[str, Any]) -> bool:
        for key, want in same.items():
            got = rec.get(key)
            if key.endswith("Amount"):
                if _amount(got) != _amount(want):
                    return False
            elif str(got if got is not None else "") != want:
                return False
        return True

    def at(rec: Mapping[str, Any]) -> float:
        t = _amount(rec.get("createTime"))
        return float(t) if t is not None else 0.0

    alike = [r for r in records if matches(r)]
    since = [r for r in alike if at(r) >= start_ms - SKEW_MS]
    before = [r for r in alike if start_ms - NEAR_MS <= at(r) < start_ms - SKEW_MS]
    twins = [
        e
        for e in await client.outbox.list(entry.vendor)
        if e.id != entry.id and e.endpoint == entry.endpoint and e.params == entry.params
    ]
    what = f"{kind.lower()} of {same}"
    if not since:
        return not_applied(f"no {what} since the call")
    if len(since) > 1 or before or twins:
        return unknown(
            f"lwork gives a {kind.lower()} no reference of ours and there are several "
            f"identical ones ({len(since)} since the call, {len(before)} just before, "
            f"{len(twins)} other unsettled): it cannot tell which, if any, is this call's"
        )
    rec = since[0]
    return applied(result(rec) if callable(result) else result, f"{what}: record {rec.get('id')}")


async def deposit(client: Client, entry: OutboxEntry) -> Reconciliation:
    """account.deposit: a new deposit job of the amount (and comment) for the login."""
    p = entry.params
    same = {"depositAmount": p.get("depositAmount", ""), "payCurrency": p.get("payCurrency", "")}
    if p.get("comment"):
        same["comment"] = p["comment"]

    def answer(rec: Mapping[str, Any]) -> Any:
        return {"payAmount": rec.get("payAmount"), "jobId": rec.get("id"), "accountId": p["login"]}

    return await _settle(client, entry, "Deposit", p.get("login", ""), same, answer)


async def withdrawal(client: Client, entry: OutboxEntry) -> Reconciliation:
    """account.withdraw: a new withdrawal of the amount to the bank account."""
    p = entry.params
    same = {
        "withdrawAmount": p.get("withdrawAmount", ""),
        "bankAccountNumber": p.get("bankAccountNumber", ""),
        "currency": p.get("currency", ""),
    }
    return await _settle(client, entry, "Withdraw", p.get("login", ""), same, None)


async def transfer(client: Client, entry: OutboxEntry) -> Reconciliation:
    """account.transfer: a new transfer of the amount to the receipt account."""
    p = entry.params
    same = {
        "transferAmount": p.get("transferAmount", ""),
        "receiptAccount": p.get("receiptAccount", ""),
        "accountId": p.get("accountId", ""),
    }
    return await _settle(client, entry, "Transfer", p.get("accountId", ""), same, None)
