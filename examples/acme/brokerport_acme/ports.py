"""Acme's port operations, declared as bindings (see ``brokerport.binding``).

A binding names the catalog endpoint, where each wire parameter comes from and
the model the answer becomes (renamed by the adapter's converter, the vendor's
object kept in ``raw``). The core builds and validates the request, walks pages
and reads the answer inside the call: an unreadable answer to a write is
``UnknownOutcome``, never a guess. ``request.extra`` is merged into the wire
parameters, which is how a host passes its own ``client_ref``.
"""

from __future__ import annotations

from brokerport import models as m
from brokerport.binding import Ctx, bind, refuse
from brokerport.errors import NotFound
from brokerport.paging import Cursor
from brokerport.ports import FundingPort, SubAccountPort

__all__ = ["AcmeFunding", "AcmeSubAccounts"]

# Listings: ?cursor=&limit= -> {"items": [...], "next_cursor": "..." or null}
PAGES = Cursor(items="items")
SUBACCOUNTS = bind("subaccount.list", page=PAGES, into=m.SubAccount)
# client_ref, the catalog's idempotency_param, is minted by the pipeline once per call
MONEY_MOVE = {"account": "account_id", "amount": "amount", "currency": "currency"}
HISTORY = {"account": "account_id", "currency": "currency"}


class AcmeSubAccounts(SubAccountPort):
    create = bind("subaccount.create", params={"name": "name", "label": "label"}, into=m.SubAccount)
    delete = bind(
        "subaccount.delete", params={"name": "name"}, into=m.Ack, fields={"reference": "name"}
    )

    async def list(self, request: m.ListSubAccounts) -> m.Page[m.SubAccount]:
        """Hand-written: Acme's listing has no name filter, so a name is looked up
        with ``subaccount.get`` and an unknown name is an empty page."""
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
    # refuse(): fields Acme cannot honour raise InvalidRequest instead of being dropped
    balances = bind(
        "funding.balances",
        params={**HISTORY, "_": refuse("server_id", "platform")},
        many=True,
        into=m.Balance,
    )
    request_deposit = bind(
        "funding.deposit",
        params={**MONEY_MOVE, "_": refuse("pay_currency", "user_id", "server_id", "platform")},
        into=m.DepositTicket,
    )
    request_withdrawal = bind(
        "funding.withdraw",
        params={**MONEY_MOVE, "_": refuse("pay_currency", "payee", "user_id", "server_id")},
        into=m.WithdrawalTicket,
    )
    deposit_history = bind(
        "funding.deposits",
        params={**HISTORY, "_": refuse("user_id", "status", "start", "end")},
        page=PAGES,
        into=m.FundingRecord,
    )
    withdrawal_history = bind(
        "funding.withdrawals",
        params={**HISTORY, "_": refuse("user_id", "status", "start", "end")},
        page=PAGES,
        into=m.FundingRecord,
    )
