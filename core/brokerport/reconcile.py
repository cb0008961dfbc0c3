"""Reconciliation: was a write whose outcome is unknown applied at the vendor?

A plugin declares, per write endpoint, a **lookup** (``Adapter.reconcilers``):
an async function ``(client, entry) -> Reconciliation`` that asks the vendor
(OKX: the order by ``clOrdId``; lwork: the cash flow) and answers

* ``applied`` — with ``result``, the answer the write would have had;
* ``not_applied`` — nothing happened: the host may send it again;
* ``unknown`` — the vendor gives no way to tell (``detail`` says why): the
  host decides; brokerport does not guess.

``client.reconcile(unknown_or_entry)`` runs it and removes a settled entry
from the outbox. The pipeline uses the same lookup to retry, safely, a write
whose vendor deduplicates by an idempotency key (``Adapter.deduplicates``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .outbox import OutboxEntry

if TYPE_CHECKING:
    from .client import Client

__all__ = ["Reconciler", "Reconciliation", "applied", "not_applied", "unknown"]

Status = Literal["applied", "not_applied", "unknown"]


@attrs.frozen(slots=True)
class Reconciliation:
    status: Status
    #: when applied: the answer the write would have had (vendor payload shape)
    result: Any = None
    detail: str = ""
    #: what the host can do next (e.g. an API key whose secret is lost: delete and recreate)
    hint: str = ""
    entry: OutboxEntry | None = None

    @property
    def applied(self) -> bool:
        return self.status == "applied"

    @property
    def settled(self) -> bool:
        return self.status != "unknown"


Reconciler = Callable[["Client", OutboxEntry], Awaitable[Reconciliation]]


def applied(result: Any = None, detail: str = "", hint: str = "") -> Reconciliation:
    return Reconciliation("applied", result, detail, hint)


def not_applied(detail: str = "") -> Reconciliation:
    return Reconciliation("not_applied", None, detail)


def unknown(detail: str, hint: str = "") -> Reconciliation:
    return Reconciliation("unknown", None, detail, hint)
