"""Acme's implementations of the core ports.

Each method maps a vendor-neutral request model to Acme's wire parameters and
runs one catalog endpoint through the pipeline with ``client.invoke``. The
pipeline validates those parameters against the catalog rules before any
I/O, signs, sends, maps errors and, with ``into=``, structures the result.
"""

from __future__ import annotations

from typing import Any

from brokerport import models as m
from brokerport.errors import InvalidRequest, NotFound
from brokerport.ports import FundingPort, SubAccountPort

__all__ = ["AcmeFunding", "AcmeSubAccounts"]


class AcmeSubAccounts(SubAccountPort):
    async def create(self, request: m.CreateSubAccount) -> m.SubAccount:
        params = {"name": request.name, "label": request.label}  # None values are left out
        result: m.SubAccount = await self.client.invoke(
            "subaccount.create", params, into=m.SubAccount
        )
        return result

    async def delete(self, request: m.SubAccountRef) -> m.Ack:
        data = await self.client.invoke("subaccount.delete", {"name": request.name})
        return m.Ack(reference=request.name, raw=data)

    async def list(self, request: m.ListSubAccounts) -> m.Page[m.SubAccount]:
        if request.name is not None:
            # Acme's listing has no name filter, but a lookup by name does the job.
            try:
                one = await self.client.invoke(
                    "subaccount.get", {"name": request.name}, into=m.SubAccount
                )
            except NotFound:
                return m.Page(items=())
            return m.Page(items=(one,))
        page: m.Page[m.SubAccount] = await self.client.invoke(
            "subaccount.list",
            {"cursor": request.cursor, "limit": request.limit},
            into=m.Page[m.SubAccount],
        )
        return page


def _refuse(request: Any, *fields: str) -> None:
    """Acme cannot honour these fields: refuse them rather than silently ignore a filter."""
    for field in fields:
        if getattr(request, field) is not None:
            raise InvalidRequest(
                f"acme does not support {field!r} here", field=field, vendor="acme"
            )


class AcmeFunding(FundingPort):
    async def balances(self, request: m.GetBalances) -> tuple[m.Balance, ...]:
        _refuse(request, "server_id", "platform")
        result: tuple[m.Balance, ...] = await self.client.invoke(
            "funding.balances",
            {"account": request.account_id, "currency": request.currency},
            into=tuple[m.Balance, ...],
        )
        return result

    async def request_deposit(self, request: m.DepositRequest) -> m.DepositTicket:
        _refuse(request, "pay_currency", "user_id", "server_id", "platform")
        result: m.DepositTicket = await self.client.invoke(
            "funding.deposit",
            self._money_move(request),
            # A host may choose the reference (extra={"client_ref": ...}); otherwise
            # the pipeline mints one, once, before the first attempt.
            idempotency_key=request.extra.get("client_ref"),
            into=m.DepositTicket,
        )
        return result

    async def request_withdrawal(self, request: m.WithdrawalRequest) -> m.WithdrawalTicket:
        _refuse(request, "pay_currency", "payee", "user_id", "server_id")
        result: m.WithdrawalTicket = await self.client.invoke(
            "funding.withdraw",
            self._money_move(request),
            idempotency_key=request.extra.get("client_ref"),
            into=m.WithdrawalTicket,
        )
        return result

    async def deposit_history(self, request: m.FundingHistoryQuery) -> m.Page[m.FundingRecord]:
        return await self._history("funding.deposits", request)

    async def withdrawal_history(self, request: m.FundingHistoryQuery) -> m.Page[m.FundingRecord]:
        return await self._history("funding.withdrawals", request)

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _money_move(request: m.DepositRequest | m.WithdrawalRequest) -> dict[str, Any]:
        # The amount stays a Decimal: the catalog rule checks its decimal places,
        # and the core serializes it as an exact string ("100.25"), never a float.
        return {
            "account": request.account_id,
            "amount": request.amount,
            "currency": request.currency,
        }

    async def _history(
        self, endpoint: str, request: m.FundingHistoryQuery
    ) -> m.Page[m.FundingRecord]:
        _refuse(request, "user_id", "status", "start", "end")
        params = {
            "account": request.account_id,
            "currency": request.currency,
            "client_ref": request.extra.get("client_ref"),  # find one operation by its key
            "cursor": request.cursor,
            "limit": request.limit,
        }
        page: m.Page[m.FundingRecord] = await self.client.invoke(
            endpoint, params, into=m.Page[m.FundingRecord]
        )
        return page
