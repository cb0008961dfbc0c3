"""OKX reconciliation lookups (``OkxAdapter.reconcilers``): was a write applied?

Each asks OKX for the object the write would have made or removed and answers
with the write's own answer shape (``data`` items), so the pipeline can use
one to settle a lost answer of an order placed with a ``clOrdId`` and
``client.reconcile`` can hand it to the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from brokerport.errors import NotFound
from brokerport.outbox import OutboxEntry
from brokerport.reconcile import Reconciliation, applied, not_applied, unknown

if TYPE_CHECKING:
    from brokerport.client import Client

__all__ = ["api_key", "api_key_deleted", "order", "subaccount", "subaccount_deleted"]

#: An API key's secret is shown once, in the create answer: a key created behind
#: a lost answer is usable by nobody.
SECRET_LOST = (
    "OKX returns an API key's secret only in the answer that was lost: the key "
    "exists but its secret cannot be recovered. Delete it (keys.delete / "
    "broker.dma.delete_apikey with this apiKey) and create a new one."
)


def _items(data: Any) -> list[Mapping[str, Any]]:
    return [d for d in data if isinstance(d, Mapping)] if isinstance(data, list) else []


async def order(client: Client, entry: OutboxEntry) -> Reconciliation:
    """trade.place_order: the order by ``clOrdId`` (OKX keeps it; 51603 when absent)."""
    cl = entry.params.get("clOrdId") or entry.idempotency_key
    inst = entry.params.get("instId")
    if not cl or not inst:
        return unknown("the order had no clOrdId and instId to look it up by")
    try:
        found = _items(await client.invoke("trade.get_order", {"instId": inst, "clOrdId": cl}))
    except NotFound:
        return not_applied(f"OKX has no order with clOrdId {cl}")
    if not found:
        return not_applied(f"OKX has no order with clOrdId {cl}")
    o = found[0]
    accepted = {
        "ordId": o.get("ordId", ""),
        "clOrdId": o.get("clOrdId", cl),
        "tag": o.get("tag", ""),
        "ts": o.get("cTime", ""),
        "sCode": "0",
        "sMsg": "",
    }
    return applied([accepted], f"order {accepted['ordId']} ({o.get('state', '?')})")


async def _subaccounts(client: Client, name: str) -> list[Mapping[str, Any]]:
    data = _items(await client.invoke("broker.dma.subaccount_info", {"subAcct": name}))
    out: list[Mapping[str, Any]] = []
    for block in data:
        out.extend(s for s in _items(block.get("details")) if s.get("subAcct") == name)
    return out


async def subaccount(client: Client, entry: OutboxEntry) -> Reconciliation:
    """broker.dma.create_subaccount: the sub-account listed by name."""
    name = entry.params.get("subAcct", "")
    found = await _subaccounts(client, name)
    if not found:
        return not_applied(f"no sub-account named {name}")
    s = found[0]
    created = {"subAcct": name, "label": s.get("label", ""), "uid": s.get("uid", ""),
               "acctLv": s.get("acctLv", ""), "ts": s.get("ts", "")}  # fmt: skip
    return applied([created], f"sub-account {name} exists")


async def subaccount_deleted(client: Client, entry: OutboxEntry) -> Reconciliation:
    """broker.dma.delete_subaccount: applied when the name is no longer listed."""
    name = entry.params.get("subAcct", "")
    if await _subaccounts(client, name):
        return not_applied(f"sub-account {name} still exists")
    return applied([{"subAcct": name}], f"sub-account {name} is gone")


async def _keys(client: Client, sub: str) -> list[Mapping[str, Any]]:
    try:
        return _items(await client.invoke("broker.dma.get_apikey", {"subAcct": sub}))
    except NotFound:
        return []


async def api_key(client: Client, entry: OutboxEntry) -> Reconciliation:
    """broker.dma.create_apikey: a key of the sub-account with the label sent."""
    sub, label = entry.params.get("subAcct", ""), entry.params.get("label", "")
    found = [k for k in await _keys(client, sub) if k.get("label") == label]
    if not found:
        return not_applied(f"{sub} has no key labelled {label!r}")
    if len(found) > 1:
        return unknown(f"{sub} has {len(found)} keys labelled {label!r}", SECRET_LOST)
    key = {k: v for k, v in found[0].items() if k != "secretKey"}
    return applied([key], f"key {key.get('apiKey')} was created", SECRET_LOST)


async def api_key_deleted(client: Client, entry: OutboxEntry) -> Reconciliation:
    """broker.dma.delete_apikey: applied when the key is no longer listed."""
    sub, api = entry.params.get("subAcct", ""), entry.params.get("apiKey", "")
    if any(k.get("apiKey") == api for k in await _keys(client, sub)):
        return not_applied(f"key {api} still exists")
    return applied([{"subAcct": sub, "apiKey": api}], f"key {api} is gone")
