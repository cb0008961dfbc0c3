"""The OKX extensions: ``okx.rebates``, ``okx.oauth`` and ``okx.trading``.

What OKX offers beyond the core ports, reached with ``client.ext(name)``. Each
method runs a binding (:mod:`brokerport.binding`) with its keyword arguments
as the request, or ``client.invoke`` with OKX's own fields; answers are read
inside the call, like the ports' (:mod:`brokerport_okx.ports`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from brokerport.binding import Binding, invoke_binding
from brokerport.errors import NotSupported
from brokerport.ports import Extension
from brokerport.signing import TokenPair

from .models import AlgoOrder, ItemResult, RebateEligibility, RebateLink, RebateRequest
from .ports import Params, reads
from .signing import OkxOAuthSigner

__all__ = ["OkxOAuth", "OkxRebates", "OkxTradingExtras"]

# fmt: off
_BROKER_TYPE: Params = {"brokerType": "broker_type"}
_RANGE: Params = {**_BROKER_TYPE, "begin": "begin", "end": "end"}
_GENERATE = Binding(endpoint="broker.fd.generate_rebate_link", params=_RANGE, at="0",
                    **reads(RebateRequest, received_at="ts",
                             exists=lambda i, _c: str(i.get("result")).lower() == "true"))
_LINKS = Binding(endpoint="broker.fd.get_rebate_link", many=True,
                 params={**_RANGE, "type": lambda r, _c: str(r.all_history).lower()},
                 **reads(RebateLink, state="state", file_href="fileHref", begin="beginTime",
                          end="endTime", first_requested_at="cTime", generated_at="ts"))
_ELIGIBILITY = Binding(endpoint="broker.fd.if_rebate", params={**_BROKER_TYPE, "apiKey": "api_key"},
                       at="0", **reads(RebateEligibility, reason="type", broker_code="brokerCode",
                                        affiliated="affiliated", last_rebate="lastRebate",
                                        client_rebate_ratio="clientRebateRatio"))
_ALGO = Binding(endpoint="trade.get_algo_order", at="0",
                params={"algoId": "algo_id", "algoClOrdId": "algo_client_order_id"},
                **reads(AlgoOrder, algo_id="algoId", algo_client_order_id="algoClOrdId",
                         instrument="instId", order_type="ordType", side="side", state="state",
                         size="sz", tag="tag", created_at="cTime"))
# fmt: on


class OkxRebates(Extension):
    """FD broker rebates: ``client.ext("okx.rebates")``. Each method runs a binding with
    its keyword arguments as the request (the extension takes no request model)."""

    port_name = "okx.rebates"

    async def generate(self, begin: str, end: str, broker_type: str | None = None) -> RebateRequest:
        """Ask for the rebate details of ``begin``..``end`` (YYYYMMdd, end inclusive)."""
        args = dict(begin=begin, end=end, broker_type=broker_type)
        return cast(RebateRequest, await invoke_binding(self, _GENERATE, **args))

    async def links(
        self,
        *,
        begin: str | None = None,
        end: str | None = None,
        all_history: bool = False,
        broker_type: str | None = None,
    ) -> tuple[RebateLink, ...]:
        """Download links: every generated one (``all_history``) or those of a range."""
        args = dict(begin=begin, end=end, all_history=all_history, broker_type=broker_type)
        return cast(tuple[RebateLink, ...], await invoke_binding(self, _LINKS, **args))

    async def eligibility(self, api_key: str, broker_type: str | None = None) -> RebateEligibility:
        """Whether ``api_key``'s trades earn the broker a rebate."""
        args = dict(api_key=api_key, broker_type=broker_type)
        return cast(RebateEligibility, await invoke_binding(self, _ELIGIBILITY, **args))


class OkxOAuth(Extension):
    """OAuth broker helpers: ``client.ext("okx.oauth")`` (OAuth mode only). The flow
    itself (code exchange, single-flight rotation) is the OAuth signer's."""

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


def _items(data: Any) -> tuple[ItemResult, ...]:
    return tuple(ItemResult.from_okx(i) for i in data)


class OkxTradingExtras(Extension):
    """``client.ext("okx.trading")``: what OKX trades with beyond the core port —
    batches of up to 20 orders (each item OKX's own request fields), algo orders
    and the reference data clients read before trading. The broker-code hook puts
    the broker code in the ``tag`` of every order and every batch item."""

    port_name = "okx.trading"

    async def instruments(self, inst_type: str, **filters: str) -> tuple[Mapping[str, Any], ...]:
        """``GET /api/v5/public/instruments``: tick size, lot size, minimum size..."""
        params = {"instType": inst_type, **filters}
        return tuple(await self.client.invoke("public.instruments", params, read=list))

    async def currencies(self, *ccys: str) -> tuple[Mapping[str, Any], ...]:
        """``GET /api/v5/asset/currencies``: one item per currency and chain."""
        params = {"ccy": ",".join(ccys)} if ccys else {}
        return tuple(await self.client.invoke("asset.currencies", params, read=list))

    async def batch_orders(self, orders: list[Mapping[str, Any]]) -> tuple[ItemResult, ...]:
        """Place up to 20 orders; one result per order (a failed item does not raise)."""
        return await self._batch("trade.batch_orders", orders)

    async def amend_batch(self, orders: list[Mapping[str, Any]]) -> tuple[ItemResult, ...]:
        return await self._batch("trade.amend_batch_orders", orders)

    async def cancel_batch(self, orders: list[Mapping[str, Any]]) -> tuple[ItemResult, ...]:
        return await self._batch("trade.cancel_batch_orders", orders)

    async def place_algo(self, **params: Any) -> ItemResult:
        """``POST /api/v5/trade/order-algo`` with OKX's fields (``ordType`` conditional,
        oco, trigger, move_order_stop, twap); a refusal raises, typed."""
        read = lambda d: ItemResult.from_okx(d[0])  # noqa: E731
        return cast(
            ItemResult, await self.client.invoke("trade.place_algo_order", params, read=read)
        )

    async def cancel_algos(self, orders: list[Mapping[str, Any]]) -> tuple[ItemResult, ...]:
        """Cancel up to 10 algo orders (``instId`` with ``algoId`` or ``algoClOrdId``)."""
        return await self._batch("trade.cancel_algos", orders)

    async def get_algo(
        self, algo_id: str | None = None, algo_client_order_id: str | None = None
    ) -> AlgoOrder:
        args = dict(algo_id=algo_id, algo_client_order_id=algo_client_order_id)
        return cast(AlgoOrder, await invoke_binding(self, _ALGO, **args))

    async def _batch(self, name: str, orders: list[Mapping[str, Any]]) -> tuple[ItemResult, ...]:
        params = {"orders": [dict(o) for o in orders]}
        return cast(tuple[ItemResult, ...], await self.client.invoke(name, params, read=_items))
