"""Port operations and the okx.rebates extension against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from brokerport import models as m
from brokerport import paginate
from brokerport.errors import Conflict, InvalidRequest, NotFound
from brokerport_okx.ports import RebateEligibility
from brokerport_okx.sandbox import OkxSandbox


async def _all(op: Any, req: Any) -> list[Any]:
    return [x async for x in paginate(op, req)]


async def test_subaccount_lifecycle(client: Any, sandbox: OkxSandbox) -> None:
    created = await client.subaccounts.create(
        m.CreateSubAccount(name="brokerTest5", label="5566", extra={"clientIP": "1.2.3.4"})
    )
    assert created.name == "brokerTest5" and created.label == "5566" and created.level == "1"
    assert created.account_id and created.created_at and created.created_at.tzinfo is UTC
    second = await client.subaccounts.create(
        m.CreateSubAccount(name="brokerLvl2", extra={"mainAcct": "brokerTest5"})
    )
    assert second.raw["subAcct"] == "brokerLvl2"
    assert sandbox.subaccounts["brokerLvl2"].main == "brokerTest5"
    with pytest.raises(Conflict):
        await client.subaccounts.create(m.CreateSubAccount(name="brokerTest5"))
    for i in range(5):
        await client.subaccounts.create(m.CreateSubAccount(name=f"pageSub{i:02d}"))
    page = await client.subaccounts.list(m.ListSubAccounts(limit=3))
    assert len(page) == 3 and page.next_cursor == "2"
    names = [s.name for s in await _all(client.subaccounts.list, m.ListSubAccounts(limit=3))]
    assert len(names) == 7 and len(set(names)) == 7
    one = await client.subaccounts.list(m.ListSubAccounts(name="brokerTest5"))
    assert [s.status for s in one] == ["enabled"]

    ack = await client.subaccounts.set_level(m.SetSubAccountLevel(name="brokerTest5", level=3))
    assert ack.reference == "3" and sandbox.subaccounts["brokerTest5"].level == "3"
    ack = await client.subaccounts.report_ip(m.ReportLoginIp(name="brokerTest5", ip="8.8.8.8"))
    assert sandbox.subaccounts["brokerTest5"].reported_ips[-1][0] == "8.8.8.8"

    fees = await _all(client.subaccounts.fee_rates, m.FeeRateQuery(instrument_type="1", limit=2))
    assert len(fees) == 7 and {f.instrument_type for f in fees} == {"1"}
    assert fees[0].maker == Decimal("-0.0008") and fees[0].taker == Decimal("-0.001")
    all_fees = await client.subaccounts.fee_rates(
        m.FeeRateQuery(instrument_type="all", name="brokerTest5")
    )
    assert len(all_fees) == 9

    with pytest.raises(Conflict) as info:  # a second-level sub-account still under it
        await client.subaccounts.delete(m.SubAccountRef(name="brokerTest5"))
    assert info.value.vendor_code == "59606"
    await client.subaccounts.delete(m.SubAccountRef(name="brokerLvl2"))
    ack = await client.subaccounts.delete(m.SubAccountRef(name="brokerTest5"))
    assert ack.ok and ack.reference == "brokerTest5"
    with pytest.raises(NotFound):
        await client.subaccounts.delete(m.SubAccountRef(name="brokerTest5"))


async def test_key_lifecycle(client: Any, sandbox: OkxSandbox) -> None:
    await client.subaccounts.create(m.CreateSubAccount(name="keyOwner1"))
    key = await client.keys.create(
        m.CreateApiKey(
            owner="keyOwner1",
            label="bot1",
            passphrase="Qwr4321!",
            permissions=("read", "trade"),
            ips=("10.0.0.1", "10.0.0.2"),
        )
    )
    assert key.permissions == ("read", "trade") and key.ips == ("10.0.0.1", "10.0.0.2")
    assert key.secret_key is not None and key.raw["secretKey"] == "***"
    with pytest.raises(Conflict) as info:
        await client.keys.create(
            m.CreateApiKey(owner="keyOwner1", label="bot1", passphrase="Qwr4321!")
        )
    assert info.value.vendor_code == "59502"
    updated = await client.keys.update(
        m.UpdateApiKey(
            owner="keyOwner1", api_key=key.api_key, label="bot2", permissions=("read",), ips=()
        )
    )
    assert updated.label == "bot2" and updated.permissions == ("read",) and updated.ips == ()
    listed = await client.keys.list(m.ListApiKeys(owner="keyOwner1", api_key=key.api_key))
    assert [k.label for k in listed] == ["bot2"] and listed[0].secret_key is None
    await client.keys.delete(m.ApiKeyRef(owner="keyOwner1", api_key=key.api_key))
    assert await client.keys.list(m.ListApiKeys(owner="keyOwner1")) == ()
    with pytest.raises(NotFound) as nf:
        await client.keys.delete(m.ApiKeyRef(owner="keyOwner1", api_key=key.api_key))
    assert nf.value.vendor_code == "59506"
    with pytest.raises(NotFound):
        await client.keys.list(m.ListApiKeys(owner="nobody01"))


async def test_deposit_addresses(client: Any, sandbox: OkxSandbox) -> None:
    await client.subaccounts.create(m.CreateSubAccount(name="fundSub01"))
    first = await client.funding.create_deposit_address(
        m.CreateDepositAddress(account_id="fundSub01", currency="BTC", extra={"addrType": "2"})
    )
    assert first.address.startswith("bc1q") and first.chain == "BTC-Bitcoin"
    for _ in range(19):
        await client.funding.create_deposit_address(
            m.CreateDepositAddress(account_id="fundSub01", currency="BTC")
        )
    with pytest.raises(Conflict) as info:  # at most 20 per currency
        await client.funding.create_deposit_address(
            m.CreateDepositAddress(account_id="fundSub01", currency="BTC")
        )
    assert info.value.vendor_code == "58300"
    eos = await client.funding.create_deposit_address(
        m.CreateDepositAddress(account_id="fundSub01", currency="EOS")
    )
    assert eos.tag  # EOS deposits need a memo
    changed = await client.funding.update_deposit_address(
        m.UpdateDepositAddress(
            account_id="fundSub01", currency="BTC", address=first.address, destination="18"
        )
    )
    assert changed.destination == "18"
    listed = await client.funding.list_deposit_addresses(
        m.ListDepositAddresses(account_id="fundSub01", currency="BTC")
    )
    assert len(listed) == 20 and {a.destination for a in listed} == {"18"}
    with pytest.raises(InvalidRequest):
        await client.funding.update_deposit_address(
            m.UpdateDepositAddress(
                account_id="fundSub01", currency="BTC", address="nope", destination="6"
            )
        )


async def test_deposit_and_withdrawal_history(client: Any, sandbox: OkxSandbox) -> None:
    base = 1_700_000_000_000
    for i in range(7):
        sandbox.add_deposit("histSub01", "USDT" if i % 2 else "BTC", f"1.{i}", ts=base + i * 1000)
        sandbox.add_withdrawal(
            "histSub01", "ETH", f"0.0{i + 1}", ts=base + i * 1000, client_id=f"wd{i}"
        )
    sandbox.add_deposit("otherSub1", "BTC", "9", ts=base)
    records = await _all(
        client.funding.deposit_history, m.FundingHistoryQuery(account_id="histSub01", limit=3)
    )
    assert [r.amount for r in records] == [Decimal(f"1.{i}") for i in reversed(range(7))]
    assert all(r.kind == "deposit" and r.account_id == "histSub01" for r in records)
    usdt = await client.funding.deposit_history(
        m.FundingHistoryQuery(account_id="histSub01", currency="USDT")
    )
    assert len(usdt) == 3
    window = await client.funding.deposit_history(
        m.FundingHistoryQuery(
            account_id="histSub01",
            start=datetime.fromtimestamp((base + 1500) / 1000, tz=UTC),
            end=datetime.fromtimestamp((base + 4500) / 1000, tz=UTC),
        )
    )
    assert [r.amount for r in window] == [Decimal("1.4"), Decimal("1.3"), Decimal("1.2")]
    wds = await _all(
        client.funding.withdrawal_history, m.FundingHistoryQuery(account_id="histSub01", limit=2)
    )
    assert len(wds) == 7 and wds[0].amount == Decimal("0.07") and wds[0].kind == "withdrawal"
    by_client = await client.funding.withdrawal_history(
        m.FundingHistoryQuery(account_id="histSub01", extra={"clientId": "wd3"})
    )
    assert [r.raw["clientId"] for r in by_client] == ["wd3"]


async def test_order_lifecycle(client: Any, sandbox: OkxSandbox) -> None:
    ack = await client.trading.place_order(
        m.PlaceOrder(
            instrument="BTC-USDT",
            side="sell",
            order_type="limit",
            quantity=Decimal("0.25"),
            price=Decimal("43000.5"),
            time_in_force="post_only",
        )
    )
    assert sandbox.orders[ack.order_id]["ordType"] == "post_only"
    amended = await client.trading.amend_order(
        m.AmendOrder(instrument="BTC-USDT", order_id=ack.order_id, new_price=Decimal("43001"))
    )
    assert amended.order_id == ack.order_id
    order = await client.trading.get_order(
        m.OrderRef(instrument="BTC-USDT", client_order_id=ack.client_order_id)
    )
    assert order.price == Decimal("43001") and order.quantity == Decimal("0.25")
    assert order.status == "live" and order.tag == "BRKCODE01"
    cancelled = await client.trading.cancel_order(
        m.OrderRef(instrument="BTC-USDT", order_id=ack.order_id)
    )
    assert cancelled.status == "cancelled"
    again = await client.trading.cancel_order(
        m.OrderRef(instrument="BTC-USDT", order_id=ack.order_id)
    )
    assert again.status == "cancelled" and again.order_id == ack.order_id
    with pytest.raises(Conflict):
        await client.trading.amend_order(
            m.AmendOrder(instrument="BTC-USDT", order_id=ack.order_id, new_quantity=Decimal("1"))
        )
    market = await client.trading.place_order(
        m.PlaceOrder(
            instrument="ETH-USDT-SWAP",
            side="buy",
            order_type="market",
            quantity=Decimal("2"),
            extra={"tdMode": "cross", "posSide": "long"},
        )
    )
    filled = await client.trading.get_order(
        m.OrderRef(instrument="ETH-USDT-SWAP", order_id=market.order_id)
    )
    assert filled.status == "filled" and filled.filled_quantity == Decimal("2")
    assert filled.price is None and filled.average_price == Decimal("100")
    with pytest.raises(InvalidRequest):
        await client.trading.place_order(
            m.PlaceOrder(
                instrument="BTC-USDT",
                side="buy",
                order_type="market",
                quantity=Decimal("1"),
                time_in_force="ioc",
            )
        )


async def test_rebates_extension(client: Any, sandbox: OkxSandbox) -> None:
    rebates = client.ext("okx.rebates")
    today = datetime.fromtimestamp(sandbox.clock.now(), tz=UTC).strftime("%Y%m%d")
    req = await rebates.generate("20240101", "20240131")
    assert req.exists is False and req.received_at is not None
    again = await rebates.generate("20240101", "20240131")
    assert again.exists is True
    links = await rebates.links(all_history=True)
    assert [link.state for link in links] == ["ongoing"] and links[0].file_href is None
    sandbox.clock.advance(7200)
    links = await rebates.links(begin=today, end="29991231")
    assert len(links) == 1 and links[0].ready and links[0].file_href
    assert links[0].begin == datetime(2024, 1, 1, tzinfo=UTC)
    assert await rebates.links(begin="20000101", end="20000102") == ()
    elig = await rebates.eligibility(sandbox.live_credentials()["api_key"])
    assert isinstance(elig, RebateEligibility) and elig.eligible
    assert elig.broker_code == sandbox.broker_code
    sandbox.rebate_status["user-key-1"] = {"type": "3", "lastRebate": "12.5"}
    elig = await rebates.eligibility("user-key-1")
    assert not elig.eligible and elig.reason == "3" and elig.last_rebate == Decimal("12.5")
    with pytest.raises(NotFound):
        await rebates.eligibility("unknown-key")


async def test_broker_type_required_when_broker_has_two(
    make_client: Any, sandbox: OkxSandbox
) -> None:
    sandbox.broker_types = ("api", "oauth")
    async with make_client() as c:
        with pytest.raises(InvalidRequest) as info:
            await c.ext("okx.rebates").links(all_history=True)
        assert info.value.vendor_code == "50044"
        assert await c.ext("okx.rebates").links(all_history=True, broker_type="oauth") == ()


async def test_cancel_whose_answer_was_lost_is_retried_and_succeeds(
    client: Any, sandbox: OkxSandbox
) -> None:
    ack = await client.trading.place_order(
        m.PlaceOrder(
            instrument="BTC-USDT",
            side="buy",
            order_type="limit",
            quantity=Decimal("1"),
            price=Decimal("1"),
        )
    )
    sandbox.faults.add("lost", "trade.cancel_order")
    done = await client.trading.cancel_order(
        m.OrderRef(instrument="BTC-USDT", client_order_id=ack.client_order_id)
    )
    assert done.status == "cancelled"
    assert len(sandbox.journal.for_endpoint("trade.cancel_order")) == 2
    assert len(sandbox.journal.effects("trade.cancel_order")) == 1


async def test_idle_unbound_trading_keys_are_deleted_after_14_days(
    client: Any, sandbox: OkxSandbox
) -> None:
    await client.subaccounts.create(m.CreateSubAccount(name="idleKeys1"))
    unbound = await client.keys.create(
        m.CreateApiKey(
            owner="idleKeys1", label="unbound", passphrase="Qwr4321!", permissions=("trade",)
        )
    )
    bound = await client.keys.create(
        m.CreateApiKey(
            owner="idleKeys1",
            label="bound",
            passphrase="Qwr4321!",
            permissions=("trade",),
            ips=("10.1.1.1",),
        )
    )
    reader = await client.keys.create(
        m.CreateApiKey(
            owner="idleKeys1", label="reader", passphrase="Qwr4321!", permissions=("read",)
        )
    )
    sandbox.clock.advance(14 * 24 * 3600 + 1)
    import time as _time

    # the client signs on its own clock: follow the sandbox
    client.clock_offset = sandbox.clock.now() - _time.time()
    keys = {k.api_key for k in await client.keys.list(m.ListApiKeys(owner="idleKeys1"))}
    assert keys == {bound.api_key, reader.api_key}
    assert unbound.api_key not in sandbox.keys
