"""Answer models of the ``okx.rebates`` and ``okx.trading`` extensions (no core model fits).

Structured by the OKX converter through the field maps of ``brokerport_okx/ports.toml``
(:meth:`ItemResult.from_okx` reads a batch item); ``raw`` keeps the vendor's item.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

__all__ = ["AlgoOrder", "ItemResult", "RebateEligibility", "RebateLink", "RebateRequest"]


@attrs.frozen(slots=True, kw_only=True)
class RebateLink:
    """A rebate-details download link (valid 2 h from ``generated_at``)."""

    state: str
    file_href: str | None = None
    begin: datetime | None = None
    end: datetime | None = None
    first_requested_at: datetime | None = None
    generated_at: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def ready(self) -> bool:
        return self.state == "finished"


@attrs.frozen(slots=True, kw_only=True)
class RebateRequest:
    #: True: the range's link exists already; False: OKX is generating it (about 2 h).
    exists: bool
    received_at: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True)
class RebateEligibility:
    #: "0" eligible; "1" broker expired; "2" VIP4/5 monthly cap reached; "3" VIP6+.
    reason: str
    broker_code: str | None = None
    affiliated: bool | None = None
    client_rebate_ratio: Decimal | None = None
    last_rebate: Decimal | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @property
    def eligible(self) -> bool:
        return self.reason == "0"


@attrs.frozen(slots=True, kw_only=True)
class ItemResult:
    """One item of a batch answer (orders, amends, cancels, algo cancels, an algo
    order): ``ok`` when its ``sCode`` is "0"; otherwise ``code`` / ``message`` say why."""

    ok: bool
    code: str
    message: str = ""
    order_id: str | None = None
    client_order_id: str | None = None
    algo_id: str | None = None
    algo_client_order_id: str | None = None
    tag: str | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_okx(cls, item: Mapping[str, Any]) -> ItemResult:
        """One ``data[]`` item with its own ``sCode`` / ``sMsg``."""
        text = {k: str(v) for k, v in item.items() if v not in (None, "")}
        code = text.get("sCode", "0")
        ids = {f: text.get(k) for f, k in _ITEM_IDS.items()}
        return cls(ok=code == "0", code=code, message=text.get("sMsg", ""), raw=item, **ids)


_ITEM_IDS = {"order_id": "ordId", "client_order_id": "clOrdId", "algo_id": "algoId",
             "algo_client_order_id": "algoClOrdId", "tag": "tag"}  # fmt: skip


@attrs.frozen(slots=True, kw_only=True)
class AlgoOrder:
    algo_id: str
    algo_client_order_id: str | None = None
    instrument: str | None = None
    order_type: str | None = None
    side: str | None = None
    state: str | None = None
    size: Decimal | None = None
    tag: str | None = None
    created_at: datetime | None = None
    raw: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
