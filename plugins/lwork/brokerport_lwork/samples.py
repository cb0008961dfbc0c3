"""Sample data for the brokerport conformance kit and the demo (against the sandbox).

The kit connects with the sandbox's bare profile (no options), so every
request here names its user id, server id and platform explicitly.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import attrs
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import BrokerportError, InsufficientFunds, InvalidRequest, NotFound
from brokerport.testing.samples import ErrorCase, InvalidCase, PagedCase, Samples

from .sandbox import SEED_DEMO_TYPE, SEED_USER, LworkSandbox

__all__ = ["LworkSamples"]

FUNDING_ACCOUNT = "2090001253"
REPORT_ACCOUNT = "2090001252"
PAYEE = m.Payee(name="Demo", account_number="6226", bank_name="ICBC")


class LworkSamples(Samples):
    user_id = SEED_USER

    async def prepare(self) -> None:
        """Give the sandbox session the defaults a real profile would set as options.

        (The core's sandbox profile carries credentials only; lwork ports need a
        user id, server id and platform for requests that do not name them.)
        """
        if self._sandbox() is None:
            return
        profile = self.client.profile
        defaults = {
            "user_id": self.user_id,
            "server_id": "428",
            "platform": "MT4",
            "pay_currency": "CNY",
            "demo_account_type": SEED_DEMO_TYPE,
        }
        merged = {**defaults, **profile.options}
        if merged != dict(profile.options):
            self.client.profile = attrs.evolve(profile, options=merged)

    def _sandbox(self) -> LworkSandbox | None:
        return self.sandbox if isinstance(self.sandbox, LworkSandbox) else None

    def funding_account(self) -> str:
        return FUNDING_ACCOUNT

    def deposit(self, account_id: str, n: int = 0) -> m.DepositRequest:
        return m.DepositRequest(
            account_id=account_id,
            amount=Decimal(f"{10 + n}.25"),
            currency="USD",
            pay_currency="CNY",
            user_id=self.user_id,
            server_id="428",
            platform="MT4",
        )

    async def complete_deposit(self, ticket: m.DepositTicket, request: m.DepositRequest) -> None:
        assert ticket.pay_amount is not None and ticket.pay_currency is not None
        await self.client.funding.confirm_deposit(
            m.DepositConfirmation(
                deposit_id=ticket.deposit_id,
                payment_reference=f"kit-{ticket.deposit_id[:8]}",
                pay_amount=ticket.pay_amount,
                pay_currency=ticket.pay_currency,
            )
        )

    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        return m.WithdrawalRequest(
            account_id=account_id,
            amount=Decimal(f"{1 + n}.50"),
            currency="USD",
            payee=PAYEE,
            user_id=self.user_id,
            server_id="428",
        )

    def history_query(self, account_id: str) -> m.FundingHistoryQuery:
        return m.FundingHistoryQuery(account_id=account_id, user_id=self.user_id)

    def list_accounts(self) -> m.ListAccounts:
        return m.ListAccounts(user_ids=[self.user_id])

    def order_query(self) -> m.OrderQuery:
        return m.OrderQuery(account_id=REPORT_ACCOUNT, extra={"user_id": self.user_id})

    def position_query(self) -> m.PositionQuery:
        return m.PositionQuery(account_id=REPORT_ACCOUNT, extra={"user_id": self.user_id})

    async def paged_cases(self) -> list[PagedCase]:
        c = self.client
        sandbox = self._sandbox()
        if sandbox is None:
            return []
        user = sandbox.add_user()
        logins = [
            sandbox.add_account(user.user_id, name=f"kit{i}", balance="500.00").login
            for i in range(5)
        ]
        acct = logins[0]
        extra = {"user_id": user.user_id}
        deposits, withdrawals = set(), set()
        for i in range(5):
            t = await c.funding.request_deposit(
                m.DepositRequest(
                    account_id=acct,
                    amount=Decimal(10 + i),
                    pay_currency="CNY",
                    user_id=user.user_id,
                    server_id="428",
                )
            )
            deposits.add(t.deposit_id)
            await c.funding.request_withdrawal(
                m.WithdrawalRequest(
                    account_id=acct,
                    amount=Decimal(1 + i),
                    currency="USD",
                    payee=PAYEE,
                    user_id=user.user_id,
                    server_id="428",
                )
            )
        await c.funding.transfer(
            m.TransferRequest(
                from_account=acct,
                to_account=logins[1],
                amount=Decimal("3"),
                currency="USD",
                user_id=user.user_id,
                extra={
                    "receiptAccountName": "kit1",
                    "receiptServerId": "428",
                    "receiptVendor": "MT4",
                },
            )
        )
        now = sandbox.clock.now()
        trades = {sandbox.add_trade(acct, at=now - 600 + i)["id"] for i in range(5)}
        pending = {sandbox.add_pending(acct, at=now - 600 + i)["id"] for i in range(5)}
        positions = {sandbox.add_position(acct, at=now - 600 + i)["id"] for i in range(5)}
        withdrawal_ids = {w["id"] for w in sandbox.withdrawals if w["accountId"] == acct}
        transfer_ids = {t["id"] for t in sandbox.transfers if t["accountId"] == acct}
        withdrawals |= withdrawal_ids

        def query() -> m.FundingHistoryQuery:
            return m.FundingHistoryQuery(account_id=acct, user_id=user.user_id, limit=2)

        return [
            PagedCase(
                "accounts.list",
                c.accounts.list,
                m.ListAccounts(user_ids=[user.user_id]),
                frozenset(logins),
                lambda a: a.account_id,
            ),
            PagedCase(
                "funding.deposit_history",
                c.funding.deposit_history,
                query(),
                frozenset(deposits),
                lambda r: r.record_id,
            ),
            PagedCase(
                "funding.withdrawal_history",
                c.funding.withdrawal_history,
                query(),
                frozenset(withdrawals),
                lambda r: r.record_id,
            ),
            PagedCase(
                "funding.cash_ledger",
                c.funding.cash_ledger,
                query(),
                frozenset(deposits | withdrawals | transfer_ids),
                lambda r: r.record_id,
            ),
            PagedCase(
                "trading.order_history",
                c.trading.order_history,
                m.OrderQuery(account_id=acct, limit=2, extra=extra),
                frozenset(trades),
                lambda o: o.order_id,
            ),
            PagedCase(
                "trading.open_orders",
                c.trading.open_orders,
                m.OrderQuery(account_id=acct, limit=2, extra=extra),
                frozenset(pending),
                lambda o: o.order_id,
            ),
            PagedCase(
                "trading.positions",
                c.trading.positions,
                m.PositionQuery(account_id=acct, limit=2, extra=extra),
                frozenset(positions),
                lambda p: p.position_id or "",
            ),
        ]

    def invalid_cases(self) -> list[InvalidCase]:
        user = self.user_id

        async def three_decimals(c: Client) -> Any:
            return await c.funding.request_deposit(
                m.DepositRequest(
                    account_id=FUNDING_ACCOUNT,
                    amount=Decimal("10.005"),
                    pay_currency="CNY",
                    user_id=user,
                    server_id="428",
                )
            )

        async def float_amount(c: Client) -> Any:
            return await c.call(
                "account.deposit",
                userId=user,
                serverId="428",
                login=FUNDING_ACCOUNT,
                depositAmount=10.5,
                payCurrency="CNY",
            )

        async def bad_platform(c: Client) -> Any:
            return await c.call(
                "account.info",
                account=FUNDING_ACCOUNT,
                **{"x-api-vendor": "MT3", "x-api-serverid": "428"},
            )

        async def bad_type(c: Client) -> Any:
            return await c.call(
                "account.cashflow",
                userId=user,
                login=FUNDING_ACCOUNT,
                **{
                    "from": "2026-01-01",
                    "to": "2026-02-01",
                    "type": "Bonus",
                    "page": 1,
                    "size": 10,
                },
            )

        async def bad_date(c: Client) -> Any:
            return await c.call(
                "account.history",
                userId=user,
                login=FUNDING_ACCOUNT,
                **{"from": "01/01/2026", "to": "2026-02-01", "page": 1, "size": 10},
            )

        async def bad_port_platform(c: Client) -> Any:
            return await c.funding.balances(
                m.GetBalances(account_id=FUNDING_ACCOUNT, server_id="428", platform="cTrader")
            )

        return [
            InvalidCase(
                "funding.request_deposit",
                three_decimals,
                "amount with three decimals (never rounded)",
            ),
            InvalidCase("raw account.deposit", float_amount, "float amount"),
            InvalidCase("raw account.info", bad_platform, "x-api-vendor not MT4/MT5"),
            InvalidCase("raw account.cashflow", bad_type, "unknown cash-flow type"),
            InvalidCase("raw account.history", bad_date, "date not YYYY-MM-DD"),
            InvalidCase("funding.balances", bad_port_platform, "platform not MT4/MT5"),
        ]

    def error_cases(self) -> list[ErrorCase]:
        user = self.user_id

        async def unknown_account(c: Client) -> Any:
            return await c.funding.balances(
                m.GetBalances(account_id="1", server_id="428", platform="MT4")
            )

        async def too_much(c: Client) -> Any:
            return await c.funding.request_withdrawal(
                m.WithdrawalRequest(
                    account_id=FUNDING_ACCOUNT,
                    amount=Decimal("99999999"),
                    currency="USD",
                    payee=PAYEE,
                    user_id=user,
                    server_id="428",
                )
            )

        async def wrong_currency(c: Client) -> Any:
            return await c.funding.request_withdrawal(
                m.WithdrawalRequest(
                    account_id=FUNDING_ACCOUNT,
                    amount=Decimal("1"),
                    currency="EUR",
                    payee=PAYEE,
                    user_id=user,
                    server_id="428",
                )
            )

        async def unpaid_callback(c: Client) -> Any:
            t = await c.funding.request_deposit(
                m.DepositRequest(
                    account_id=FUNDING_ACCOUNT,
                    amount=Decimal("1"),
                    pay_currency="CNY",
                    user_id=user,
                    server_id="428",
                )
            )
            return await c.call(
                "account.deposit_callback",
                jobId=t.deposit_id,
                orderId="o",
                status="0",
                platform="twAPI",
                payAmount=t.pay_amount,
                payCurrency="CNY",
            )

        return [
            ErrorCase(
                "unknown account", "funding.balances", unknown_account, NotFound, "BW_NOT_FOUND"
            ),
            ErrorCase(
                "insufficient balance",
                "funding.request_withdrawal",
                too_much,
                InsufficientFunds,
                "BW_INSUFFICIENT_BALANCE",
            ),
            ErrorCase(
                "invalid parameter",
                "funding.request_withdrawal",
                wrong_currency,
                InvalidRequest,
                "BW_INVALID_PARAM",
            ),
            ErrorCase(
                "payment not successful",
                "raw account.deposit_callback",
                unpaid_callback,
                BrokerportError,
                "m0000001",
            ),
        ]

    def read_call(self) -> tuple[str, dict[str, Any]]:
        return "account.info", {
            "account": FUNDING_ACCOUNT,
            "x-api-vendor": "MT4",
            "x-api-serverid": "428",
        }

    def write_call(self, n: int) -> tuple[str, dict[str, Any]]:
        return "account.deposit", {
            "userId": self.user_id,
            "serverId": "428",
            "login": FUNDING_ACCOUNT,
            "depositAmount": Decimal(f"{n + 1}.10"),
            "payCurrency": "CNY",
            "comment": f"kit {n}",
        }

    def tamper(self, body: bytes, query: str) -> tuple[bytes, str]:
        """Raise the signed depositAmount after signing."""
        doc = json.loads(body)
        doc["depositAmount"] = f"{Decimal(doc['depositAmount']) + 100:.2f}"
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode(), query
