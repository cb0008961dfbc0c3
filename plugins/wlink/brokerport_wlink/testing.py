"""Sample data for the conformance kit and ``brokerport demo`` (wlink sandbox)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast

from brokerport import models as m
from brokerport.errors import InvalidRequest, NotFound
from brokerport.testing.samples import CallCase, ErrorCase, InvalidCase, PagedCase, Samples

if TYPE_CHECKING:
    from .sandbox import WlinkSandbox

__all__ = ["WlinkSamples"]

_n = itertools.count(1)


class WlinkSamples(Samples):
    timestamp_window = 30.0
    deposit_moves_balance = False  # a submitted deposit waits for the back office's review

    @property
    def box(self) -> WlinkSandbox:
        return cast("WlinkSandbox", self.sandbox)

    def funding_account(self) -> str:
        return str(self.box.account_id)

    def list_accounts(self) -> m.ListAccounts:
        return m.ListAccounts(user_ids=("me",))

    def position_query(self) -> m.PositionQuery:
        return m.PositionQuery(account_id=self.funding_account())

    def deposit(self, account_id: str, n: int = 0) -> m.DepositRequest:
        amount = Decimal("100") + Decimal(next(_n)) / 100
        return m.DepositRequest(
            account_id=account_id, amount=amount, currency="USD", extra={"remittance_id": 1}
        )

    async def complete_deposit(self, ticket: m.DepositTicket, request: m.DepositRequest) -> None:
        await self.client.funding.confirm_deposit(
            m.DepositConfirmation(
                deposit_id=ticket.deposit_id,
                payment_reference="bank-ref-1",
                pay_amount=request.amount,
                pay_currency="USD",
                receipt_url="https://sandbox.wlink.invalid/receipt.png",
            )
        )

    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        amount = Decimal("20") + Decimal(next(_n)) / 100
        payee = m.Payee(
            name="San Dbox",
            account_number="WL0012345678",
            bank_name="Sandbox Bank",
            branch="Central",
            raw={"bank_country": "HK", "bsc_code": "SBX001"},
        )
        quote = self.box.quote(1, amount, "USD")  # the fee and rate the vendor shows
        code = self.box.issue_email_code("withdrawal")  # what the user reads in the mail
        return m.WithdrawalRequest(
            account_id=account_id,
            amount=amount,
            currency="USD",
            payee=payee,
            extra={"remittance_id": 1, "email_code": code, **quote},
        )

    def order_query(self) -> m.OrderQuery:
        return m.OrderQuery(account_id=self.funding_account())

    async def paged_cases(self) -> list[PagedCase]:
        c, box = self.client, self.box
        account = box.account_id
        accounts = {str(account), *(str(box.add_account(box.user_id)) for _ in range(4))}
        accounts |= {str(a["id"]) for a in box.accounts.values() if a["user"] == box.user_id}
        deposits: set[str] = set()
        withdrawals: set[str] = set()
        for _ in range(5):
            ticket = await c.funding.request_deposit(self.deposit(str(account)))
            deposits.add(ticket.deposit_id)
            ticket_w = await c.funding.request_withdrawal(self.withdrawal(str(account)))
            withdrawals.add(ticket_w.withdrawal_id or "")
        deposits |= {d["order_number"] for d in box.deposits.values()}
        withdrawals |= {w["order_number"] for w in box.withdrawals.values()}
        for i in range(5):
            code = box.issue_email_code("transfer")
            await c.funding.transfer(
                m.TransferRequest(
                    from_account=str(account),
                    to_account=str(box.account_id + 1),
                    amount=Decimal("1") + i,
                    extra={"email_code": code},
                )
            )
        transfers = {t["order_number"] for t in box.transfers.values()}
        trades = {k: {t["order_number"] for t in box.trades[k]} for k in box.trades}
        for kind in trades:
            trades[kind] |= {box.add_trade(kind, f"SYM{i}") for i in range(5)}
        q = m.FundingHistoryQuery(limit=2)
        oq = m.OrderQuery(limit=2)
        acct = str(account)
        table: list[tuple[str, Any, Any, set[str], Any]] = [
            (
                "accounts.list",
                c.accounts.list,
                m.ListAccounts(user_ids=("me",), limit=2),
                accounts,
                "account_id",
            ),
            ("funding.deposit_history", c.funding.deposit_history, q, deposits, "record_id"),
            (
                "funding.withdrawal_history",
                c.funding.withdrawal_history,
                q,
                withdrawals,
                "record_id",
            ),
            ("funding.cash_ledger", c.funding.cash_ledger, q, transfers, "record_id"),
            ("trading.order_history", c.trading.order_history, oq, trades["history"], "order_id"),
            ("trading.open_orders", c.trading.open_orders, oq, trades["pending"], "order_id"),
            (
                "trading.positions",
                c.trading.positions,
                m.PositionQuery(account_id=acct, limit=2),
                trades["holding"],
                "position_id",
            ),
        ]
        return [
            PagedCase(op, call, req, frozenset(want), attrgetter(key))
            for op, call, req, want, key in table
        ]

    def invalid_cases(self) -> list[InvalidCase]:
        acct = self.funding_account()

        def withdraw_float(c: Any) -> Any:
            req = self.withdrawal(acct)
            return c.funding.request_withdrawal(
                m.WithdrawalRequest(
                    account_id=acct,
                    amount=req.amount,
                    currency="USD",
                    payee=req.payee,
                    extra={**req.extra, "fee": 2.5},
                )
            )

        return [
            InvalidCase(
                "accounts.get",
                lambda c: c.accounts.get(m.GetAccount(account_id="abc")),
                "account id not an integer",
            ),
            InvalidCase(
                "funding.request_withdrawal", withdraw_float, "a quoted fee must be echoed as text"
            ),
            InvalidCase(
                "accounts.list",
                lambda c: c.accounts.list(m.ListAccounts(user_ids=("someone-else",))),
                "another user's accounts",
            ),
            InvalidCase(
                "funding.deposit_history",
                lambda c: c.funding.deposit_history(m.FundingHistoryQuery(user_id="7")),
                "a user filter wlink lacks",
            ),
        ]

    def error_cases(self) -> list[ErrorCase]:
        return [
            ErrorCase(
                "no such account",
                "accounts.get",
                lambda c: c.accounts.get(m.GetAccount(account_id="999999")),
                NotFound,
                "NOT_FOUND",
            ),
            ErrorCase(
                "wrong email code",
                "funding.transfer",
                lambda c: c.funding.transfer(
                    m.TransferRequest(
                        from_account=self.funding_account(),
                        to_account=str(self.box.account_id + 1),
                        amount=Decimal(1),
                        extra={"email_code": "000000x"},
                    )
                ),
                InvalidRequest,
                "EMAIL_CODE_INVALID",
            ),
            ErrorCase(
                "no such payee",
                "funding.delete_payee",
                lambda c: c.funding.delete_payee(m.DeletePayee(payee_id="999999")),
                NotFound,
                "NOT_FOUND",
            ),
        ]

    def calls(self) -> list[CallCase]:
        """A successful call of each declared operation (and extension) no other contract
        proves, each checked for what it must answer."""
        acct = self.funding_account()

        def payee(n: int, payee_id: str | None = None) -> m.Payee:
            return m.Payee(
                name=f"Kit Payee {n}",
                account_number=f"WL00{n:08d}",
                bank_name="Sandbox Bank",
                branch="Central",
                payee_id=payee_id,
                raw={"bank_country": "HK", "bsc_code": "SBX001"},
            )

        async def update_payee(c: Any) -> m.Payee:
            added = await c.funding.add_payee(m.AddPayee(payee=payee(1)))
            return cast(
                m.Payee,
                await c.funding.update_payee(m.UpdatePayee(payee=payee(2, added.payee_id))),
            )

        async def delete_payee(c: Any) -> m.Ack:
            added = await c.funding.add_payee(m.AddPayee(payee=payee(3)))
            return cast(m.Ack, await c.funding.delete_payee(m.DeletePayee(payee_id=added.payee_id)))

        async def cancel_deposit(c: Any) -> m.Ack:
            ticket = await c.funding.request_deposit(self.deposit(acct))
            return cast(
                m.Ack, await c.funding.cancel_deposit(m.CancelDeposit(deposit_id=ticket.deposit_id))
            )

        async def confirm_deposit(c: Any) -> m.Ack:
            request = self.deposit(acct)
            ticket = await c.funding.request_deposit(request)
            await self.complete_deposit(ticket, request)  # funding.confirm_deposit
            return m.Ack(reference=ticket.deposit_id)

        async def session(c: Any) -> m.Ack:
            token = await c.keys.renew_token(m.RenewToken())
            assert token.access_token.reveal()
            return cast(m.Ack, await c.keys.revoke_token(m.RenewToken()))

        def ok(kind: type) -> Any:
            return lambda r: None if isinstance(r, kind) else f"answered {type(r).__name__}"

        box, user = self.box, self.box.user_id
        table: list[tuple[str, Any, Any]] = [
            (
                "accounts.get_leverage",
                lambda c: c.accounts.get_leverage(m.GetLeverage(account_id=acct)),
                lambda r: None if r.available else "no leverage options",
            ),
            (
                "accounts.set_leverage",
                lambda c: c.accounts.set_leverage(m.SetLeverage(account_id=acct, leverage=100)),
                ok(m.Ack),
            ),
            (
                "accounts.set_trade_password",
                lambda c: c.accounts.set_trade_password(
                    m.SetTradePassword(account_id=acct, new_password="Kit-Pass-123")
                ),
                ok(m.Ack),
            ),
            (
                "accounts.update_profile",
                lambda c: c.accounts.update_profile(
                    m.UpdateProfile(user_id=str(user), fields={"first_name": "Kit"})
                ),
                ok(m.Ack),
            ),
            (
                "accounts.open_live",
                lambda c: c.accounts.open_live(
                    m.OpenAccount(
                        user_id=str(user),
                        platform="MT5",
                        leverage=100,
                        group="1",
                        password="Kit-Pass-123",
                    )
                ),
                ok(m.AccountApplication),
            ),
            (
                "accounts.open_demo",
                lambda c: c.accounts.open_demo(
                    m.OpenDemoAccount(
                        user_id=str(user),
                        platform="MT5",
                        leverage=100,
                        extra={"password": "Kit-Pass-123", "trading_account_type_id": 1},
                    )
                ),
                ok(m.AccountApplication),
            ),
            (
                "funding.add_payee",
                lambda c: c.funding.add_payee(m.AddPayee(payee=payee(4))),
                lambda r: None if r.payee_id else "no payee id",
            ),
            (
                "funding.update_payee",
                update_payee,
                lambda r: None if r.name == "Kit Payee 2" else "?",
            ),
            ("funding.delete_payee", delete_payee, ok(m.Ack)),
            ("funding.list_payees", lambda c: c.funding.list_payees(m.ListPayees()), ok(tuple)),
            ("funding.cancel_deposit", cancel_deposit, ok(m.Ack)),
            ("funding.confirm_deposit", confirm_deposit, ok(m.Ack)),
            (
                "funding.exchange_rate",
                lambda c: c.funding.exchange_rate(m.ExchangeRateQuery(base="USD", quote="EUR")),
                lambda r: None if r.rate > 0 else f"rate {r.rate}",
            ),
            (
                "funding.transfer",
                lambda c: c.funding.transfer(
                    m.TransferRequest(
                        from_account=acct,
                        to_account=str(box.account_id + 1),
                        amount=Decimal("1.5"),
                        extra={"email_code": box.issue_email_code("transfer")},
                    )
                ),
                ok(m.TransferResult),
            ),
            ("keys.renew_token", session, ok(m.Ack)),
            ("keys.revoke_token", session, ok(m.Ack)),
            ("wlink.ib:user", lambda c: c.ext("wlink.ib").user(), ok(dict)),
            (
                "wlink.messages:unread_count",
                lambda c: c.ext("wlink.messages").unread_count(),
                ok(int),
            ),
            ("wlink.kyc:user", lambda c: c.ext("wlink.kyc").user(), ok(dict)),
            (
                "wlink.reports:servers",
                lambda c: c.ext("wlink.reports").servers(order_type="history"),
                ok(dict),
            ),
            ("wlink.portal:setting", lambda c: c.ext("wlink.portal").setting("company"), ok(dict)),
            (
                "wlink.auth:email_registered",
                lambda c: c.ext("wlink.auth").email_registered(email="kit@example.com"),
                ok(dict),
            ),
        ]
        return [CallCase(op, call, check) for op, call, check in table]

    def read_call(self) -> tuple[str, dict[str, Any]]:
        return "trading.account_list", {"page": 1, "size": 20}

    def write_call(self, n: int) -> tuple[str, dict[str, Any]]:
        return "client.trading_deposit_draft_create", {
            "trading_account_id": self.box.account_id,
            "deposit_amount": f"{10 + n}.{next(_n) % 100:02d}",
            "remittance_id": 1,
        }
