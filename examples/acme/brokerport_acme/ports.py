"""Acme's port operations as bindings: endpoint, wire parameter sources, model fields.

The core builds the request, walks pages and reads the answer inside the call.
``request.extra`` is sent too: how a host brings its own ``client_ref``.
"""

from __future__ import annotations

from brokerport import models as m
from brokerport.binding import Ctx, bind, refuse
from brokerport.errors import NotFound
from brokerport.paging import Cursor
from brokerport.ports import FundingPort, SubAccountPort, TradingPort

__all__ = ["AcmeFunding", "AcmeSubAccounts", "AcmeTrading"]


def wire(*same: str, **renamed: str) -> dict[str, str]:
    """Model field -> wire key (``same``: the names match)."""
    return {**{name: name for name in same}, **renamed}


SUBACCOUNT = wire("name", "label", "status", "created_at", account_id="id")
MONEY = wire("amount", "currency", "status", account_id="account")
RECORD = wire("created_at", record_id="id", kind="type", **MONEY)
BALANCE = wire("currency", "total", "available", account_id="account")
DEPOSIT, WITHDRAWAL = wire(deposit_id="id", **MONEY), wire(withdrawal_id="id", **MONEY)
# Listings: ?cursor=&limit= -> {"items": [...], "next_cursor": "..." or null}
PAGES = Cursor(items="items")
SUBACCOUNTS = bind("subaccount.list", page=PAGES, into=m.SubAccount, fields=SUBACCOUNT)
MOVE = {"account": "account_id", "amount": "amount", "currency": "currency"}
# refuse(): a field Acme cannot honour is an InvalidRequest, never silently dropped
HISTORY = {"account": "account_id", "currency": "currency"}
FILTERS = {**HISTORY, "_": refuse("user_id", "status", "start", "end")}
ORDER = wire("instrument", "side", "quantity", "price", "status", "client_order_id")
ORDER |= wire("created_at", order_id="id", order_type="type", filled_quantity="filled")
ACK = wire("status", "client_order_id", order_id="id")
PLACE = {**wire("instrument", "side", "quantity", "price", "client_order_id", type="order_type"),
         "_": refuse("account_id", "time_in_force")}  # fmt: skip
BY_ID = {"id": "order_id", "_": refuse("client_order_id", "account_id")}
AMEND = {**BY_ID, "quantity": "new_quantity", "price": "new_price"}
GET = {"id": "order_id", "client_order_id": "client_order_id", "_": refuse("account_id")}
OPEN = {"instrument": "instrument", "_": refuse("account_id", "start", "end", "server_id")}


class AcmeSubAccounts(SubAccountPort):
    create = bind("subaccount.create", params=wire("name", "label"), into=m.SubAccount,
                  fields=SUBACCOUNT)  # fmt: skip
    delete = bind(
        "subaccount.delete", params=wire("name"), into=m.Ack, fields=wire(reference="name")
    )

    async def list(self, request: m.ListSubAccounts) -> m.Page[m.SubAccount]:
        """Hand-written: Acme's listing has no name filter, so a name is looked up with
        ``subaccount.get`` (an unknown name: an empty page)."""
        if request.name is None:
            return await SUBACCOUNTS(self, request)  # type: ignore[no-any-return]
        ctx = Ctx(self.client, request)
        try:
            return await self.client.invoke(  # type: ignore[no-any-return]
                "subaccount.get", {"name": request.name}, read=lambda sub: m.Page(items=(
                    SUBACCOUNTS.model(sub, ctx),)))  # fmt: skip
        except NotFound:
            return m.Page(items=())


class AcmeFunding(FundingPort):
    balances = bind("funding.balances", params={**HISTORY, "_": refuse("server_id", "platform")},
                    many=True, into=m.Balance, fields=BALANCE)  # fmt: skip
    request_deposit = bind("funding.deposit", params={**MOVE, "_": refuse("pay_currency",
        "user_id", "server_id", "platform")}, into=m.DepositTicket, fields=DEPOSIT)  # fmt: skip
    request_withdrawal = bind("funding.withdraw", params={**MOVE, "_": refuse("pay_currency",
        "payee", "user_id", "server_id")}, into=m.WithdrawalTicket, fields=WITHDRAWAL)  # fmt: skip
    deposit_history = bind("funding.deposits", params=FILTERS, page=PAGES, into=m.FundingRecord,
                           fields=RECORD)  # fmt: skip
    withdrawal_history = bind("funding.withdrawals", params=FILTERS, page=PAGES,
                              into=m.FundingRecord, fields=RECORD)  # fmt: skip


class AcmeTrading(TradingPort):
    place_order = bind("order.place", params=PLACE, into=m.OrderAck, fields=ACK)
    amend_order = bind("order.amend", params=AMEND, into=m.OrderAck, fields=ACK)
    cancel_order = bind("order.cancel", params=BY_ID, into=m.OrderAck, fields=ACK)
    get_order = bind("order.get", params=GET, into=m.Order, fields=ORDER)
    open_orders = bind("order.open", params=OPEN, page=PAGES, into=m.Order, fields=ORDER)
