"""WhaleAPI implementations of the core ports: bindings, and a few methods that say why.

Each operation is a :func:`brokerport.binding.bind` declaration (endpoint, wire
parameters, where the payload sits, a field map into the model). Hand-written
methods exist where one binding cannot say it: a choice between two endpoints
(v1 list or the v2 cursor list, set or reset password, the four fill versions),
the reconciliation key of an order, and the trade-permission batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import attrs
from brokerport import models as m
from brokerport.binding import (
    Binding,
    Ctx,
    FieldSource,
    Source,
    as_page,
    bind,
    const,
    first,
    from_request,
    keep,
    option,
    pick,
    refine,
    refuse,
)
from brokerport.errors import BrokerportError, Conflict, InvalidRequest, NotFound
from brokerport.paging import Cursor, PageNumber
from brokerport.ports import AccountPort, FundingPort, KeyMgmtPort, TradingPort
from brokerport.types import Secret

__all__ = ["WhaleAccounts", "WhaleFunding", "WhaleKeys", "WhaleTrading"]

Params = Mapping[str, Source]


def _reads(into: type, **fields: FieldSource) -> dict[str, Any]:
    return {"into": into, "fields": fields}


def _listed(key: str) -> Any:
    """``before=`` step: the spec documents some lists as one object (deposit
    ``items``, v2 account ``list``); either shape is read as a list."""

    def before(payload: Any, _ctx: Ctx) -> Any:
        value = payload.get(key) if isinstance(payload, dict) else None
        if isinstance(value, dict):
            return {**payload, key: [value]}
        return payload

    return before


def _secs(field: str) -> Source:
    """A datetime request field as epoch seconds text (WhaleAPI times)."""

    def source(request: Any, _ctx: Ctx) -> Any:
        value: datetime | None = getattr(request, field)
        return None if value is None else str(int(value.timestamp()))

    return source


def _date(field: str) -> Source:
    def source(request: Any, _ctx: Ctx) -> Any:
        value: datetime | None = getattr(request, field)
        return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d")

    return source


ACCOUNT_NO = option("account_id", "account_no", extra_keys=("account_no",))
_SIDES = {"buy": "Buy", "sell": "Sell"}
_TYPES = {"market": "MO", "limit": "LO"}
_TIF = {"day": "Day", "gtc": "GTC", "gtd": "GTD"}
_STATES = {"-1": "closed", "0": "initialising", "1": "active"}
_TO_STATE = {"active": "active", "disabled": "suspend", "frozen": "disable"}
#: permission types Get Account Trade Permission reports (its product enum: stock, va)
READABLE = ("stock.", "va.")
#: order statuses after which an order is no longer open
FINAL = frozenset(
    {"FilledStatus", "RejectedStatus", "CanceledStatus", "ExpiredStatus", "PartialWithdrawal"}
)


def _status(item: Mapping[str, Any], _ctx: Ctx) -> Any:
    if item.get("disable") is True:
        return "disabled"
    state = item.get("state")
    return None if state is None else _STATES.get(str(state), str(state))


def _remark(item: Mapping[str, Any], _ctx: Ctx) -> Any:
    """The order's remark: text, or (order detail documents it as an object) its text value."""
    value = item.get("remark")
    if isinstance(value, Mapping):
        value = next((v for v in value.values() if isinstance(v, str) and v), None)
    return value or None


def _signed_amount(item: Mapping[str, Any], ctx: Ctx) -> Any:
    """A cash flow's amount, negative when it leaves the account (direction 1)."""
    amount = ctx.client.converter.structure(item["amount"], Decimal)
    return -abs(amount) if str(item.get("direction")) == "1" else amount


# fmt: off
ACCOUNT = _reads(m.Account, account_id="account_no", status=_status,
                 user_id=first("member_id", lambda _i, c: (getattr(c.request, "user_ids", None)
                                                          or (None,))[0]),
                 created_at="open_account_time")
ORDER = _reads(m.Order, order_id="order_id", instrument="symbol", side="side",
               order_type="order_type", quantity="quantity", price="price",
               filled_quantity="executed_quantity", average_price="executed_price",
               status="status", tag="tag", client_order_id=_remark,
               account_id=from_request(ACCOUNT_NO), created_at="submitted_at",
               updated_at="updated_at")
FILL = _reads(m.Fill, fill_id="trade_id", order_id="order_id", instrument="symbol", side="side",
              quantity="quantity", price="price", filled_at="trade_done_at")
POSITION = _reads(m.Position, instrument="symbol", quantity="total_quantity",
                  average_price="average_cost_price", side=const("long"),
                  account_id=from_request("account_id"))
BALANCE = _reads(m.Balance, currency="currency", total="cash_amount",
                 available="available_amount", account_id=from_request("account_id"))
DEPOSIT = _reads(m.FundingRecord, record_id="id", kind=const("deposit"), amount="amount",
                 currency="currency", status=pick("state", "state_code"),
                 created_at="created_at", account_id=from_request(ACCOUNT_NO))
WITHDRAWAL = _reads(m.FundingRecord, record_id=first("order_id", "id"), kind=const("withdrawal"),
                    amount="amount", currency="currency", status="state",
                    created_at="created_at", account_id=from_request(ACCOUNT_NO))
LEDGER = _reads(m.FundingRecord, record_id="serial_num",
                kind=first("bussiness_code", "flow_name"), amount=_signed_amount,
                currency="currency", created_at="bussiness_time",
                account_id=from_request(ACCOUNT_NO))
PAYEE = _reads(m.Payee, name="name", account_number="account", bank_name=first("bank_en", "bank"),
               swift="swift_code", payee_id="id")
APIKEY = _reads(m.ApiKey, api_key="access_key_id", secret_key="access_key_secret",
                owner=from_request("owner"), enabled=lambda i, _c: not i.get("disable"),
                ips=lambda i, _c: i.get("ipwhitelist") if isinstance(i.get("ipwhitelist"), list)
                else (i.get("ipwhitelist") or {}).get("net") or (),
                created_at="created_at")
TOKEN = _reads(m.SessionToken, access_token="token", expires_at="expired_at")
ACK = _reads(m.Ack)

_ACCT: Params = {"account_no": ACCOUNT_NO}
_ACCT_CCY: Params = {**_ACCT, "currency": "currency"}
_KEY: Params = {"access_key_id": "api_key"}
_ORDER_REF: Params = {"order_id": "order_id", **_ACCT}
_ORDERS: Params = {**_ACCT, "symbol": "instrument", "_": refuse("server_id", "platform")}
_HISTORY: Params = {**_ORDERS, "start_at": _secs("start"), "end_at": _secs("end")}
_FILLS: Params = {**_HISTORY}
_ORDER_PAGES = PageNumber(page="page", size="size", has_more="has_more", items="orders")
_FILL_PAGES = PageNumber(page="page", size=None, has_more="has_more", items="trades")
# fmt: on


class WhaleAccounts(AccountPort):
    _list_v1 = refine(
        bind("account.list", params={"member_id": lambda r, _c: r.user_ids[0]},
             at="account_list", many=True, **ACCOUNT),
        as_page,
    )  # fmt: skip
    _list_v2 = refine(
        bind("account.list_v2", defaults={"account_id": const("0"), "page_size": const("50")},
             page=Cursor(param="account_id", size="page_size", next="next_account_id",
                         items="list"), **ACCOUNT),
        before=_listed("list"),
    )  # fmt: skip

    async def list(self, request: m.ListAccounts) -> m.Page[m.Account]:
        """One member's accounts (v1, ``user_ids`` of one member), or with ``cursor`` /
        ``limit`` the tenant's accounts through the v2 cursor list (filtered to
        ``user_ids``). Two endpoints: not one binding."""
        if request.is_demo:
            raise InvalidRequest("WhaleAPI has no demo accounts", field="is_demo", vendor="whale")
        if request.cursor is not None or request.limit is not None:
            ids = request.user_ids
            result: m.Page[m.Account] = await self._list_v2(request)
            return attrs.evolve(result, items=[a for a in result.items if a.user_id in ids])
        if len(request.user_ids) != 1:
            raise InvalidRequest("one member per call (v1 list)", field="user_ids", vendor="whale")
        page: m.Page[m.Account] = await self._list_v1(request)
        return page

    get = bind("account.get", params={"account_no": "account_id",
                                      "_": refuse("server_id", "platform")},
               at="account", **ACCOUNT)  # fmt: skip
    _submit = bind(
        "account.submit_application_v2",
        params={"member_id": "user_id",
                "_": refuse("server_id", "platform", "currency", "leverage", "group", "password")},
        defaults={"client_type": const(0)},
        into=m.AccountApplication,
        fields={"application_id": "application_id", "status": const("submitted")},
    )  # fmt: skip
    _append = bind(
        "account.append_account", params={"_": refuse("server_id", "platform", "password")},
        into=m.AccountApplication,
        fields={"application_id": "application_id", "status": const("submitted")},
    )  # fmt: skip

    async def open_live(self, request: m.OpenAccount) -> m.AccountApplication:
        """A new member application (Submit Application V2), or with ``extra``
        ``account_no`` + ``additional_account`` an additional account (Append)."""
        binding = self._append if "additional_account" in request.extra else self._submit
        result: m.AccountApplication = await binding(request)
        return result

    _update_v2 = bind(
        "account.update_application_v2",
        params={
            "member_id": "user_id",
            "application_id": lambda r, _c: r.fields.get("application_id"),
            "client_type": lambda r, _c: r.fields.get("client_type", 0),
            "open_info": lambda r, _c: {r.section: {k: v for k, v in r.fields.items()
                                                    if k not in ("application_id", "client_type")}},
        },
        **ACK,
    )  # fmt: skip

    async def update_profile(self, request: m.UpdateProfile) -> m.Ack:
        """Update Application V2: ``fields`` become ``open_info[section]`` (``application_id``
        and ``client_type`` among them go to the top level)."""
        result: m.Ack = await self._update_v2(request)
        return result

    _set_pwd = bind(
        "account.trade_set_pwd",
        params={"account_no": "account_id", "encrypt_password": "new_password"},
        **ACK,
    )
    _reset_pwd = bind("account.trade_reset_pwd",
                      params={"account_no": "account_id", "encrypt_password": "new_password"},
                      **ACK)  # fmt: skip

    async def set_trade_password(self, request: m.SetTradePassword) -> m.Ack:
        """First password: Set; with ``old_password`` (which WhaleAPI does not take): Reset.
        ``new_password`` is sent as ``encrypt_password``: pass the vendor-encrypted form."""
        if request.kind != "trade":
            raise InvalidRequest("WhaleAPI has trade passwords only", field="kind", vendor="whale")
        binding = self._set_pwd if request.old_password is None else self._reset_pwd
        result: m.Ack = await binding(request)
        return result

    get_trade_permissions = bind(
        "account.trade_permissions",
        params={"account_no": "account_id"},
        into=m.TradePermissions,
        fields={
            "account_id": from_request("account_id"),
            "permissions": lambda d, _c: {f"{p['product']}.{mk}": True
                                          for p in d["permissions"] for mk in p["markets"]},
        },
    )  # fmt: skip
    _update_permissions = bind(
        "account.update_account_trade_permission",
        params={
            "account_no": "account_id",
            "changes": lambda r, _c: [
                {"permission_type": t, "permission_status": "open" if on else "close"}
                for t, on in r.changes.items()
            ],
        },
        **ACK,
    )  # fmt: skip

    async def update_trade_permissions(self, request: m.UpdateTradePermissions) -> m.Ack:
        """The atomic batch. A refusal carries ``details["failure_index"]`` (present only
        when the vendor set it: 0 is the first change, absent is "unset") and
        ``details["permission_type"]``. A refusal of a batch whose every change already
        holds (a retry after a lost success) is success: the permissions are read back
        (only ``stock.*`` and ``va.*`` can be read back; a batch with others is not
        provable, and its refusal stands)."""
        if not request.changes:
            raise InvalidRequest("changes: at least one", field="changes", vendor="whale")
        try:
            result: m.Ack = await self._update_permissions(request)
            return result
        except BrokerportError as err:
            index = err.details.get("failure_index")
            types = list(request.changes)
            if index is not None and 0 <= index < len(types):
                err.details = {**err.details, "permission_type": types[index]}
            if not isinstance(err, InvalidRequest) or index is None:
                raise
            now = await self.get_trade_permissions(
                m.GetTradePermissions(account_id=request.account_id)
            )
            if all(
                t.startswith(READABLE) and now.permissions.get(t, False) == on
                for t, on in request.changes.items()
            ):
                return m.Ack(ok=True, reference="already applied", raw={"failure_index": index})
            raise

    set_state = bind("account.change_account_state",
                     params={"account_no": "account_id", "to_state": lambda r, _c:
                             _TO_STATE[r.state], "_": refuse("reason")}, **ACK)  # fmt: skip
    close = bind("account.close", params={"account_no": "account_id", "_": refuse("reason")},
                 **ACK)  # fmt: skip


def _ids(request: Any, ctx: Ctx) -> Any:
    value = request.deposit_id
    if not str(value).isdigit():
        raise InvalidRequest("deposit_id: a number", field="deposit_id", vendor=ctx.vendor)
    return int(value)


class WhaleFunding(FundingPort):
    balances = bind("asset.cash_info", params={**_ACCT_CCY, "_": refuse("server_id", "platform")},
                    at="cash_list", many=True, **BALANCE)  # fmt: skip
    request_deposit = bind(
        "portfolio.deposit_apply",
        params={**_ACCT_CCY, "amount": "amount", "ps": "comment",
                "_": refuse("pay_currency", "user_id", "server_id", "platform")},
        defaults={"vouchers": const([]),
                  "card_id": option(None, "deposit_card_id", required=False),
                  "deposit_type": option(None, "deposit_type", required=False),
                  "deposit_config_id": option(None, "deposit_config_id", required=False)},
        into=m.DepositTicket,
        fields={"deposit_id": "id", "status": const("submitted"),
                "account_id": from_request("account_id"), "amount": from_request("amount"),
                "currency": from_request("currency")},
    )  # fmt: skip
    cancel_deposit = bind("portfolio.deposit_cancel",
                          params={"id": _ids, "account_no": option(None, "account_no"),
                                  "_": refuse("reason")}, **ACK)  # fmt: skip
    request_withdrawal = bind(
        "portfolio.withdraw",
        params={**_ACCT_CCY, "amount": "amount",
                "card_id": lambda r, _c: r.payee.payee_id if r.payee else None,
                "_": refuse("pay_currency", "user_id", "server_id", "comment")},
        defaults={"is_pad_funded": option(None, "is_pad_funded", required=False)},
        into=m.WithdrawalTicket,
        fields={"withdrawal_id": "id", "status": const("submitted"),
                "account_id": from_request("account_id"), "amount": from_request("amount"),
                "currency": from_request("currency")},
    )  # fmt: skip
    cancel_withdrawal = bind("portfolio.withdraw_cancel",
                             params={"order_id": "withdrawal_id",
                                     "account_no": option(None, "account_no")}, **ACK)  # fmt: skip
    deposit_history = refine(
        bind("portfolio.deposit_notify",
             params={**_ACCT, "currencies": "currency", "states": "status",
                     "from_date": _date("start"), "to_date": _date("end")},
             defaults={"page": const("1"), "size": const("20")},
             page=PageNumber(page="page", size="size", total="total", items="items",
                             default_size=20), **DEPOSIT),
        before=_listed("items"),
    )  # fmt: skip
    withdrawal_history = bind(
        "portfolio.withdraw_record",
        params={**_ACCT, "currencys": "currency", "states": "status",
                "begin": _secs("start"), "end": _secs("end")},
        page=PageNumber(page="page", size="size", total="total", items="list", default_size=20),
        **WITHDRAWAL,
    )  # fmt: skip
    cash_ledger = bind(
        "asset.financial_flows",
        params={**_ACCT_CCY, "start_time": lambda r, _c: r.start and int(r.start.timestamp()),
                "end_time": lambda r, _c: r.end and int(r.end.timestamp()),
                "_": refuse("status")},
        page=PageNumber(page="page", size="size", items="financial_flows_list",
                        default_size=20, as_text=False),
        **LEDGER,
    )  # fmt: skip
    list_payees = bind("portfolio.withdraw_cards",
                       params={"account_no": option("account_id", "account_no")},
                       at="list", many=True, **PAYEE)  # fmt: skip

    @staticmethod
    def _card(payee: m.Payee) -> dict[str, Any]:
        """The card's wire fields: the payee's named ones over its ``raw`` vendor fields
        (bank_id, region, name_en, account_type, country, fps_id, account_no, ...)."""
        named = {"name": payee.name, "account": payee.account_number,
                 "bank_en": payee.bank_name, "swift_code": payee.swift}  # fmt: skip
        return {**dict(payee.raw), **{k: v for k, v in named.items() if v is not None}}

    async def add_payee(self, request: m.AddPayee) -> m.Payee:
        """Add Bank Card answers nothing: the card (and its id) is read back from the list."""
        card = self._card(request.payee)
        card.setdefault("account_no", self.client.profile.option("account_no"))
        await self.client.invoke("portfolio.withdraw_card", card)
        listed = await self.list_payees(m.ListPayees(account_id=card["account_no"]))
        found = [p for p in listed if p.account_number == request.payee.account_number]
        if not found:
            raise NotFound("the added card is not listed", vendor="whale")
        payee: m.Payee = found[-1]
        return payee

    async def update_payee(self, request: m.UpdatePayee) -> m.Payee:
        """Update Bank Card (PUT .../card/{id}) answers nothing: the payee as sent."""
        if not request.payee.payee_id:
            raise InvalidRequest("payee.payee_id is required", field="payee_id", vendor="whale")
        card = {**self._card(request.payee), "id": request.payee.payee_id}
        card.setdefault("account_no", self.client.profile.option("account_no"))
        await self.client.invoke("portfolio.withdraw_card_update", card, read=lambda _d: None)
        return request.payee

    delete_payee = bind("portfolio.withdraw_card_delete",
                        params={"id": "payee_id", "account_no": option(None, "account_no")},
                        **ACK)  # fmt: skip

    async def exchange_rate(self, request: m.ExchangeRateQuery) -> m.ExchangeRate:
        """The rate of the pair in any published table (JSON numbers, read exactly as
        Decimal). An inverse is never computed: it would have to be rounded."""

        def read(data: Any) -> m.ExchangeRate:
            for group in (data.get("universal_exchanges") or {}).values():
                for table in (group.get("spec_exchanges") or {}).values():
                    for x in table.get("exchanges") or ():
                        if (x.get("base_currency"), x.get("other_currency")) == (
                            request.base,
                            request.quote,
                        ):
                            rate = x.get("average_rate", x.get("offer_rate"))
                            return self.client.converter.structure(
                                {"base": request.base, "quote": request.quote, "rate": rate,
                                 "raw": x}, m.ExchangeRate)  # fmt: skip
            raise NotFound(f"no {request.base}/{request.quote} rate published", vendor="whale")

        rate: m.ExchangeRate = await self.client.invoke(
            "portfolio.forex_getexchangerates", {}, read=read
        )
        return rate


class WhaleTrading(TradingPort):
    async def place_order(self, request: m.PlaceOrder) -> m.OrderAck:
        """Place Order has no client order id: the reconciliation key travels in ``remark``
        (the request's ``client_order_id``, else a minted UUID, fixed before the first
        attempt). ``UnknownOutcome.idempotency_key`` is that remark; find the order in
        today's orders by it (:meth:`get_order` with ``client_order_id`` does)."""
        remark = request.client_order_id or self.client.adapter.mint_idempotency_key(
            self.client.catalog["trade.order"]
        )
        params = {
            "symbol": request.instrument, "side": _SIDES[request.side],
            "order_type": _TYPES.get(request.order_type.lower(), request.order_type),
            "submitted_quantity": request.quantity, "submitted_price": request.price,
            "time_in_force": _TIF.get((request.time_in_force or "day").lower(),
                                      request.time_in_force),
            "account_no": ACCOUNT_NO(request, Ctx(self.client, request)), "remark": remark,
            **request.extra,
        }  # fmt: skip
        if request.client_order_id:  # the vendor does not de-duplicate remarks: we do
            self.client.catalog["trade.order"].validate(params, vendor="whale")  # before I/O
            used = await self._by_remark(request.account_id, None, remark)
            if used is not None:
                raise Conflict(f"client_order_id {remark!r} is order {used} of today",
                               vendor="whale")  # fmt: skip
        ack: m.OrderAck = await self.client.invoke(
            "trade.order",
            params,
            read=lambda d: m.OrderAck(
                order_id=str(d["order_id"]), client_order_id=remark, status="submitted", raw=d
            ),
        )
        return ack

    _detail = bind("trade.order_detail", params=_ORDER_REF, **ORDER)
    _today = bind("trade.order_today", params=_ORDERS, page=_ORDER_PAGES, **ORDER)

    async def _order_id(self, request: Any) -> str:
        """The vendor's id, or the order whose remark is the client order id (today's)."""
        if request.order_id:
            return str(request.order_id)
        remark = request.client_order_id
        found = await self._by_remark(
            getattr(request, "account_id", None), request.instrument, remark
        )
        if found is None:
            raise NotFound(f"no order today with remark {remark!r}", vendor="whale")
        return found

    async def _by_remark(
        self, account: str | None, instrument: str | None, remark: Any
    ) -> str | None:
        from brokerport.client import paginate

        query = m.OrderQuery(account_id=account, instrument=instrument)
        async for order in paginate(self._today, query):
            if order.client_order_id == remark:
                return str(order.order_id)
        return None

    async def get_order(self, request: m.OrderRef) -> m.Order:
        """Order Details; by ``client_order_id`` through today's orders (the remark)."""
        order_id = await self._order_id(request)
        order: m.Order = await self._detail(attrs.evolve(request, order_id=order_id))
        return order

    _cancel = bind("trade.order_delete", params=_ORDER_REF,
                   into=m.OrderAck, fields={"order_id": from_request("order_id"),
                                            "status": const("cancel_requested")})  # fmt: skip

    async def cancel_order(self, request: m.OrderRef) -> m.OrderAck:
        """Withdraw Order (DELETE, query); by ``client_order_id`` through today's orders.
        A refused cancel of an order already cancelled is success (a repeated cancel); of
        one otherwise final (filled, rejected, expired) it is ``Conflict``."""
        ref = attrs.evolve(request, order_id=await self._order_id(request))
        try:
            ack: m.OrderAck = await self._cancel(ref)
        except InvalidRequest:
            order = await self.get_order(ref)
            if order.status in ("CanceledStatus", "PartialWithdrawal"):
                return m.OrderAck(order_id=order.order_id, status=order.status, raw=order.raw)
            if order.status in FINAL:
                raise Conflict(
                    f"order {order.order_id} is {order.status}", vendor="whale"
                ) from None
            raise
        return ack

    async def amend_order(self, request: m.AmendOrder) -> m.OrderAck:
        """Modify Order requires ``quantity``: a price-only amendment sends the order's
        current quantity, read first."""
        ref = m.OrderRef(instrument=request.instrument, order_id=request.order_id,
                         client_order_id=request.client_order_id,
                         account_id=request.extra.get("account_no"))  # fmt: skip
        order_id = await self._order_id(ref)
        quantity = request.new_quantity
        if quantity is None:
            quantity = (await self.get_order(attrs.evolve(ref, order_id=order_id))).quantity
        extra = {k: v for k, v in request.extra.items() if k != "account_no"}
        params = {"order_id": order_id, "quantity": quantity, "price": request.new_price,
                  "account_no": ACCOUNT_NO(ref, Ctx(self.client, ref)), **extra}  # fmt: skip
        ack: m.OrderAck = await self.client.invoke(
            "trade.order_update",
            params,
            read=lambda d: m.OrderAck(order_id=order_id, status="amend_requested", raw=d or {}),
        )
        return ack

    open_orders = refine(
        _today, lambda r, _p, _c: attrs.evolve(r, items=[o for o in r.items
                                                          if o.status not in FINAL])
    )  # fmt: skip
    order_history = bind("trade.order_history", params=_HISTORY, page=_ORDER_PAGES, **ORDER)
    _fills: ClassVar[dict[str, Binding]] = {
        "today": bind("trade.execution_today", params={**_ORDERS, "order_id": "order_id"},
                      at="trades", many=True, **FILL),
        "history": bind("trade.execution_history", params=_FILLS, page=_FILL_PAGES, **FILL),
        "v2": bind("trade.execution_history_v2", params=_FILLS, page=_FILL_PAGES, **FILL),
        "v3": bind("trade.execution_all_v3", params={**_FILLS, "order_id": "order_id"},
                   page=_FILL_PAGES, **FILL),
    }  # fmt: skip

    async def fills(self, request: m.OrderQuery) -> m.Page[m.Fill]:
        """Fills in all their versions: ``extra["version"]`` (or profile option
        ``fills_version``) ``today`` / ``history`` / ``v2`` / ``v3`` (default: v3, the
        one that covers today and history). ``extra["order_id"]`` narrows v3 and today."""
        extra = dict(request.extra)
        version = extra.pop("version", None) or self.client.profile.option("fills_version") or "v3"
        binding: Binding | None = self._fills.get(version)
        if binding is None:
            raise InvalidRequest(f"fills version {version!r}", field="version", vendor="whale")
        req = attrs.evolve(request, extra={k: v for k, v in extra.items() if k != "order_id"})
        req = _with(req, order_id=extra.get("order_id"))
        result = await binding(self, req)
        page: m.Page[m.Fill] = result if isinstance(result, m.Page) else m.Page(items=result)
        return page

    positions = refine(
        bind("asset.stock_info", params={**_ACCT, "_": refuse("server_id", "platform")},
             at="stock_list", many=True, **POSITION),
        keep(instrument="instrument"), as_page,
    )  # fmt: skip
    _buy_power = bind("asset.risk_buy_power", params=_ACCT, into=m.BuyingPower,
                      fields={"account_id": from_request("account_id"), "currency": "currency",
                              "buying_power": "buy_power"})  # fmt: skip
    _max_qty = bind(
        "trade.estimate_buy_limit",
        params={**_ACCT, "symbol": "instrument", "price": "price",
                "side": lambda r, _c: _SIDES[r.side or "buy"],
                "order_type": lambda r, _c: "LO" if r.price is not None else "MO"},
        into=m.BuyingPower,
        fields={"account_id": from_request("account_id"), "max_quantity": "cash_max_qty"},
    )  # fmt: skip

    async def buying_power(self, request: m.BuyingPowerQuery) -> m.BuyingPower:
        """Buy power of the account, or with ``instrument`` the estimated maximum
        quantity (cash; the margin figure stays in ``raw``)."""
        binding = self._max_qty if request.instrument else self._buy_power
        result: m.BuyingPower = await binding(request)
        return result


def _with(request: Any, **fields: Any) -> Any:
    """``request`` with attributes a binding reads that its model lacks."""

    class View:
        def __getattr__(self, name: str) -> Any:
            return fields[name] if name in fields else getattr(request, name)

    return View()


class WhaleKeys(KeyMgmtPort):
    create = bind(
        "account.accesskeys_create",
        params={"account_no": "owner", "ip_whitelist": lambda r, _c: list(r.ips) or None,
                "_": refuse("passphrase"),
                "__": lambda r, c: _only_read(r.permissions, c)},
        at="access_key", **APIKEY,
    )  # fmt: skip
    _list = bind("account.accesskeys", params={"account_no": "owner"},
                 at="access_keys", many=True, **APIKEY)  # fmt: skip
    _get = bind("account.accesskeys_detail", params=_KEY, at="access_key", **APIKEY)

    async def list(self, request: m.ListApiKeys) -> tuple[m.ApiKey, ...]:
        """List Access Keys of the owner's account, or with ``api_key`` GetAccessKey."""
        if request.api_key:
            return (await self._get(request),)
        keys: tuple[m.ApiKey, ...] = await self._list(request)
        return keys

    update = bind(
        "account.accesskeys_update",
        params={**_KEY, "ip_whitelist": lambda r, _c: list(r.ips or ()),
                "_": refuse("label", "permissions")},
        at="access_key", **APIKEY,
    )  # fmt: skip
    disable = bind("account.accesskeys_disable", params=_KEY, **ACK)
    enable = bind("account.accesskeys_enable", params=_KEY, **ACK)

    def _target(self) -> tuple[str, Secret | None]:
        signer: Any = self.client.signer
        key = self.client.profile.option("access_key_id") or signer.key.reveal()
        return key, signer.token

    async def renew_token(self, request: m.RenewToken) -> m.SessionToken:
        """Renew Access Token of the key this client signs with (or profile option
        ``access_key_id``): the old token (``refresh_token``, else the client's) is
        disabled at once, so the client signs with the new one from its next call.
        ``expired_at``: now + profile option ``token_ttl_days`` (default 30)."""
        key, current = self._target()
        old = request.refresh_token or current
        if old is None:
            raise InvalidRequest("no token to renew", field="refresh_token", vendor="whale")
        days = int(self.client.profile.option("token_ttl_days") or 30)
        expires = datetime.now(UTC) + timedelta(days=days)
        params = {"access_key_id": key, "token": old,
                  "expired_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
        reader = Binding(endpoint="", at="token", **TOKEN)
        ctx = Ctx(self.client, request)
        token: m.SessionToken = await self.client.invoke(
            "account.accesskeys_token", params, read=lambda d: reader.read(d, ctx)
        )
        signer: Any = self.client.signer
        if current is not None and old.reveal() == current.reveal():
            signer.token = token.access_token
        return token

    async def revoke_token(self, request: m.RenewToken) -> m.Ack:
        """Revoke Access Token ``refresh_token`` (else the client's own) of the signing key."""
        key, current = self._target()
        token = request.refresh_token or current
        if token is None:
            raise InvalidRequest("no token to revoke", field="refresh_token", vendor="whale")
        await self.client.invoke(
            "account.accesskeys_token_delete", {"access_key_id": key, "token": token}
        )
        return m.Ack(ok=True, reference=key)


def _only_read(permissions: tuple[str, ...], ctx: Ctx) -> None:
    """WhaleAPI keys have no permission scopes: anything but the default is refused."""
    if tuple(permissions) not in ((), ("read",)):
        raise InvalidRequest(
            "WhaleAPI access keys have no permission scopes", field="permissions", vendor=ctx.vendor
        )
