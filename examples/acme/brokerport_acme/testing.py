"""Sample data for the conformance kit (named by ``AcmeAdapter.samples``).

The kit cannot invent valid Acme input, so the plugin says what a valid
sub-account, deposit or withdrawal looks like, which inputs must be refused
before I/O, and which calls the vendor answers with which error code.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from brokerport import models as m
from brokerport.errors import Conflict, InsufficientFunds, NotFound
from brokerport.testing.samples import ErrorCase, InvalidCase, PagedCase, Samples

if TYPE_CHECKING:
    from brokerport.client import Client
    from brokerport.testing.sandbox import Sandbox

__all__ = ["AcmeSamples"]


class AcmeSamples(Samples):
    timestamp_window = 10.0  # Acme refuses timestamps more than 10 s off

    def __init__(self, client: Client, sandbox: Sandbox | None) -> None:
        super().__init__(client, sandbox)
        self.tag = secrets.token_hex(3)  # keeps names unique across runs on one vendor
        self.prepared: set[str] = set()  # deposit ids prepare() made

    async def prepare(self) -> None:
        """A funded sub-account for the funding contracts."""
        funds = self.funding_account()
        found = await self.client.subaccounts.list(m.ListSubAccounts(name=funds))
        if not found.items:
            await self.client.subaccounts.create(m.CreateSubAccount(name=funds))
            ticket = await self.client.funding.request_deposit(
                m.DepositRequest(account_id=funds, amount=Decimal("1000.00"), currency="USD")
            )
            self.prepared.add(ticket.deposit_id)

    def create_subaccount(self, n: int) -> m.CreateSubAccount:
        return m.CreateSubAccount(name=f"sub{n:03d}{self.tag}", label=f"sample {n}")

    def funding_account(self) -> str:
        return f"funds{self.tag}"

    def deposit(self, account_id: str, n: int = 0) -> m.DepositRequest:
        return m.DepositRequest(account_id=account_id, amount=Decimal("10.25") + n, currency="USD")

    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        return m.WithdrawalRequest(account_id=account_id, amount=Decimal("1.10"), currency="USD")

    async def paged_cases(self) -> list[PagedCase]:
        """Seed each listing with more than one page (limit=2) and say what it must hold."""
        c, account = self.client, self.funding_account()
        page = await c.subaccounts.list(m.ListSubAccounts(limit=50))
        names = {s.name for s in page.items}  # what exists already
        deposits, withdrawals = set(), set()
        for n in range(5):
            sub = await c.subaccounts.create(m.CreateSubAccount(name=f"pg{n}{self.tag}"))
            names.add(sub.name)
            deposits.add((await c.funding.request_deposit(self.deposit(account, n))).deposit_id)
            ticket = await c.funding.request_withdrawal(self.withdrawal(account, n))
            withdrawals.add(str(ticket.withdrawal_id))
        query = m.FundingHistoryQuery(account_id=account, limit=2)
        return [
            PagedCase(
                "subaccounts.list",
                c.subaccounts.list,
                m.ListSubAccounts(limit=2),
                frozenset(names),
                lambda s: s.name,
            ),
            # a fresh sandbox per test: the funding account's whole history is known
            PagedCase(
                "funding.deposit_history",
                c.funding.deposit_history,
                query,
                frozenset(deposits | self.prepared),
                lambda r: r.record_id,
            ),
            PagedCase(
                "funding.withdrawal_history",
                c.funding.withdrawal_history,
                query,
                frozenset(withdrawals),
                lambda r: r.record_id,
            ),
        ]

    def invalid_cases(self) -> list[InvalidCase]:
        account = self.funding_account()
        return [
            InvalidCase(
                "subaccounts.create",
                lambda c: c.subaccounts.create(m.CreateSubAccount(name="Not_Valid")),
                "names are lower-case letters/digits",
            ),
            InvalidCase(
                "subaccounts.list",
                lambda c: c.subaccounts.list(m.ListSubAccounts(limit=51)),
                "page size is at most 50",
            ),
            InvalidCase(
                "funding.request_deposit",
                lambda c: c.funding.request_deposit(
                    m.DepositRequest(account_id=account, amount=Decimal("1.005"), currency="USD")
                ),
                "amounts have at most 2 decimals",
            ),
            InvalidCase(
                "funding.request_withdrawal",
                lambda c: c.funding.request_withdrawal(
                    m.WithdrawalRequest(account_id=account, amount=Decimal("1"), currency="usd")
                ),
                "currencies are 3 upper-case letters",
            ),
        ]

    def error_cases(self) -> list[ErrorCase]:
        account = self.funding_account()
        return [
            ErrorCase(
                "unknown sub-account",
                "subaccounts.delete",
                lambda c: c.subaccounts.delete(m.SubAccountRef(name=f"nosuch{self.tag}")),
                NotFound,
                "ACME-4040",
            ),
            ErrorCase(
                "duplicate sub-account",
                "subaccounts.create",
                lambda c: c.subaccounts.create(m.CreateSubAccount(name=account)),
                Conflict,
                "ACME-4090",
            ),
            ErrorCase(
                "withdraw too much",
                "funding.request_withdrawal",
                lambda c: c.funding.request_withdrawal(
                    m.WithdrawalRequest(
                        account_id=account, amount=Decimal("99999999"), currency="USD"
                    )
                ),
                InsufficientFunds,
                "ACME-4220",
            ),
        ]

    def read_call(self) -> tuple[str, dict[str, Any]]:
        return "subaccount.list", {"limit": 5}

    def write_call(self, n: int) -> tuple[str, dict[str, Any]]:
        # The write that must never be sent twice: a withdrawal (client_ref is minted).
        account = self.funding_account()
        return "funding.withdraw", {"account": account, "amount": "1.00", "currency": "USD"}
