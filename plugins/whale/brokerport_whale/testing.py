"""Sample data for the brokerport conformance kit and the demo (WhaleAPI sandbox)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from brokerport import models as m
from brokerport.errors import Conflict, InvalidRequest, NotFound
from brokerport.testing.samples import ErrorCase, InvalidCase, PagedCase, Samples

__all__ = ["WhaleSamples"]

ACCOUNT = "M10001"  # the sandbox's seeded account (brokerport_whale.sandbox.SEED_ACCOUNT)
MEMBER = "10001"
_n = itertools.count(1)


class WhaleSamples(Samples):
    timestamp_window = 60.0  # the sandbox's window (ASSUMPTION: the vendor states none)

    async def prepare(self) -> None:
        """A payee card on the seeded account (deposits and withdrawals name it)."""
        payee = m.Payee(name="Chan Tai Man", account_number=f"012-{next(_n):06d}",
                        bank_name="HSBC", swift="HSBCHKHH",
                        raw={"bank_id": 1, "region": "hongkong", "name_en": "Chan Tai Man",
                             "account_type": "saving", "country": "HK", "fps_id": "F1",
                             "need_certification": False, "account_no": ACCOUNT})  # fmt: skip
        self.card = await self.client.funding.add_payee(m.AddPayee(payee=payee))

    def funding_account(self) -> str:
        return ACCOUNT

    def deposit(self, account_id: str, n: int = 0) -> m.DepositRequest:
        return m.DepositRequest(account_id=account_id, amount=Decimal("1000.25") + n,
                                currency="HKD", extra={"card_id": int(self.card.payee_id or 0),
                                                       "deposit_type": 1, "deposit_config_id": 1,
                                                       "vouchers": ["voucher-key"]})  # fmt: skip

    async def complete_deposit(self, ticket: m.DepositTicket, request: m.DepositRequest) -> None:
        sandbox: Any = self.sandbox
        if sandbox is not None:
            sandbox.settle_deposit(int(ticket.deposit_id))

    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        return m.WithdrawalRequest(account_id=account_id, amount=Decimal("10.5") + n,
                                   currency="HKD", payee=self.card,
                                   extra={"is_pad_funded": "0"})  # fmt: skip

    def list_accounts(self) -> m.ListAccounts:
        return m.ListAccounts(user_ids=(MEMBER,))

    def place_order(self, n: int = 0) -> m.PlaceOrder:
        return m.PlaceOrder(instrument="700.HK", side="buy", order_type="limit",
                            quantity=Decimal("100"), price=Decimal("300") + n,
                            account_id=ACCOUNT)  # fmt: skip

    def order_query(self) -> m.OrderQuery:
        return m.OrderQuery(account_id=ACCOUNT)

    def position_query(self) -> m.PositionQuery:
        return m.PositionQuery(account_id=ACCOUNT)

    async def paged_cases(self) -> list[PagedCase]:
        c, sandbox = self.client, self.sandbox
        if sandbox is None:
            return []
        sb: Any = sandbox
        for _ in range(3):
            sb._open_account(int(MEMBER), f"MX{next(_n):05d}", "C", "seed")
        accounts = frozenset(a for a, v in sb.accounts.items() if v["member_id"] == int(MEMBER))
        deposits, withdrawals, orders = set(), set(), set()
        for i in range(5):
            ticket = await c.funding.request_deposit(self.deposit(ACCOUNT, i))
            deposits.add(ticket.deposit_id)
            w = await c.funding.request_withdrawal(self.withdrawal(ACCOUNT, i))
            withdrawals.add(w.withdrawal_id or "")
            orders.add((await c.trading.place_order(self.place_order(i))).order_id or "")
        for order_id in sorted(orders)[:3]:
            sb.fill(order_id, Decimal("10"), Decimal("300"))
        fills = frozenset(t["trade_id"] for t in sb.trades)
        ledger = frozenset(f["serial_num"] for f in sb.flows[ACCOUNT])
        positions = frozenset(s for (a, s), q in sb.stock.items() if a == ACCOUNT and q)
        query = m.FundingHistoryQuery(account_id=ACCOUNT, limit=2)
        orders_q = m.OrderQuery(account_id=ACCOUNT, limit=2)

        def case(op: str, call: Any, request: Any, expected: Any, key: Any) -> PagedCase:
            return PagedCase(op, call, request, frozenset(expected), key)

        return [
            case("accounts.list", c.accounts.list, m.ListAccounts(user_ids=(MEMBER,), limit=2),
                 accounts, lambda a: a.account_id),
            case("funding.deposit_history", c.funding.deposit_history, query, deposits,
                 lambda r: r.record_id),
            case("funding.withdrawal_history", c.funding.withdrawal_history, query, withdrawals,
                 lambda r: r.record_id),
            case("funding.cash_ledger", c.funding.cash_ledger, query, ledger,
                 lambda r: r.record_id),
            case("trading.open_orders", c.trading.open_orders, orders_q, orders,
                 lambda o: o.order_id),
            case("trading.order_history", c.trading.order_history, orders_q, orders,
                 lambda o: o.order_id),
            case("trading.fills", c.trading.fills, orders_q, fills, lambda f: f.fill_id),
            case("trading.positions", c.trading.positions, self.position_query(), positions,
                 lambda p: p.instrument),
        ]  # fmt: skip

    def invalid_cases(self) -> list[InvalidCase]:
        def order(**kw: Any) -> Any:
            fields = {"instrument": "700.HK", "side": "buy", "order_type": "limit",
                      "quantity": Decimal("100"), "price": Decimal("300"), **kw}  # fmt: skip
            return lambda c: c.trading.place_order(m.PlaceOrder(**fields))

        return [
            InvalidCase("trading.place_order", order(client_order_id="r" * 65),
                        "remark (the client order id) over 64 characters"),
            InvalidCase("trading.place_order", order(order_type="ELO"),
                        "an order type Place Order does not take"),
            InvalidCase("trading.place_order", order(price=Decimal("1.123456789")),
                        "a price that would have to be rounded"),
            InvalidCase("funding.request_deposit",
                        lambda c: c.funding.request_deposit(m.DepositRequest(
                            account_id=ACCOUNT, amount=Decimal("1"), currency="hkd")),
                        "lower-case currency"),
            InvalidCase("accounts.update_trade_permissions",
                        lambda c: c.accounts.update_trade_permissions(
                            m.UpdateTradePermissions(account_id=ACCOUNT, changes={})),
                        "an empty batch"),
        ]  # fmt: skip

    def error_cases(self) -> list[ErrorCase]:
        return [
            ErrorCase("close an account holding cash", "accounts.close",
                      lambda c: c.accounts.close(m.CloseAccount(account_id=ACCOUNT)),
                      Conflict, "404092"),
            ErrorCase("an unknown account", "accounts.get",
                      lambda c: c.accounts.get(m.GetAccount(account_id="M00000")),
                      NotFound, "404062"),
            ErrorCase("a batch with an unknown permission", "accounts.update_trade_permissions",
                      lambda c: c.accounts.update_trade_permissions(m.UpdateTradePermissions(
                          account_id=ACCOUNT, changes={"flag.options": True})),
                      InvalidRequest, "400"),
        ]  # fmt: skip

    def read_call(self) -> tuple[str, dict[str, Any]]:
        return "asset.cash_info", {"account_no": ACCOUNT}

    def write_call(self, n: int) -> tuple[str, dict[str, Any]]:
        return "trade.order", {"symbol": "700.HK", "side": "Buy", "order_type": "LO",
                               "submitted_quantity": "1", "submitted_price": str(100 + n),
                               "time_in_force": "Day", "account_no": ACCOUNT}  # fmt: skip
