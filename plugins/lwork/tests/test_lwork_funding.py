"""Funding against the sandbox: deposits credit only after the callback, withdrawals,
transfers, cash flow, paging to the end."""

from __future__ import annotations

from decimal import Decimal

import brokerport
import pytest
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import BrokerportError, Conflict, InvalidRequest, NotFound
from brokerport_lwork.sandbox import SEED_USER, LworkSandbox

ACCOUNT = "2090001252"
OTHER = "2090001253"
PAYEE = m.Payee(name="Demo", account_number="6226", bank_name="ICBC", branch="", swift="ICBKCNBJ")


async def balance(client: Client, account: str = ACCOUNT) -> Decimal:
    (bal,) = await client.funding.balances(m.GetBalances(account_id=account))
    return bal.total


async def test_balance_moves_only_after_the_payment_callback(
    sandbox: LworkSandbox, client: Client
) -> None:
    start = await balance(client)
    ticket = await client.funding.request_deposit(
        m.DepositRequest(account_id=ACCOUNT, amount=Decimal("100"), comment="备注")
    )
    assert ticket.deposit_id and ticket.status == "pending_payment"
    assert ticket.pay_amount == Decimal("682.34")  # 100 × 6.8234, the document's example
    assert ticket.pay_currency == "CNY"
    assert await balance(client) == start

    history = await client.funding.deposit_history(m.FundingHistoryQuery(account_id=ACCOUNT))
    (rec,) = history.items
    assert (rec.record_id, rec.kind, rec.amount, rec.status) == (
        ticket.deposit_id,
        "deposit",
        Decimal("100"),
        "Submited",
    )
    assert rec.raw["depositTransaction"]["payStatus"] == "Pending"

    # a callback that does not report success changes nothing
    with pytest.raises(BrokerportError) as info:
        await client.call(
            "account.deposit_callback",
            jobId=ticket.deposit_id,
            orderId="o-1",
            status="0",
            platform="twAPI",
            payAmount=Decimal("682.34"),
            payCurrency="CNY",
        )
    assert info.value.vendor_code == "m0000001"
    assert await balance(client) == start

    # the wrong amount is refused
    with pytest.raises(InvalidRequest):
        await client.funding.confirm_deposit(
            m.DepositConfirmation(
                deposit_id=ticket.deposit_id,
                payment_reference="o-1",
                pay_amount=Decimal("682.00"),
                pay_currency="CNY",
            )
        )
    assert await balance(client) == start

    ack = await client.funding.confirm_deposit(
        m.DepositConfirmation(
            deposit_id=ticket.deposit_id,
            payment_reference="o-1",
            pay_amount=Decimal("682.34"),
            pay_currency="CNY",
            platform="twAPI",
        )
    )
    assert ack.ok
    assert await balance(client) == start + Decimal("100")

    # the same callback again is harmless; another order for the same job is a conflict
    await client.funding.confirm_deposit(
        m.DepositConfirmation(
            deposit_id=ticket.deposit_id,
            payment_reference="o-1",
            pay_amount=Decimal("682.34"),
            pay_currency="CNY",
        )
    )
    with pytest.raises(Conflict):
        await client.funding.confirm_deposit(
            m.DepositConfirmation(
                deposit_id=ticket.deposit_id,
                payment_reference="o-2",
                pay_amount=Decimal("682.34"),
                pay_currency="CNY",
            )
        )
    assert await balance(client) == start + Decimal("100")
    assert len(sandbox.journal.effects("account.deposit_callback")) == 1

    (rec,) = (await client.funding.deposit_history(m.FundingHistoryQuery(account_id=ACCOUNT))).items
    assert rec.status == "Approved" and rec.tx_id == "o-1"


async def test_callback_for_unknown_job(client: Client) -> None:
    with pytest.raises(NotFound):
        await client.funding.confirm_deposit(
            m.DepositConfirmation(
                deposit_id="nope",
                payment_reference="o",
                pay_amount=Decimal("1"),
                pay_currency="CNY",
            )
        )


async def test_exchange_rate_is_configurable() -> None:
    async with brokerport.connect(
        "lwork",
        brokerport.Profile(vendor="lwork", options={"user_id": SEED_USER, "server_id": "428"}),
        sandbox_options={"key_bits": 1024, "rates": {"USD/CNY": "7.1234"}},
    ) as client:
        ticket = await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal("33.33"), pay_currency="CNY")
        )
        assert ticket.pay_amount == Decimal("237.42")  # 237.422922 rounded half-up
        same = await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal("10"), pay_currency="USD")
        )
        assert same.pay_amount == Decimal("10.00")
        with pytest.raises(InvalidRequest):
            await client.funding.request_deposit(
                m.DepositRequest(account_id=ACCOUNT, amount=Decimal("10"), pay_currency="JPY")
            )


async def test_withdrawal_debits_and_is_listed(sandbox: LworkSandbox, client: Client) -> None:
    start = await balance(client, OTHER)
    ticket = await client.funding.request_withdrawal(
        m.WithdrawalRequest(account_id=OTHER, amount=Decimal("100"), currency="USD", payee=PAYEE)
    )
    assert ticket.status == "submitted"
    assert await balance(client, OTHER) == start - Decimal("100")
    body = sandbox.journal.for_endpoint("account.withdraw")[-1].body
    assert b'"withdrawAmount":"100.00"' in body and b'"SWIFT":"ICBKCNBJ"' in body
    (rec,) = (
        await client.funding.withdrawal_history(m.FundingHistoryQuery(account_id=OTHER))
    ).items
    assert (rec.kind, rec.amount, rec.currency) == ("withdrawal", Decimal("100"), "USD")
    with pytest.raises(InvalidRequest):  # not the account currency
        await client.funding.request_withdrawal(
            m.WithdrawalRequest(account_id=OTHER, amount=Decimal("1"), currency="EUR", payee=PAYEE)
        )
    with pytest.raises(InvalidRequest):  # no payee: refused before I/O
        await client.funding.request_withdrawal(
            m.WithdrawalRequest(account_id=OTHER, amount=Decimal("1"), currency="USD")
        )


async def test_transfer_moves_both_balances(sandbox: LworkSandbox, client: Client) -> None:
    a, b = await balance(client, ACCOUNT), await balance(client, OTHER)
    result = await client.funding.transfer(
        m.TransferRequest(
            from_account=ACCOUNT, to_account=OTHER, amount=Decimal("100.01"), comment=""
        )
    )
    assert result.currency == "USD"  # looked up with account info
    assert await balance(client, ACCOUNT) == a - Decimal("100.01")
    assert await balance(client, OTHER) == b + Decimal("100.01")
    out = (
        await client.funding.cash_ledger(
            m.FundingHistoryQuery(account_id=ACCOUNT, extra={"type": "Transfer"})
        )
    ).items
    into = (
        await client.funding.cash_ledger(
            m.FundingHistoryQuery(account_id=OTHER, extra={"type": "Transfer"})
        )
    ).items
    assert [r.kind for r in out] == ["transfer_out"]
    assert [r.kind for r in into] == ["transfer_in"]
    # across platforms / to a stranger's account: refused by the vendor
    with pytest.raises(InvalidRequest):
        await client.funding.transfer(
            m.TransferRequest(
                from_account=ACCOUNT,
                to_account="3004272",
                amount=Decimal("1"),
                currency="USD",
                extra={
                    "receiptAccountName": "Euro",
                    "receiptServerId": "530",
                    "receiptVendor": "MT4",
                },
            )
        )
    sandbox.add_account("someone-else", login="2090009999", name="X")
    with pytest.raises(NotFound):
        await client.funding.transfer(
            m.TransferRequest(
                from_account=ACCOUNT,
                to_account="2090009999",
                amount=Decimal("1"),
                currency="USD",
                extra={"receiptAccountName": "X"},
            )
        )


async def test_cash_ledger_walks_every_type_to_the_end(
    sandbox: LworkSandbox, client: Client
) -> None:
    for i in range(3):
        await client.funding.request_deposit(
            m.DepositRequest(account_id=OTHER, amount=Decimal(10 + i))
        )
    for i in range(2):
        await client.funding.request_withdrawal(
            m.WithdrawalRequest(
                account_id=OTHER, amount=Decimal(1 + i), currency="USD", payee=PAYEE
            )
        )
    await client.funding.transfer(
        m.TransferRequest(
            from_account=OTHER, to_account=ACCOUNT, amount=Decimal("5"), currency="USD"
        )
    )
    sandbox.journal.clear()
    records = [
        r
        async for r in brokerport.paginate(
            client.funding.cash_ledger, m.FundingHistoryQuery(account_id=OTHER, limit=2)
        )
    ]
    assert [r.kind for r in records] == ["deposit"] * 3 + ["withdrawal"] * 2 + ["transfer_out"]
    assert [r.amount for r in records[:3]] == [Decimal(10), Decimal(11), Decimal(12)]
    queries = [e.query for e in sandbox.journal.for_endpoint("account.cashflow")]
    assert len(queries) == 2 + 1 + 1
    assert all("size=2" in q for q in queries)
    assert "type=Deposit" in queries[0] and "page=2" in queries[1]


async def test_history_dates_and_windows(sandbox: LworkSandbox, client: Client) -> None:
    from datetime import UTC, datetime, timedelta

    await client.funding.request_deposit(m.DepositRequest(account_id=OTHER, amount=Decimal(1)))
    now = datetime.now(UTC)
    old = await client.funding.deposit_history(
        m.FundingHistoryQuery(
            account_id=OTHER, start=now - timedelta(days=30), end=now - timedelta(days=10)
        )
    )
    assert old.items == ()
    query = sandbox.journal.for_endpoint("account.cashflow")[-1].query
    assert "from=" in query and "to=" in query and "type=Deposit" in query
    with pytest.raises(InvalidRequest):
        await client.funding.deposit_history(
            m.FundingHistoryQuery(account_id=OTHER, cursor="garbage")
        )


async def test_missing_defaults_fail_before_io(sandbox: LworkSandbox, make_client: object) -> None:
    async with brokerport.connect(
        "lwork", brokerport.Profile(vendor="lwork"), sandbox_options={"key_bits": 1024}
    ) as client:
        assert client.sandbox is not None
        with pytest.raises(InvalidRequest) as info:
            await client.funding.request_deposit(
                m.DepositRequest(account_id=ACCOUNT, amount=Decimal("1"))
            )
        assert info.value.field in ("pay_currency", "user_id", "server_id")
        with pytest.raises(InvalidRequest):
            await client.funding.balances(m.GetBalances(account_id=ACCOUNT))
        with pytest.raises(InvalidRequest):
            await client.funding.balances(
                m.GetBalances(account_id=ACCOUNT, server_id="428", platform="mt3")
            )
        assert len(client.sandbox.journal) == 0
        # lower-case platform is upper-cased (the vendor wants MT4/MT5)
        (bal,) = await client.funding.balances(
            m.GetBalances(account_id=ACCOUNT, server_id="428", platform="mt4")
        )
        assert bal.currency == "USD"
        assert client.sandbox.journal.last().headers["x-api-vendor"] == "MT4"  # type: ignore
