"""OKX implementations of the core ports and the ``okx.rebates`` / ``okx.oauth`` extensions.

Each method maps a vendor-neutral request model to the OKX wire parameters,
invokes one catalog endpoint through the client pipeline (validation, broker
code hook, limiter, signing, error map), and reads the answer into the core
models. Anything unreadable in an answer becomes ``DecodeError``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import attrs
from brokerport import models as m
from brokerport.errors import Conflict, DecodeError, InvalidRequest, NotFound, NotSupported
from brokerport.ports import Extension, FundingPort, KeyMgmtPort, SubAccountPort, TradingPort
from brokerport.types import REDACTED, Secret, parse_decimal, utc_from_ms

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

T = TypeVar("T")

# ------------------------------------------------------------------ helpers


def _read(fn: Callable[[], T], what: str) -> T:
    try:
        return fn()
    except DecodeError:
        raise
    except Exception as exc:
        raise DecodeError(
            f"cannot read the OKX {what}: {type(exc).__name__}", vendor="okx"
        ) from None


def _items(data: Any) -> list[Mapping[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(i, Mapping) for i in data):
        raise DecodeError("OKX answered data that is not a list of objects", vendor="okx")
    return list(data)


def _first(data: Any) -> Mapping[str, Any]:
    items = _items(data)
    if not items:
        raise DecodeError("OKX answered an empty data list", vendor="okx")
    return items[0]


def _s(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def _dec(v: Any) -> Decimal | None:
    return None if v is None or v == "" else parse_decimal(v)


def _ts(v: Any) -> datetime | None:
    return None if v is None or v == "" else utc_from_ms(str(v))


def _ms(dt: datetime | None) -> str | None:
    return None if dt is None else str(int(dt.timestamp() * 1000))


def _params(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if k in out and out[k] != v:
            raise InvalidRequest(
                f"extra field {k!r} conflicts with a named field", field=k, vendor="okx"
            )
        out[k] = v
    return out


_PERM_TO_OKX = {
    "read": "read_only",
    "read_only": "read_only",
    "trade": "trade",
    "withdraw": "withdraw",
}
_PERM_FROM_OKX = {"read_only": "read", "read": "read", "trade": "trade", "withdraw": "withdraw"}


def _perm_wire(perms: Sequence[str]) -> str:
    out: list[str] = []
    for p in perms:
        okx = _PERM_TO_OKX.get(p)
        if okx is None:
            raise InvalidRequest(
                f"unknown permission {p!r}: use read, trade or withdraw",
                field="permissions",
                vendor="okx",
            )
        if okx not in out:
            out.append(okx)
    return ",".join(out)


def _perm_read(text: Any) -> tuple[str, ...]:
    return tuple(
        _PERM_FROM_OKX.get(p.strip(), p.strip()) for p in str(text or "").split(",") if p.strip()
    )


def _ips(text: Any) -> tuple[str, ...]:
    return tuple(p.strip() for p in str(text or "").split(",") if p.strip())


def _scrubbed(item: Mapping[str, Any]) -> dict[str, Any]:
    """The raw item with every credential value replaced."""
    return {k: (REDACTED if k in ("secretKey", "passphrase") else v) for k, v in item.items()}


# ------------------------------------------------------------ sub-accounts


def _subaccount(item: Mapping[str, Any]) -> m.SubAccount:
    enable = item.get("enable")
    status = None if enable is None else ("enabled" if enable in (True, "true") else "frozen")
    return m.SubAccount(
        name=str(item["subAcct"]),
        label=_s(item.get("label")),
        account_id=_s(item.get("uid")),
        level=_s(item.get("acctLv")),
        status=status,
        created_at=_ts(item.get("ts")),
        raw=item,
    )


def _next_page(block: Mapping[str, Any]) -> str | None:
    page, total = int(str(block.get("page") or 1)), int(str(block.get("totalPage") or 0))
    return str(page + 1) if page < total else None


class OkxSubAccounts(SubAccountPort):
    """DMA broker sub-accounts."""

    async def create(self, request: m.CreateSubAccount) -> m.SubAccount:
        params = _merge(_params(subAcct=request.name, label=request.label), request.extra)
        data = await self.client.invoke("broker.dma.create_subaccount", params)
        return _read(lambda: _subaccount(_first(data)), "sub-account")

    async def delete(self, request: m.SubAccountRef) -> m.Ack:
        data = await self.client.invoke("broker.dma.delete_subaccount", {"subAcct": request.name})
        return _read(
            lambda: m.Ack(reference=_s(_first(data).get("subAcct")), raw=_first(data)), "answer"
        )

    async def list(self, request: m.ListSubAccounts) -> m.Page[m.SubAccount]:
        params = _params(
            subAcct=request.name,
            page=request.cursor,
            limit=None if request.limit is None else str(request.limit),
        )
        data = await self.client.invoke("broker.dma.subaccount_info", params)

        def read() -> m.Page[m.SubAccount]:
            block = _first(data)
            return m.Page(
                items=tuple(_subaccount(d) for d in _items(block.get("details", []))),
                next_cursor=_next_page(block),
            )

        return _read(read, "sub-account list")

    async def set_level(self, request: m.SetSubAccountLevel) -> m.Ack:
        data = await self.client.invoke(
            "broker.dma.set_subaccount_level",
            {"subAcct": request.name, "acctLv": str(request.level)},
        )
        return _read(
            lambda: m.Ack(reference=_s(_first(data).get("acctLv")), raw=_first(data)), "answer"
        )

    async def fee_rates(self, request: m.FeeRateQuery) -> m.Page[m.FeeRate]:
        """``instrument_type`` is OKX's fee type "1".."9", or "all"."""
        params = _merge(
            _params(
                subAcct=request.name,
                page=request.cursor,
                limit=None if request.limit is None else str(request.limit),
            ),
            request.extra,
        )
        data = await self.client.invoke("broker.dma.subaccount_trade_fee", params)
        wanted = request.instrument_type

        def read() -> m.Page[m.FeeRate]:
            block = _first(data)
            rates: list[m.FeeRate] = []
            for sub in _items(block.get("details", [])):
                for fee in _items(sub.get("feeRates", [])):
                    kind = str(fee["type"])
                    if wanted not in ("all", "*") and kind != wanted:
                        continue
                    # the document's table says "maker", its example "marker"
                    maker = fee.get("maker", fee.get("marker"))
                    rates.append(
                        m.FeeRate(
                            name=_s(sub.get("subAcct")),
                            instrument_type=kind,
                            maker=_dec(maker),
                            taker=_dec(fee.get("taker")),
                            raw=fee,
                        )
                    )
            return m.Page(items=tuple(rates), next_cursor=_next_page(block))

        return _read(read, "fee rates")

    async def report_ip(self, request: m.ReportLoginIp) -> m.Ack:
        params = _merge({"subAcct": request.name, "clientIP": request.ip}, request.extra)
        data = await self.client.invoke("broker.dma.report_subaccount_ip", params)
        return _read(
            lambda: m.Ack(reference=_s(_first(data).get("ts")), raw=_first(data)), "answer"
        )

    async def set_demo_assets(self, request: m.SetDemoAssets) -> m.Ack:
        """Demo trading only; one request per currency."""
        if not request.currencies:
            raise InvalidRequest("currencies: give at least one", field="currencies", vendor="okx")
        results: dict[str, Any] = {}
        for ccy in request.currencies:
            data = await self.client.invoke(
                "broker.dma.set_subaccount_assets", {"subAcct": request.name, "ccy": ccy}
            )
            results[ccy] = _read(functools.partial(_first, data), "answer")
        return m.Ack(reference=request.name, raw=results)


# -------------------------------------------------------------------- keys


def _apikey(item: Mapping[str, Any], owner: str | None) -> m.ApiKey:
    secret = item.get("secretKey")
    return m.ApiKey(
        api_key=str(item["apiKey"]),
        owner=_s(item.get("subAcct")) or owner,
        label=_s(item.get("label")),
        permissions=_perm_read(item.get("perm")),
        ips=_ips(item.get("ip")),
        created_at=_ts(item.get("ts")),
        # the pipeline hands raw answers with credential fields already Secrets
        secret_key=(secret if isinstance(secret, Secret) else Secret(str(secret)))
        if secret
        else None,
        raw=_scrubbed(item),
    )


class OkxKeys(KeyMgmtPort):
    """Sub-account API keys; OAuth token rotation in OAuth mode."""

    async def create(self, request: m.CreateApiKey) -> m.ApiKey:
        params = _params(
            subAcct=request.owner,
            label=request.label,
            passphrase=request.passphrase,
            perm=_perm_wire(request.permissions) if request.permissions else None,
            ip=",".join(request.ips) if request.ips else None,
        )
        data = await self.client.invoke("broker.dma.create_apikey", params)
        return _read(lambda: _apikey(_first(data), request.owner), "API key")

    async def list(self, request: m.ListApiKeys) -> tuple[m.ApiKey, ...]:
        data = await self.client.invoke(
            "broker.dma.get_apikey", _params(subAcct=request.owner, apiKey=request.api_key)
        )
        return _read(lambda: tuple(_apikey(i, request.owner) for i in _items(data)), "API keys")

    async def update(self, request: m.UpdateApiKey) -> m.ApiKey:
        params = _params(
            subAcct=request.owner,
            apiKey=request.api_key,
            label=request.label,
            perm=None if request.permissions is None else _perm_wire(request.permissions),
            ip=None if request.ips is None else ",".join(request.ips),
        )
        data = await self.client.invoke("broker.dma.modify_apikey", params)
        return _read(lambda: _apikey(_first(data), request.owner), "API key")

    async def delete(self, request: m.ApiKeyRef) -> m.Ack:
        data = await self.client.invoke(
            "broker.dma.delete_apikey", {"subAcct": request.owner, "apiKey": request.api_key}
        )
        return _read(lambda: m.Ack(reference=request.api_key, raw=_first(data)), "answer")

    async def renew_token(self, request: m.RenewToken) -> m.SessionToken:
        """OAuth mode: rotate the token pair now (the old pair stops working)."""
        oauth: OkxOAuth = self.client.ext("okx.oauth")
        pair = await oauth.refresh()
        expires = None if pair.expires_at is None else utc_from_ms(int(pair.expires_at * 1000))
        return m.SessionToken(
            access_token=pair.access_token, refresh_token=pair.refresh_token, expires_at=expires
        )


# ----------------------------------------------------------------- funding


def _deposit_address(item: Mapping[str, Any], owner: str | None) -> m.DepositAddress:
    return m.DepositAddress(
        address=str(item["addr"]),
        currency=str(item["ccy"]),
        chain=_s(item.get("chain")),
        tag=_s(item.get("tag"))
        or _s(item.get("memo"))
        or _s(item.get("pmtId"))
        or _s(item.get("comment")),
        destination=_s(item.get("to")),
        account_id=_s(item.get("subAcct")) or owner,
        raw=item,
    )


def _record(item: Mapping[str, Any], kind: str, id_field: str) -> m.FundingRecord:
    return m.FundingRecord(
        record_id=str(item[id_field]),
        kind=kind,
        amount=parse_decimal(item["amt"]),
        currency=_s(item.get("ccy")),
        status=_s(item.get("state")),
        account_id=_s(item.get("subAcct")),
        created_at=_ts(item.get("ts")),
        tx_id=_s(item.get("txId")),
        raw=item,
    )


class OkxFunding(FundingPort):
    """DMA sub-account deposit addresses and deposit / withdrawal history."""

    async def create_deposit_address(self, request: m.CreateDepositAddress) -> m.DepositAddress:
        params = _merge(
            _params(
                subAcct=request.account_id,
                ccy=request.currency,
                chain=request.chain,
                to=request.destination,
            ),
            request.extra,
        )
        data = await self.client.invoke("broker.dma.create_deposit_address", params)
        return _read(lambda: _deposit_address(_first(data), request.account_id), "deposit address")

    async def update_deposit_address(self, request: m.UpdateDepositAddress) -> m.DepositAddress:
        """Only the landing account (``destination``: 6 funding, 18 trading) can change."""
        params = _merge(
            _params(
                subAcct=request.account_id,
                ccy=request.currency,
                chain=request.chain,
                addr=request.address,
                to=request.destination,
            ),
            request.extra,
        )
        data = await self.client.invoke("broker.dma.modify_deposit_address", params)
        return _read(lambda: _deposit_address(_first(data), request.account_id), "deposit address")

    async def list_deposit_addresses(
        self, request: m.ListDepositAddresses
    ) -> tuple[m.DepositAddress, ...]:
        data = await self.client.invoke(
            "broker.dma.get_deposit_address",
            {"subAcct": request.account_id, "ccy": request.currency},
        )
        return _read(
            lambda: tuple(_deposit_address(i, request.account_id) for i in _items(data)),
            "deposit addresses",
        )

    async def _history(
        self, endpoint: str, request: m.FundingHistoryQuery, kind: str, id_field: str
    ) -> m.Page[m.FundingRecord]:
        limit = request.limit
        params = _merge(
            _params(
                subAcct=request.account_id,
                ccy=request.currency,
                state=request.status,
                # OKX: "after" = older than, "before" = newer than (both Unix ms)
                after=request.cursor or _ms(request.end),
                before=_ms(request.start),
                limit=None if limit is None else str(limit),
            ),
            request.extra,
        )
        data = await self.client.invoke(endpoint, params)

        def read() -> m.Page[m.FundingRecord]:
            items = tuple(_record(i, kind, id_field) for i in _items(data))
            page_size = limit or 100
            cursor = None
            if len(items) >= page_size and items[-1].raw.get("ts"):
                cursor = str(items[-1].raw["ts"])
            return m.Page(items=items, next_cursor=cursor)

        return _read(read, f"{kind} history")

    async def deposit_history(self, request: m.FundingHistoryQuery) -> m.Page[m.FundingRecord]:
        return await self._history("broker.dma.deposit_history", request, "deposit", "depId")

    async def withdrawal_history(self, request: m.FundingHistoryQuery) -> m.Page[m.FundingRecord]:
        return await self._history("broker.dma.withdrawal_history", request, "withdrawal", "wdId")


# ----------------------------------------------------------------- trading


def _order_ack(item: Mapping[str, Any]) -> m.OrderAck:
    return m.OrderAck(
        order_id=_s(item.get("ordId")),
        client_order_id=_s(item.get("clOrdId")),
        tag=_s(item.get("tag")),
        status="accepted",
        raw=item,
    )


def _order(item: Mapping[str, Any]) -> m.Order:
    return m.Order(
        order_id=str(item["ordId"]),
        instrument=_s(item.get("instId")),
        side=_s(item.get("side")),
        order_type=_s(item.get("ordType")),
        quantity=_dec(item.get("sz")),
        price=_dec(item.get("px")),
        filled_quantity=_dec(item.get("accFillSz")),
        average_price=_dec(item.get("avgPx")),
        status=_s(item.get("state")),
        client_order_id=_s(item.get("clOrdId")),
        tag=_s(item.get("tag")),
        created_at=_ts(item.get("cTime")),
        updated_at=_ts(item.get("uTime")),
        raw=item,
    )


_TIF_TYPES = {"ioc": "ioc", "fok": "fok", "post_only": "post_only", "gtc": "limit"}


def _ref(request: m.OrderRef) -> dict[str, Any]:
    return _params(
        instId=request.instrument, ordId=request.order_id, clOrdId=request.client_order_id
    )


class OkxTrading(TradingPort):
    """Orders with the broker code in ``tag`` (added by the ``okx.broker_code`` hook)."""

    async def place_order(self, request: m.PlaceOrder) -> m.OrderAck:
        """``extra`` takes OKX fields (``tdMode``, ``posSide``, ``tgtCcy``, ...).

        ``tdMode`` defaults to the profile option ``default_td_mode`` ("cash").
        A ``time_in_force`` of ioc / fok / post_only on a limit order becomes
        that OKX ``ordType``.
        """
        ord_type = request.order_type
        tif = (request.time_in_force or "").lower()
        if tif:
            if ord_type != "limit" or tif not in _TIF_TYPES:
                raise InvalidRequest(
                    f"time_in_force {request.time_in_force!r} is not supported with "
                    f"order_type {ord_type!r}",
                    field="time_in_force",
                    vendor="okx",
                )
            ord_type = _TIF_TYPES[tif]
        td_mode = self.client.profile.option("default_td_mode", "cash")
        base = _params(
            instId=request.instrument,
            side=request.side,
            ordType=ord_type,
            sz=request.quantity,
            px=request.price,
            clOrdId=request.client_order_id,
        )
        params = {"tdMode": td_mode, **_merge(base, request.extra)}
        data = await self.client.invoke("trade.place_order", params)
        return _read(lambda: _order_ack(_first(data)), "order answer")

    async def amend_order(self, request: m.AmendOrder) -> m.OrderAck:
        params = _merge(
            _params(
                instId=request.instrument,
                ordId=request.order_id,
                clOrdId=request.client_order_id,
                newSz=request.new_quantity,
                newPx=request.new_price,
            ),
            request.extra,
        )
        data = await self.client.invoke("trade.amend_order", params)
        return _read(lambda: _order_ack(_first(data)), "order answer")

    async def cancel_order(self, request: m.OrderRef) -> m.OrderAck:
        """Cancelling an order that is already cancelled succeeds (so a retried
        cancel whose first answer was lost does not report a conflict)."""
        try:
            data = await self.client.invoke("trade.cancel_order", _ref(request))
        except Conflict as exc:
            if exc.vendor_code != "51400":
                raise
            try:
                order = await self.get_order(request)
            except NotFound:
                raise exc from None
            if order.status != "canceled":
                raise
            return m.OrderAck(
                order_id=order.order_id,
                client_order_id=order.client_order_id,
                tag=order.tag,
                status="cancelled",
                raw=order.raw,
            )

        def read() -> m.OrderAck:
            item = _first(data)
            return m.OrderAck(
                order_id=_s(item.get("ordId")),
                client_order_id=_s(item.get("clOrdId")),
                status="cancelled",
                raw=item,
            )

        return _read(read, "order answer")

    async def get_order(self, request: m.OrderRef) -> m.Order:
        data = await self.client.invoke("trade.get_order", _ref(request))
        return _read(lambda: _order(_first(data)), "order")


# ------------------------------------------------------------- extensions


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


def _bool(v: Any) -> bool | None:
    if v is None or v == "":
        return None
    return v is True or str(v).lower() == "true"


class OkxRebates(Extension):
    """FD broker rebates: ``client.ext("okx.rebates")``."""

    port_name = "okx.rebates"

    async def generate(self, begin: str, end: str, broker_type: str | None = None) -> RebateRequest:
        """Ask for the rebate details of ``begin``..``end`` (YYYYMMdd, end inclusive)."""
        data = await self.client.invoke(
            "broker.fd.generate_rebate_link", _params(begin=begin, end=end, brokerType=broker_type)
        )

        def read() -> RebateRequest:
            item = _first(data)
            return RebateRequest(
                exists=bool(_bool(item.get("result"))), received_at=_ts(item.get("ts")), raw=item
            )

        return _read(read, "rebate request")

    async def links(
        self,
        *,
        begin: str | None = None,
        end: str | None = None,
        all_history: bool = False,
        broker_type: str | None = None,
    ) -> tuple[RebateLink, ...]:
        """Download links: every generated one (``all_history``) or those of a range."""
        params = _params(
            type="true" if all_history else "false", begin=begin, end=end, brokerType=broker_type
        )
        data = await self.client.invoke("broker.fd.get_rebate_link", params)

        def read() -> tuple[RebateLink, ...]:
            return tuple(
                RebateLink(
                    state=str(i["state"]),
                    file_href=_s(i.get("fileHref")),
                    begin=_ts(i.get("beginTime")),
                    end=_ts(i.get("endTime")),
                    first_requested_at=_ts(i.get("cTime")),
                    generated_at=_ts(i.get("ts")),
                    raw=i,
                )
                for i in _items(data)
            )

        return _read(read, "rebate links")

    async def eligibility(self, api_key: str, broker_type: str | None = None) -> RebateEligibility:
        data = await self.client.invoke(
            "broker.fd.if_rebate", _params(apiKey=api_key, brokerType=broker_type)
        )

        def read() -> RebateEligibility:
            item = _first(data)
            return RebateEligibility(
                reason=str(item["type"]),
                broker_code=_s(item.get("brokerCode")),
                affiliated=_bool(item.get("affiliated")),
                client_rebate_ratio=_dec(item.get("clientRebateRatio")),
                last_rebate=_dec(item.get("lastRebate")),
                raw=item,
            )

        return _read(read, "rebate eligibility")


class OkxOAuth(Extension):
    """OAuth broker helpers: ``client.ext("okx.oauth")`` (OAuth mode only)."""

    port_name = "okx.oauth"

    def _manager(self) -> Any:
        adapter: Any = self.client.adapter
        manager = getattr(adapter, "oauth", None)
        if manager is None:
            raise NotSupported("this OKX client is in API-key mode, not OAuth", vendor="okx")
        return manager

    async def exchange_code(
        self, code: str, *, code_verifier: str | None = None, redirect_uri: str | None = None
    ) -> Any:
        """Authorization code (or PKCE with ``code_verifier``) -> token pair, now in use."""
        return await self._manager().exchange_code(
            code, code_verifier=code_verifier, redirect_uri=redirect_uri
        )

    async def refresh(self) -> Any:
        """Rotate the token pair now (single flight); returns the new TokenPair."""
        manager = self._manager()
        return await manager.token.refresh(manager.token.tokens.access_token)

    @property
    def tokens(self) -> Any:
        """The current TokenPair (Secrets; persist them to survive a restart)."""
        return self._manager().token.tokens
