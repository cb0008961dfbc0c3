"""The procedural part of the wlink samples; the data is ``samples.toml``.

What a TOML table cannot say: a withdrawal needs the one-time email code the
vendor mails to the user, read from the sandbox's mailbox for each request; and
the calls that prove each declared operation need the sandbox's ids and mails.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

import attrs
from brokerport import models as m
from brokerport.testing.samples import CallCase, DataSamples

if TYPE_CHECKING:
    from .sandbox import WlinkSandbox

__all__ = ["WlinkSamples"]


class WlinkSamples(DataSamples):
    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        """The ``[withdrawal]`` table, with a fresh email code (what the user reads in the mail)."""
        request = super().withdrawal(account_id, n)
        box: Any = self.sandbox
        if box is None:
            return request
        code = box.issue_email_code("withdrawal")
        return attrs.evolve(request, extra={**request.extra, "email_code": code})

    @property
    def box(self) -> WlinkSandbox:
        return cast("WlinkSandbox", self.sandbox)

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
