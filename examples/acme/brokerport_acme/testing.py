"""Sample data for the conformance kit and ``brokerport demo`` (``AcmeAdapter.samples``):
valid requests, inputs refused before I/O, and calls Acme answers with an error code.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

from brokerport import errors as e
from brokerport import models as m
from brokerport.testing.samples import ErrorCase, InvalidCase, PagedCase, Samples

if TYPE_CHECKING:
    from brokerport.client import Client
    from brokerport.testing.sandbox import Sandbox

__all__ = ["AcmeSamples"]
T = TypeVar("T")


def calling(operation: str, request: Any) -> Callable[[Client], Awaitable[Any]]:
    """``client.<port>.<method>(request)``, for a case."""
    port, method = operation.split(".")
    return lambda client: getattr(getattr(client, port), method)(request)


def move(cls: Callable[..., T], account: str, amount: Decimal | str, currency: str = "USD") -> T:
    """A deposit or withdrawal request."""
    return cls(account_id=account, amount=Decimal(amount), currency=currency)


class AcmeSamples(Samples):
    timestamp_window = 10.0  # Acme refuses timestamps more than 10 s off

    def __init__(self, client: Client, sandbox: Sandbox | None) -> None:
        super().__init__(client, sandbox)
        self.tag = secrets.token_hex(3)  # keeps names unique across runs on one vendor
        self.prepared: set[str] = set()  # deposit ids prepare() made

    async def prepare(self) -> None:
        """A funded sub-account for the funding contracts."""
        funds = self.funding_account()
        if not (await self.client.subaccounts.list(m.ListSubAccounts(name=funds))).items:
            await self.client.subaccounts.create(m.CreateSubAccount(name=funds))
            ticket = await self.client.funding.request_deposit(
                move(m.DepositRequest, funds, "1000.00")
            )
            self.prepared.add(ticket.deposit_id)

    def create_subaccount(self, n: int) -> m.CreateSubAccount:
        return m.CreateSubAccount(name=f"sub{n:03d}{self.tag}", label=f"sample {n}")

    def funding_account(self) -> str:
        return f"funds{self.tag}"

    def deposit(self, account_id: str, n: int = 0) -> m.DepositRequest:
        return move(m.DepositRequest, account_id, Decimal("10.25") + n)

    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        return move(m.WithdrawalRequest, account_id, "1.10")

    async def paged_cases(self) -> list[PagedCase]:
        """Each listing seeded past one page (limit=2), and what it must hold."""
        c, f, account = self.client, self.client.funding, self.funding_account()
        names = {s.name for s in (await c.subaccounts.list(m.ListSubAccounts(limit=50))).items}
        ins, outs = set(self.prepared), set()  # deposit, withdrawal ids (a fresh sandbox)
        for n in range(5):
            names.add((await c.subaccounts.create(self.create_subaccount(100 + n))).name)
            ins.add((await f.request_deposit(self.deposit(account, n))).deposit_id)
            out = await f.request_withdrawal(self.withdrawal(account, n))
            outs.add(str(out.withdrawal_id))
        subs, query = m.ListSubAccounts(limit=2), m.FundingHistoryQuery(account_id=account, limit=2)
        return [
            PagedCase(op, call, request, frozenset(expected), attrgetter(key))
            for op, call, request, expected, key in (
                ("subaccounts.list", c.subaccounts.list, subs, names, "name"),
                ("funding.deposit_history", f.deposit_history, query, ins, "record_id"),
                ("funding.withdrawal_history", f.withdrawal_history, query, outs, "record_id"),
            )
        ]

    def invalid_cases(self) -> list[InvalidCase]:
        funds = self.funding_account()
        return [
            InvalidCase(op, calling(op, request), why)
            for op, request, why in (
                ("subaccounts.create", m.CreateSubAccount(name="Not_Valid"), "names are a-z0-9"),
                ("subaccounts.list", m.ListSubAccounts(limit=51), "page size is at most 50"),
                ("funding.request_deposit", move(m.DepositRequest, funds, "1.005"), "2 decimals"),
                ("funding.request_withdrawal", move(m.WithdrawalRequest, funds, "1", "usd"), "USD"),
            )
        ]

    def error_cases(self) -> list[ErrorCase]:
        funds = self.funding_account()
        nobody = m.SubAccountRef(name=f"nosuch{self.tag}")
        duplicate = m.CreateSubAccount(name=funds)
        big = move(m.WithdrawalRequest, funds, "99999999")
        return [
            ErrorCase(name, op, calling(op, request), error, code)
            for name, op, request, error, code in (
                ("unknown sub-account", "subaccounts.delete", nobody, e.NotFound, "ACME-4040"),
                ("duplicate sub-account", "subaccounts.create", duplicate, e.Conflict, "ACME-4090"),
                ("overdraft", "funding.request_withdrawal", big, e.InsufficientFunds, "ACME-4220"),
            )
        ]

    def read_call(self) -> tuple[str, dict[str, Any]]:
        return "subaccount.list", {"limit": 5}

    def write_call(self, n: int) -> tuple[str, dict[str, Any]]:
        # The write that must never be sent twice: a withdrawal (client_ref is minted).
        account = self.funding_account()
        return "funding.withdraw", {"account": account, "amount": "1.00", "currency": "USD"}
