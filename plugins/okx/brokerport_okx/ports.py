"""OKX implementations of the core ports (the extensions are :mod:`.extensions`).

Each operation is a :func:`brokerport.binding.bind` declaration: the catalog
endpoint, where each wire parameter comes from, where the payload sits (OKX
answers ``data: [item, ...]``) and a field map into the model, structured by the
vendor's cattrs converter. The core reads the answer inside the call, so an
unreadable answer to a write is ``UnknownOutcome`` (an order's is reconciled by
``clOrdId``) and to a read ``DecodeError``. Hand-written methods say why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
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
    epoch_ms,
    first,
    from_request,
    joined_as,
    mapped,
    pick,
    refuse,
    split,
)
from brokerport.errors import Conflict, InvalidRequest, NotFound
from brokerport.paging import PageNumber, TimeCursor
from brokerport.ports import FundingPort, KeyMgmtPort, SubAccountPort, TradingPort
from brokerport.signing import TokenPair

from .models import RebateEligibility  # re-exported: hosts and tests import it from here

__all__ = ["OkxFunding", "OkxKeys", "OkxSubAccounts", "OkxTrading", "RebateEligibility", "reads"]

Params = Mapping[str, Source]


def reads(into: type, **fields: FieldSource) -> dict[str, Any]:
    """A binding's model and its field map (model field = wire name or source)."""
    return {"into": into, "fields": fields}


_TIF_TYPES = {"ioc": "ioc", "fok": "fok", "post_only": "post_only", "gtc": "limit"}


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


# Field maps (model field = wire name, or a source) and param maps (wire name =
# request field, or a source) are tables: kept one row per concern, unformatted.
# fmt: off
_PERM_TO_OKX = dict(read="read_only", read_only="read_only", trade="trade", withdraw="withdraw")
_PERM_FROM_OKX = dict(read_only="read", read="read", trade="trade", withdraw="withdraw")
_ENABLED = {"true": "enabled", True: "enabled"}

SUBACCOUNT = reads(m.SubAccount, name="subAcct", label="label", account_id="uid", level="acctLv",
                    status=mapped("enable", _ENABLED, default="frozen"), created_at="ts")
APIKEY = reads(m.ApiKey, api_key="apiKey", label="label", created_at="ts", secret_key="secretKey",
                owner=first("subAcct", from_request("owner")),
                permissions=split("perm", table=_PERM_FROM_OKX), ips=split("ip"))
DEPOSIT_ADDRESS = reads(m.DepositAddress, address="addr", currency="ccy", chain="chain",
                         destination="to", tag=pick("tag", "memo", "pmtId", "comment"),
                         account_id=first("subAcct", from_request("account_id")))
_RECORD: Mapping[str, FieldSource] = dict(amount="amt", currency="ccy", status="state",
                                          account_id="subAcct", created_at="ts", tx_id="txId")
DEPOSIT = reads(m.FundingRecord, **_RECORD, record_id="depId", kind=const("deposit"))
WITHDRAWAL = reads(m.FundingRecord, **_RECORD, record_id="wdId", kind=const("withdrawal"))
ORDER = reads(m.Order, order_id="ordId", client_order_id="clOrdId", tag="tag", status="state",
               instrument="instId", side="side", order_type="ordType", quantity="sz", price="px",
               filled_quantity="accFillSz", average_price="avgPx",
               created_at="cTime", updated_at="uTime")
ACCEPTED = reads(m.OrderAck, order_id="ordId", client_order_id="clOrdId", tag="tag",
                  status=const("accepted"))
CANCELLED = reads(m.OrderAck, order_id="ordId", client_order_id="clOrdId",
                   status=const("cancelled"))
#: the document's table says "maker", its example "marker"
FEE_RATE = reads(m.FeeRate, name="subAcct", instrument_type="type",
                  maker=pick("maker", "marker"), taker="taker")

_NAME: Params = {"subAcct": "name"}
_KEY_REF: Params = {"subAcct": "owner", "apiKey": "api_key"}
_KEY: Params = {"subAcct": "owner", "label": "label", "ip": joined_as("ips", keep_empty=True)}
_NEW_KEY: Params = {**_KEY, "passphrase": "passphrase", "ip": joined_as("ips"),
                    "perm": joined_as("permissions", _PERM_TO_OKX)}
_KEY_CHANGE: Params = {**_KEY, "apiKey": "api_key",
                       "perm": joined_as("permissions", _PERM_TO_OKX, keep_empty=True)}
_NAME_CCY: Params = {"subAcct": "account_id", "ccy": "currency"}
_ADDRESS: Params = {**_NAME_CCY, "chain": "chain", "to": "destination"}
# OKX: "after" = older than, "before" = newer than (Unix ms); the page cursor is "after"
_HISTORY: Params = {**_NAME_CCY, "state": "status", "after": epoch_ms("end"),
                    "before": epoch_ms("start")}
_REF: Params = {"instId": "instrument", "ordId": "order_id", "clOrdId": "client_order_id"}
_NAME_LABEL: Params = {**_NAME, "label": "label"}
_LEVEL: Params = {**_NAME, "acctLv": lambda r, _c: str(r.level)}
_LOGIN_IP: Params = {**_NAME, "clientIP": "ip"}
_LANDING: Params = {**_ADDRESS, "addr": "address"}
_AMEND: Params = {**_REF, "newSz": "new_quantity", "newPx": "new_price"}
_ORDER: Params = {"instId": "instrument", "side": "side", "ordType": _ord_type, "sz": "quantity",
                  "px": "price", "clOrdId": "client_order_id"}
_TD_MODE: Params = {"tdMode": lambda _r, ctx: ctx.option("default_td_mode") or "cash"}
_WITHDRAW: Params = {"ccy": "currency", "amt": "amount",
                     "toAddr": lambda r, _c: r.payee.account_number if r.payee else None,
                     "_": refuse("pay_currency", "user_id", "server_id", "comment")}
WITHDRAWN = reads(m.WithdrawalTicket, withdrawal_id="wdId", amount="amt", currency="ccy",
                   account_id=from_request("account_id"), status=const("submitted"))
# answers of writes that echo one field: an Ack with that reference
ACK_NAME, ACK_LEVEL, ACK_TS = (reads(m.Ack, reference=k) for k in ("subAcct", "acctLv", "ts"))
ACK_API_KEY = reads(m.Ack, reference=from_request("api_key"))
# fmt: on
#: the pagers of the bindings, which the sandbox answers listings with too
SUB_PAGES = PageNumber(total_pages="totalPage", current="page", items="details", default_size=100)
HISTORY_PAGES = TimeCursor(param="after", key="ts")
_FEE = Binding(endpoint="broker.dma.subaccount_trade_fee", **FEE_RATE)


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
    return m.Page(items=tuple(rates), next_cursor=SUB_PAGES.next_cursor(block, subs, ctx.request))


# --------------------------------------------------------------------- ports


class OkxSubAccounts(SubAccountPort):
    """DMA broker sub-accounts; ``fee_rates``' ``instrument_type`` is OKX's fee type
    "1".."9", or "all"."""

    create = bind("broker.dma.create_subaccount", params=_NAME_LABEL, at="0", **SUBACCOUNT)
    delete = bind("broker.dma.delete_subaccount", params=_NAME, at="0", **ACK_NAME)
    list = bind("broker.dma.subaccount_info", params=_NAME, at="0", page=SUB_PAGES, **SUBACCOUNT)
    set_level = bind("broker.dma.set_subaccount_level", params=_LEVEL, at="0", **ACK_LEVEL)
    fee_rates = bind(
        "broker.dma.subaccount_trade_fee", params=_NAME, page=SUB_PAGES, result=_fee_rates
    )
    report_ip = bind("broker.dma.report_subaccount_ip", params=_LOGIN_IP, at="0", **ACK_TS)

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

    create = bind("broker.dma.create_apikey", params=_NEW_KEY, at="0", **APIKEY)
    list = bind("broker.dma.get_apikey", params=_KEY_REF, many=True, **APIKEY)
    update = bind("broker.dma.modify_apikey", params=_KEY_CHANGE, at="0", **APIKEY)
    delete = bind("broker.dma.delete_apikey", params=_KEY_REF, at="0", **ACK_API_KEY)

    async def renew_token(self, request: m.RenewToken) -> m.SessionToken:
        """Hand-written: no endpoint of its own, it rotates the OAuth signer's token pair."""
        pair: TokenPair = await self.client.ext("okx.oauth").refresh()
        expires = None if pair.expires_at is None else datetime.fromtimestamp(pair.expires_at, UTC)
        return m.SessionToken(
            access_token=pair.access_token, refresh_token=pair.refresh_token, expires_at=expires
        )


class OkxFunding(FundingPort):
    """DMA sub-account deposit addresses (only the landing account, ``destination`` 6
    or 18, of an address can change) and deposit / withdrawal history."""

    create_deposit_address = bind(
        "broker.dma.create_deposit_address", params=_ADDRESS, at="0", **DEPOSIT_ADDRESS
    )
    update_deposit_address = bind(
        "broker.dma.modify_deposit_address", params=_LANDING, at="0", **DEPOSIT_ADDRESS
    )
    list_deposit_addresses = bind(
        "broker.dma.get_deposit_address", params=_NAME_CCY, many=True, **DEPOSIT_ADDRESS
    )
    deposit_history = bind(
        "broker.dma.deposit_history", params=_HISTORY, page=HISTORY_PAGES, **DEPOSIT
    )
    withdrawal_history = bind(
        "broker.dma.withdrawal_history", params=_HISTORY, page=HISTORY_PAGES, **WITHDRAWAL
    )
    request_withdrawal = bind(
        "asset.withdrawal",
        params=_WITHDRAW,
        defaults={"dest": const("4")},
        at="0",
        doc="Run with the sub-account's own API key (withdraw permission): OKX withdraws "
        "from the key's funding account. ``payee.account_number`` is the address "
        "(dest 4, ``address:tag`` where the currency needs one) or, with "
        "``extra={'dest': '3'}``, the OKX account; ``extra`` takes ``chain``, ``fee``, "
        "``clientId``, ``areaCode``, ``rcvrInfo``.",
        **WITHDRAWN,
    )


_CANCEL = Binding(endpoint="trade.cancel_order", params=_REF, at="0", **CANCELLED)


class OkxTrading(TradingPort):
    """Orders with the broker code in ``tag`` (added by the ``okx.broker_code`` hook)."""

    place_order = bind(
        "trade.place_order",
        params=_ORDER,
        defaults=_TD_MODE,
        at="0",
        doc="``extra`` takes OKX fields: ``tdMode`` (default: option ``default_td_mode``, else "
        "cash), ``posSide``, ``tgtCcy``...; a lost answer is reconciled by ``clOrdId``.",
        **ACCEPTED,
    )
    amend_order = bind("trade.amend_order", params=_AMEND, at="0", **ACCEPTED)
    get_order = bind("trade.get_order", params=_REF, at="0", **ORDER)

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
