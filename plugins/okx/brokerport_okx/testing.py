"""Sample data for the brokerport conformance kit and the demo (OKX sandbox)."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import Conflict, NotFound
from brokerport.profile import Profile
from brokerport.testing.samples import ErrorCase, InvalidCase, PagedCase, Samples

__all__ = ["OkxSamples"]

_counter = itertools.count(1)


def _name(prefix: str, n: int) -> str:
    return f"{prefix}{n:04d}x{next(_counter):04d}"


#: The order :meth:`OkxSamples.prepare` places so that :meth:`read_call` has one to read.
READ_ORDER = "kitread01"


class OkxSamples(Samples):
    timestamp_window = 30.0

    async def prepare(self) -> None:
        """Place one order so the signed read (trade.get_order, 60 / 2 s) has a target."""
        with contextlib.suppress(Conflict):
            await self.client.call(
                "trade.place_order",
                instId="BTC-USDT",
                tdMode="cash",
                side="buy",
                ordType="limit",
                sz="1",
                px="1",
                clOrdId=READ_ORDER,
            )

    def create_subaccount(self, n: int) -> m.CreateSubAccount:
        return m.CreateSubAccount(name=_name("kitsub", n), label=f"kit{n}")

    async def key_owner(self) -> str:
        sub = await self.client.subaccounts.create(m.CreateSubAccount(name=_name("kitown", 0)))
        return sub.name

    def create_api_key(self, owner: str) -> m.CreateApiKey:
        return m.CreateApiKey(
            owner=owner, label="kitkey1", passphrase="Kit-pass1!", permissions=("read", "trade")
        )

    def funding_account(self) -> str:
        return "kitfund0001"

    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        """On chain (dest 4, the default) from the sub-account's funding account."""
        address = "TXkit" + "0" * 28 + str(n)
        return m.WithdrawalRequest(
            account_id=account_id,
            amount=Decimal("10") + n,
            currency="USDT",
            payee=m.Payee(name="kit", account_number=address),
            extra={"chain": "USDT-TRC20", "clientId": f"kitwd{n}x{next(_counter)}"},
        )

    @contextlib.asynccontextmanager
    async def withdrawal_client(self, account_id: str) -> AsyncIterator[Client]:
        """A DMA sub-account withdraws with its own API key: create the sub-account and a
        key with withdraw permission, fund it (sandbox helper), connect with that key."""
        with contextlib.suppress(Conflict):
            await self.client.subaccounts.create(m.CreateSubAccount(name=account_id))
        key = await self.client.keys.create(
            m.CreateApiKey(
                owner=account_id,
                label=f"wd{next(_counter)}",
                passphrase="Kit-pass1!",
                permissions=("read", "withdraw"),
            )
        )
        sandbox: Any = self.sandbox
        if sandbox is not None:
            sandbox.add_deposit(account_id, "USDT", "1000")
        profile = self.client.profile
        secret = key.secret_key.reveal() if key.secret_key else ""
        creds = {"api_key": key.api_key, "secret_key": secret, "passphrase": "Kit-pass1!"}
        own = Profile(vendor="okx", name="kit-withdrawal", base_url=profile.base_url,
                      credentials=creds, options=dict(profile.options))  # fmt: skip
        async with Client(self.client.adapter_cls, own) as client:
            yield client

    def place_order(self, n: int = 0) -> m.PlaceOrder:
        return m.PlaceOrder(
            instrument="BTC-USDT",
            side="buy",
            order_type="limit",
            quantity=Decimal("0.01"),
            price=Decimal("100") + n,
            extra={"tdMode": "cash"},
        )

    async def paged_cases(self) -> list[PagedCase]:
        c = self.client
        names = [_name("kitpage", i) for i in range(5)]
        for name in names:
            await c.subaccounts.create(m.CreateSubAccount(name=name))
        sandbox: Any = self.sandbox
        deposits: set[str] = set()
        withdrawals: set[str] = set()
        if sandbox is not None:
            base = sandbox.clock.now_ms() - 100_000
            for i in range(5):
                deposits.add(
                    sandbox.add_deposit(names[0], "BTC", f"0.{i + 1}", ts=base + i)["depId"]
                )
                withdrawals.add(
                    sandbox.add_withdrawal(names[0], "ETH", f"1.{i}", ts=base + i)["wdId"]
                )
        cases = [
            PagedCase(
                "subaccounts.list",
                c.subaccounts.list,
                m.ListSubAccounts(limit=2),
                frozenset(names),
                lambda s: s.name,
            ),
            PagedCase(
                "subaccounts.fee_rates",
                c.subaccounts.fee_rates,
                m.FeeRateQuery(instrument_type="all", limit=2),
                frozenset(f"{n}:{t}" for n in names for t in "123456789"),
                lambda f: f"{f.name}:{f.instrument_type}",
            ),
        ]
        if sandbox is not None:
            cases += [
                PagedCase(
                    "funding.deposit_history",
                    c.funding.deposit_history,
                    m.FundingHistoryQuery(account_id=names[0], limit=2),
                    frozenset(deposits),
                    lambda r: r.record_id,
                ),
                PagedCase(
                    "funding.withdrawal_history",
                    c.funding.withdrawal_history,
                    m.FundingHistoryQuery(account_id=names[0], limit=2),
                    frozenset(withdrawals),
                    lambda r: r.record_id,
                ),
            ]
        return cases

    def invalid_cases(self) -> list[InvalidCase]:
        def sub(name: str) -> Any:
            return lambda c: c.subaccounts.create(m.CreateSubAccount(name=name))

        def key(passphrase: str) -> Any:
            return lambda c: c.keys.create(
                m.CreateApiKey(
                    owner="kitowner01", label="k1", passphrase=passphrase, permissions=("read",)
                )
            )

        return [
            InvalidCase("subaccounts.create", sub("12345678"), "all-digit name"),
            InvalidCase("subaccounts.create", sub("abc"), "name shorter than 6"),
            InvalidCase("subaccounts.create", sub("bad_name_1"), "name with underscore"),
            InvalidCase("keys.create", key("weakpass"), "passphrase without upper/digit/special"),
            InvalidCase(
                "subaccounts.set_level",
                lambda c: c.subaccounts.set_level(m.SetSubAccountLevel(name="kitsub01", level=5)),
                "account level 5",
            ),
            InvalidCase(
                "funding.list_deposit_addresses",
                lambda c: c.funding.list_deposit_addresses(
                    m.ListDepositAddresses(account_id="kitsub01", currency="btc")
                ),
                "lower-case currency",
            ),
        ]

    def error_cases(self) -> list[ErrorCase]:
        async def dup(c: Client) -> Any:
            await c.subaccounts.create(m.CreateSubAccount(name="kitdup0001"))
            return await c.subaccounts.create(m.CreateSubAccount(name="kitdup0001"))

        async def dup_order(c: Client) -> Any:
            req = m.PlaceOrder(
                instrument="BTC-USDT",
                side="buy",
                order_type="limit",
                quantity=Decimal("1"),
                price=Decimal("10"),
                client_order_id="kitdupord1",
                extra={"tdMode": "cash"},
            )
            with contextlib.suppress(Conflict):
                await c.trading.place_order(req)
            return await c.trading.place_order(req)

        return [
            ErrorCase(
                "delete a missing sub-account",
                "subaccounts.delete",
                lambda c: c.subaccounts.delete(m.SubAccountRef(name="kitnobody1")),
                NotFound,
                "59510",
            ),
            ErrorCase("duplicate sub-account", "subaccounts.create", dup, Conflict, "59601"),
            ErrorCase(
                "duplicate clOrdId (sCode)", "trading.place_order", dup_order, Conflict, "51016"
            ),
        ]

    def read_call(self) -> tuple[str, dict[str, Any]]:
        return "trade.get_order", {"instId": "BTC-USDT", "clOrdId": READ_ORDER}

    def burst_call(self, n: int) -> tuple[str, dict[str, Any]]:
        """The sub-account list: 1 request / s, so 3 calls must spread over 2 s."""
        return "broker.dma.subaccount_info", {}

    def write_call(self, n: int) -> tuple[str, dict[str, Any]]:
        return "broker.dma.create_subaccount", {"subAcct": _name("kitw", n)}
