"""OKX ports and extensions: the bindings are data (``ports.toml``, read by
:func:`brokerport.binding_data.load_bindings` when a client opens); this module
holds what the file names with ``"@name"`` — source functions, the pagers, the
readers of answers a field map cannot say, and the hand-written methods, each
with its reason — and ``OkxOAuth``, which runs no endpoint at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs
from brokerport import models as m
from brokerport.binding import Ctx, dig
from brokerport.binding_data import load_bindings
from brokerport.errors import Conflict, InvalidRequest, NotFound, NotSupported
from brokerport.paging import PageNumber, TimeCursor
from brokerport.ports import Extension, KeyMgmtPort, SubAccountPort, TradingPort
from brokerport.signing import TokenPair

from .models import ItemResult, RebateEligibility  # re-exported: tests import it from here
from .signing import OkxOAuthSigner

__all__ = ["OkxFunding", "OkxKeys", "OkxOAuth", "OkxRebates", "OkxSubAccounts", "OkxTrading"]
__all__ += ["OkxTradingExtras", "RebateEligibility"]

#: the pagers of the bindings, which the sandbox answers listings with too
SUB_PAGES = PageNumber(total_pages="totalPage", current="page", items="details", default_size=100)
HISTORY_PAGES = TimeCursor(param="after", key="ts")
_TIF_TYPES = {"ioc": "ioc", "fok": "fok", "post_only": "post_only", "gtc": "limit"}


def ord_type(request: m.PlaceOrder, ctx: Ctx) -> str:
    """A limit order's ``time_in_force`` ioc / fok / post_only is that OKX ``ordType``."""
    tif = (request.time_in_force or "").lower()
    if tif and (request.order_type != "limit" or tif not in _TIF_TYPES):
        raise InvalidRequest(
            f"time_in_force {request.time_in_force!r} is not supported with "
            f"order_type {request.order_type!r}",
            field="time_in_force",
            vendor=ctx.vendor,
        )
    return _TIF_TYPES[tif] if tif else request.order_type


def fee_rates(data: Any, ctx: Ctx) -> m.Page[m.FeeRate]:
    """Each sub-account's ``feeRates[]`` flattened, keeping the asked fee type ("all": every)."""
    block, wanted, fee_binding = dig(data, "0"), ctx.request.instrument_type, OkxSubAccounts._fee
    subs = block["details"]
    rates = [  # read with its sub-account's name; raw stays the vendor's item
        attrs.evolve(fee_binding.model({**fee, "subAcct": sub["subAcct"]}, ctx), raw=fee)
        for sub in subs
        for fee in sub["feeRates"]
        if wanted in ("all", "*") or str(fee["type"]) == wanted
    ]
    return m.Page(items=tuple(rates), next_cursor=SUB_PAGES.next_cursor(block, subs, ctx.request))


def result_true(item: Mapping[str, Any], _ctx: Ctx) -> bool:
    return str(item.get("result")).lower() == "true"


def rows(data: Any, _ctx: Ctx) -> tuple[Mapping[str, Any], ...]:
    return tuple(list(data))


def ccys(request: Any, _ctx: Ctx) -> str | None:
    return ",".join(request.ccys) if request.ccys else None


def orders(request: Any, _ctx: Ctx) -> list[dict[str, Any]]:
    return [dict(o) for o in request.orders]


def item_results(data: Any, _ctx: Ctx) -> tuple[ItemResult, ...]:
    return tuple(ItemResult.from_okx(i) for i in data)


def item_result(data: Any, _ctx: Ctx) -> ItemResult:
    return ItemResult.from_okx(data[0])


async def set_demo_assets(self: SubAccountPort, request: m.SetDemoAssets) -> m.Ack:
    """Hand-written: OKX takes one currency per request (demo trading only)."""
    if not request.currencies:
        raise InvalidRequest("currencies: give at least one", field="currencies", vendor="okx")
    results: dict[str, Any] = {}
    for ccy in request.currencies:
        params = {"subAcct": request.name, "ccy": ccy}
        results[ccy] = await self.client.invoke(
            "broker.dma.set_subaccount_assets", params, read=lambda d: dict(dig(d, "0"))
        )
    return m.Ack(reference=request.name, raw=results)


async def renew_token(self: KeyMgmtPort, request: m.RenewToken) -> m.SessionToken:
    """Hand-written: no endpoint of its own, it rotates the OAuth signer's token pair."""
    pair: TokenPair = await self.client.ext("okx.oauth").refresh()
    expires = None if pair.expires_at is None else datetime.fromtimestamp(pair.expires_at, UTC)
    return m.SessionToken(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_at=expires
    )


async def cancel_order(self: TradingPort, request: m.OrderRef) -> m.OrderAck:
    """Hand-written: 51400 for an order already cancelled is success (a retried lost cancel)."""
    try:
        ack: m.OrderAck = await self._cancel(request)  # type: ignore[attr-defined]
        return ack
    except Conflict as exc:
        if exc.vendor_code != "51400":
            raise
        try:
            order = await self.get_order(request)
        except NotFound:
            raise exc from None
        if order.status != "canceled":
            raise
        ids = {"order_id": order.order_id, "client_order_id": order.client_order_id}
        return m.OrderAck(**ids, tag=order.tag, status="cancelled", raw=order.raw)


class OkxOAuth(Extension):
    """OAuth broker helpers: ``client.ext("okx.oauth")`` (OAuth mode only). The flow
    itself (code exchange, single-flight rotation) is the OAuth signer's; hand-written
    because it calls no endpoint."""

    port_name = "okx.oauth"

    def _signer(self) -> OkxOAuthSigner:
        signer = self.client.signer
        if not isinstance(signer, OkxOAuthSigner):
            raise NotSupported("this OKX client is in API-key mode, not OAuth", vendor="okx")
        return signer

    async def exchange_code(
        self, code: str, *, code_verifier: str | None = None, redirect_uri: str | None = None
    ) -> TokenPair:
        """Authorization code (or PKCE with ``code_verifier``) -> token pair, now in use."""
        return await self._signer().exchange_code(
            code, code_verifier=code_verifier, redirect_uri=redirect_uri
        )

    async def refresh(self) -> TokenPair:
        """Rotate the token pair now (single flight); returns the new TokenPair."""
        return await self._signer().rotate()

    @property
    def tokens(self) -> TokenPair:
        """The current TokenPair (Secrets; persist them to survive a restart)."""
        return self._signer().token.tokens


_BUILT = load_bindings("brokerport_okx", sources=globals())
_NAMES = "OkxSubAccounts OkxKeys OkxFunding OkxTrading OkxRebates OkxTradingExtras"
OkxSubAccounts, OkxKeys, OkxFunding, OkxTrading, OkxRebates, OkxTradingExtras = map(
    _BUILT.__getitem__, _NAMES.split()
)
