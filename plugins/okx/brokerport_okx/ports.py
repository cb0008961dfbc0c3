"""OKX implementations of the core ports and the ``okx.rebates`` / ``okx.oauth`` extensions.

Each operation is a :func:`brokerport.binding.bind` declaration: the catalog
endpoint, where each wire parameter comes from, where the payload sits (OKX
answers ``data: [item, ...]``) and a field map into the core model, structured
by the vendor's cattrs converter. The core reads the answer inside the call, so
an unreadable answer to a write is ``UnknownOutcome`` (an order's is reconciled
by ``clOrdId``) and to a read ``DecodeError``. Hand-written methods say why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
from brokerport import models as m
from brokerport.binding import (
    Binding,
    Ctx,
    FieldSource,
    Source,
    bind,
    const,
    dig,
    either,
    epoch_ms,
    from_request,
    invoke_binding,
    joined_as,
    mapped,
    pick,
    split,
)
from brokerport.errors import Conflict, InvalidRequest, NotFound, NotSupported
from brokerport.paging import PageNumber, TimeCursor
from brokerport.ports import Extension, FundingPort, KeyMgmtPort, SubAccountPort, TradingPort
from brokerport.signing import TokenPair

from .signing import OkxOAuthSigner

__all__ = [
    "OkxFunding",
    "OkxKeys",
    "OkxOAuth",
    "OkxRebates",
    "OkxSubAccounts",
    "OkxTrading",
    "RebateEligibility",
    "RebateLink",
    "RebateRequest",
]


def _first(endpoint: str, params: Mapping[str, Source], into: type, fields: Any, **kw: Any) -> Any:
    """A binding whose answer is the first item of OKX's ``data`` list."""
    return bind(endpoint, params=params, at="0", into=into, fields=fields, **kw)


# ---------------------------------------------------------------- field maps

_PERM_TO_OKX = dict(read="read_only", read_only="read_only", trade="trade", withdraw="withdraw")
_PERM_FROM_OKX = dict(read_only="read", read="read", trade="trade", withdraw="withdraw")
_STATUS = mapped("enable", {"true": "enabled", True: "enabled"}, default="frozen")

SUBACCOUNT: Mapping[str, FieldSource] = dict(
    name="subAcct", label="label", account_id="uid", level="acctLv", status=_STATUS, created_at="ts"
)
APIKEY: Mapping[str, FieldSource] = dict(
    api_key="apiKey",
    owner=either("subAcct", from_request("owner")),
    label="label",
    permissions=split("perm", table=_PERM_FROM_OKX),
    ips=split("ip"),
    created_at="ts",
    secret_key="secretKey",
)
DEPOSIT_ADDRESS: Mapping[str, FieldSource] = dict(
    address="addr",
    currency="ccy",
    chain="chain",
    tag=pick("tag", "memo", "pmtId", "comment"),
    destination="to",
    account_id=either("subAcct", from_request("account_id")),
)
RECORD: Mapping[str, FieldSource] = dict(
    amount="amt",
    currency="ccy",
    status="state",
    account_id="subAcct",
    created_at="ts",
    tx_id="txId",
)
ORDER: Mapping[str, FieldSource] = dict(
    order_id="ordId",
    instrument="instId",
    side="side",
    order_type="ordType",
    quantity="sz",
    price="px",
    filled_quantity="accFillSz",
    average_price="avgPx",
    status="state",
    client_order_id="clOrdId",
    tag="tag",
    created_at="cTime",
    updated_at="uTime",
)
ORDER_ACK: Mapping[str, FieldSource] = dict(order_id="ordId", client_order_id="clOrdId", tag="tag")
#: the document's table says "maker", its example "marker"
FEE_RATE: Mapping[str, FieldSource] = dict(
    name="subAcct", instrument_type="type", maker=pick("maker", "marker"), taker="taker"
)
_REF: Mapping[str, Source] = dict(instId="instrument", ordId="order_id", clOrdId="client_order_id")
_KEY: Mapping[str, Source] = dict(
    subAcct="owner", label="label", ip=joined_as("ips", keep_empty=True)
)
_ADDRESS: Mapping[str, Source] = dict(
    subAcct="account_id", ccy="currency", chain="chain", to="destination"
)
# OKX: "after" = older than, "before" = newer than (Unix ms); the page cursor is "after"
_HISTORY: Mapping[str, Source] = dict(
    subAcct="account_id",
    ccy="currency",
    state="status",
    after=epoch_ms("end"),
    before=epoch_ms("start"),
)
_SUB_PAGES = PageNumber(total_pages="totalPage", current="page", items="details")
_TIF_TYPES = {"ioc": "ioc", "fok": "fok", "post_only": "post_only", "gtc": "limit"}
_FEE = Binding(endpoint="broker.dma.subaccount_trade_fee", into=m.FeeRate, fields=FEE_RATE)


def _fee_rates(data: Any, ctx: Ctx) -> m.Page[m.FeeRate]:
    """Each sub-account's ``feeRates[]`` flattened, keeping the asked fee type ("all": every)."""
    block, wanted = dig(data, "0"), ctx.request.instrument_type
    subs = block["details"]
    rates = [  # read with its sub-account's name; raw stays the vendor's item
        attrs.evolve(_FEE.model({**fee, "subAcct": sub["subAcct"]}, ctx), raw=fee)
        for sub in subs
        for fee in sub["feeRates"]
        if wanted in ("all", "*") or str(fee["type"]) == wanted
    ]
    return m.Page(items=tuple(rates), next_cursor=_SUB_PAGES.next_cursor(block, subs, ctx.request))


def _ord_type(request: m.PlaceOrder, ctx: Ctx) -> str:
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


# --------------------------------------------------------------------- ports


class OkxSubAccounts(SubAccountPort):
    """DMA broker sub-accounts."""

    create = _first(
        "broker.dma.create_subaccount",
        dict(subAcct="name", label="label"),
        m.SubAccount,
        SUBACCOUNT,
    )
    delete = _first(
        "broker.dma.delete_subaccount", dict(subAcct="name"), m.Ack, dict(reference="subAcct")
    )
    list = _first(
        "broker.dma.subaccount_info",
        dict(subAcct="name"),
        m.SubAccount,
        SUBACCOUNT,
        page=_SUB_PAGES,
    )
    set_level = _first(
        "broker.dma.set_subaccount_level",
        dict(subAcct="name", acctLv=lambda r, _c: str(r.level)),
        m.Ack,
        dict(reference="acctLv"),
    )
    fee_rates = bind(
        "broker.dma.subaccount_trade_fee",
        params=dict(subAcct="name"),
        page=_SUB_PAGES,
        result=_fee_rates,
        doc='``instrument_type``: OKX\'s fee type "1".."9", or "all".',
    )
    report_ip = _first(
        "broker.dma.report_subaccount_ip",
        dict(subAcct="name", clientIP="ip"),
        m.Ack,
        dict(reference="ts"),
    )

    async def set_demo_assets(self, request: m.SetDemoAssets) -> m.Ack:
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


class OkxKeys(KeyMgmtPort):
    """Sub-account API keys (neutral ``read`` is OKX ``read_only``); OAuth token rotation."""

    create = _first(
        "broker.dma.create_apikey",
        {
            **_KEY,
            "passphrase": "passphrase",
            "ip": joined_as("ips"),
            "perm": joined_as("permissions", _PERM_TO_OKX),
        },
        m.ApiKey,
        APIKEY,
    )
    list = bind(
        "broker.dma.get_apikey",
        params=dict(subAcct="owner", apiKey="api_key"),
        many=True,
        into=m.ApiKey,
        fields=APIKEY,
    )
    update = _first(
        "broker.dma.modify_apikey",
        {
            **_KEY,
            "apiKey": "api_key",
            "perm": joined_as("permissions", _PERM_TO_OKX, keep_empty=True),
        },
        m.ApiKey,
        APIKEY,
    )
    delete = _first(
        "broker.dma.delete_apikey",
        dict(subAcct="owner", apiKey="api_key"),
        m.Ack,
        dict(reference=from_request("api_key")),
    )

    async def renew_token(self, request: m.RenewToken) -> m.SessionToken:
        """Hand-written: no endpoint of its own, it rotates the OAuth signer's token pair."""
        pair: TokenPair = await self.client.ext("okx.oauth").refresh()
        expires = None if pair.expires_at is None else datetime.fromtimestamp(pair.expires_at, UTC)
        return m.SessionToken(
            access_token=pair.access_token, refresh_token=pair.refresh_token, expires_at=expires
        )


class OkxFunding(FundingPort):
    """DMA sub-account deposit addresses and deposit / withdrawal history."""

    create_deposit_address = _first(
        "broker.dma.create_deposit_address", _ADDRESS, m.DepositAddress, DEPOSIT_ADDRESS
    )
    update_deposit_address = _first(
        "broker.dma.modify_deposit_address",
        {**_ADDRESS, "addr": "address"},
        m.DepositAddress,
        DEPOSIT_ADDRESS,
        doc="Only the landing account (``destination`` 6 or 18) can change.",
    )
    list_deposit_addresses = bind(
        "broker.dma.get_deposit_address",
        params=dict(subAcct="account_id", ccy="currency"),
        many=True,
        into=m.DepositAddress,
        fields=DEPOSIT_ADDRESS,
    )
    deposit_history = bind(
        "broker.dma.deposit_history",
        params=_HISTORY,
        page=TimeCursor(param="after", key="ts"),
        into=m.FundingRecord,
        fields={**RECORD, "record_id": "depId", "kind": const("deposit")},
    )
    withdrawal_history = bind(
        "broker.dma.withdrawal_history",
        params=_HISTORY,
        page=TimeCursor(param="after", key="ts"),
        into=m.FundingRecord,
        fields={**RECORD, "record_id": "wdId", "kind": const("withdrawal")},
    )


_ACCEPTED: Mapping[str, FieldSource] = {**ORDER_ACK, "status": const("accepted")}
_CANCEL = Binding(
    endpoint="trade.cancel_order",
    params=_REF,
    at="0",
    into=m.OrderAck,
    fields=dict(order_id="ordId", client_order_id="clOrdId", status=const("cancelled")),
)


class OkxTrading(TradingPort):
    """Orders with the broker code in ``tag`` (added by the ``okx.broker_code`` hook)."""

    place_order = _first(
        "trade.place_order",
        dict(
            instId="instrument",
            side="side",
            ordType=_ord_type,
            sz="quantity",
            px="price",
            clOrdId="client_order_id",
        ),
        m.OrderAck,
        _ACCEPTED,
        defaults=dict(tdMode=lambda _r, ctx: ctx.option("default_td_mode") or "cash"),
        doc="``extra`` takes OKX fields (``tdMode``, default option ``default_td_mode`` or "
        "cash; ``posSide``, ``tgtCcy``...); a lost answer is reconciled by ``clOrdId``.",
    )
    amend_order = _first(
        "trade.amend_order",
        {**_REF, "newSz": "new_quantity", "newPx": "new_price"},
        m.OrderAck,
        _ACCEPTED,
    )
    get_order = _first("trade.get_order", _REF, m.Order, ORDER)

    async def cancel_order(self, request: m.OrderRef) -> m.OrderAck:
        """Hand-written: 51400 for an order already cancelled is success (a retried lost cancel)."""
        try:
            ack: m.OrderAck = await _CANCEL(self, request)
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


# --------------------------------------------------------------- extensions


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


_GENERATE = _first(
    "broker.fd.generate_rebate_link",
    dict(begin="begin", end="end", brokerType="broker_type"),
    RebateRequest,
    dict(exists=lambda i, _c: str(i.get("result")).lower() == "true", received_at="ts"),
)
_LINKS = bind(
    "broker.fd.get_rebate_link",
    params=dict(
        type=lambda r, _c: "true" if r.all_history else "false",
        begin="begin",
        end="end",
        brokerType="broker_type",
    ),
    many=True,
    into=RebateLink,
    fields=dict(
        state="state",
        file_href="fileHref",
        begin="beginTime",
        end="endTime",
        first_requested_at="cTime",
        generated_at="ts",
    ),
)
_ELIGIBILITY = _first(
    "broker.fd.if_rebate",
    dict(apiKey="api_key", brokerType="broker_type"),
    RebateEligibility,
    dict(
        reason="type",
        broker_code="brokerCode",
        affiliated="affiliated",
        client_rebate_ratio="clientRebateRatio",
        last_rebate="lastRebate",
    ),
)


class OkxRebates(Extension):
    """FD broker rebates: ``client.ext("okx.rebates")``. Each method runs a binding with
    its keyword arguments as the request (the extension takes no request model)."""

    port_name = "okx.rebates"

    async def generate(self, begin: str, end: str, broker_type: str | None = None) -> RebateRequest:
        """Ask for the rebate details of ``begin``..``end`` (YYYYMMdd, end inclusive)."""
        made: RebateRequest = await invoke_binding(
            self, _GENERATE, begin=begin, end=end, broker_type=broker_type
        )
        return made

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
        found: tuple[RebateLink, ...] = await invoke_binding(self, _LINKS, **args)
        return found

    async def eligibility(self, api_key: str, broker_type: str | None = None) -> RebateEligibility:
        """Whether ``api_key``'s trades earn the broker a rebate."""
        found: RebateEligibility = await invoke_binding(
            self, _ELIGIBILITY, api_key=api_key, broker_type=broker_type
        )
        return found


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
