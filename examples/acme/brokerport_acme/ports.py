"""Acme's port operations as bindings: endpoint, wire parameter sources, model fields.

The core builds the request, walks pages and reads the answer inside the call.
``request.extra`` is sent too: how a host brings its own ``client_ref``.
"""

from __future__ import annotations

from brokerport import models as m
from brokerport.binding import Ctx, bind, refuse
from brokerport.errors import NotFound
from brokerport.paging import Cursor
from brokerport.ports import FundingPort, SubAccountPort

__all__ = ["AcmeFunding", "AcmeSubAccounts"]


def wire(*same: str, **renamed: str) -> dict[str, str]:
    """Model field -> wire key (``same``: the names match)."""
    return {**{name: name for name in same}, **renamed}


SUBACCOUNT = wire("name", "label", "status", "created_at", account_id="id")
MONEY = wire("amount", "currency", "status", account_id="account")
RECORD = wire("created_at", record_id="id", kind="type", **MONEY)
# Listings: ?cursor=&limit= -> {"items": [...], "next_cursor": "..." or null}
PAGES = Cursor(items="items")
SUBACCOUNTS = bind("subaccount.list", page=PAGES, into=m.SubAccount, fields=SUBACCOUNT)
MOVE = {"account": "account_id", "amount": "amount", "currency": "currency"}
# refuse(): a field Acme cannot honour is an InvalidRequest, never silently dropped
HISTORY = {"account": "account_id", "currency": "currency"}
FILTERS = {**HISTORY, "_": refuse("user_id", "status", "start", "end")}


class AcmeSubAccounts(SubAccountPort):
    create = bind(
        "subaccount.create",
        params={"name": "name", "label": "label"},
        into=m.SubAccount,
        fields=SUBACCOUNT,
    )
    delete = bind(
        "subaccount.delete", params={"name": "name"}, into=m.Ack, fields=wire(reference="name")
    )

    async def list(self, request: m.ListSubAccounts) -> m.Page[m.SubAccount]:
        """Hand-written: Acme's listing has no name filter, so a name is looked up
        with ``subaccount.get``, and an unknown name is an empty page."""
        if request.name is None:
            page: m.Page[m.SubAccount] = await SUBACCOUNTS(self, request)
            return page
        ctx = Ctx(self.client, request)
        try:
            found: m.Page[m.SubAccount] = await self.client.invoke(
                "subaccount.get",
                {"name": request.name},
                read=lambda sub: m.Page(items=(SUBACCOUNTS.model(sub, ctx),)),
            )
        except NotFound:
            return m.Page(items=())
        return found


class AcmeFunding(FundingPort):
    balances = bind(
        "funding.balances",
        params={**HISTORY, "_": refuse("server_id", "platform")},
        many=True,
        into=m.Balance,
        fields=wire("currency", "total", "available", account_id="account"),
    )
    request_deposit = bind(
        "funding.deposit",
        params={**MOVE, "_": refuse("pay_currency", "user_id", "server_id", "platform")},
        into=m.DepositTicket,
        fields=wire(deposit_id="id", **MONEY),
    )
    request_withdrawal = bind(
        "funding.withdraw",
        params={**MOVE, "_": refuse("pay_currency", "payee", "user_id", "server_id")},
        into=m.WithdrawalTicket,
        fields=wire(withdrawal_id="id", **MONEY),
    )
    deposit_history = bind(
        "funding.deposits", params=FILTERS, page=PAGES, into=m.FundingRecord, fields=RECORD
    )
    withdrawal_history = bind(
        "funding.withdrawals", params=FILTERS, page=PAGES, into=m.FundingRecord, fields=RECORD
    )
