"""OKX beyond the core trading port: reference data, batches, algo orders, the broker
code on every ``tag``, the full place-order spec, and a DMA sub-account's own
withdrawal (``funding.request_withdrawal``) that moves its balance."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from brokerport import InsufficientFunds, InvalidRequest, PermissionDenied
from brokerport import models as m
from brokerport.client import Client
from brokerport_okx.adapter import OkxAdapter
from brokerport_okx.hooks import BrokerCodeTagger, tagged_endpoints
from brokerport_okx.sandbox import OkxSandbox

LIMIT = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "0.01"}


def bodies(sandbox: OkxSandbox, endpoint: str) -> list[Any]:
    return [json.loads(e.body) for e in sandbox.journal.for_endpoint(endpoint)]


def test_the_broker_code_goes_wherever_a_request_has_a_tag() -> None:
    direct, batched = tagged_endpoints(OkxAdapter.catalog())
    assert direct == {"trade.place_order", "trade.place_algo_order"}
    assert batched == {"trade.batch_orders"}
    assert BrokerCodeTagger("X", OkxAdapter.catalog()).endpoints == direct


async def test_reference_data(client: Client) -> None:
    ext = client.ext("okx.trading")
    spot = await ext.instruments("SPOT")
    assert {"BTC-USDT", "ETH-USDT"} <= {i["instId"] for i in spot}
    (btc,) = await ext.instruments("SPOT", instId="BTC-USDT")
    assert {"tickSz", "lotSz", "minSz", "baseCcy", "quoteCcy"} <= set(btc)
    swaps = await ext.instruments("SWAP", instFamily="BTC-USDT")
    assert [s["instId"] for s in swaps] == ["BTC-USDT-SWAP"]
    usdt = await ext.currencies("USDT", "BTC")
    assert {c["chain"] for c in usdt} >= {"USDT-TRC20", "USDT-ERC20", "BTC-Bitcoin"}
    with pytest.raises(InvalidRequest):  # instType is required, checked before I/O
        await client.call("public.instruments")


async def test_batch_orders_tag_every_item_and_answer_per_item(
    client: Client, sandbox: OkxSandbox
) -> None:
    ext = client.ext("okx.trading")
    items = [LIMIT | {"px": "100"}, LIMIT | {"px": "101", "tag": "mine"}]
    results = await ext.batch_orders([*items, LIMIT | {"px": "100", "instId": "NOPE-USDT"}])
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].code == "51001" and "does not exist" in results[2].message
    sent = bodies(sandbox, "trade.batch_orders")[-1]
    assert isinstance(sent, list) and [o["tag"] for o in sent] == ["BRKCODE01", "mine", "BRKCODE01"]
    assert all(o["clOrdId"].isalnum() for o in sent)  # each can be looked up after a lost answer
    assert results[0].client_order_id == sent[0]["clOrdId"] and results[0].order_id
    refs = [{"instId": "BTC-USDT", "ordId": r.order_id} for r in results[:2]]
    amended = await ext.amend_batch([ref | {"newPx": "99"} for ref in refs])
    assert all(r.ok for r in amended) and sandbox.orders[refs[0]["ordId"]]["px"] == "99"
    cancelled = await ext.cancel_batch(refs)
    assert all(r.ok for r in cancelled)
    again = await ext.cancel_batch(refs)  # all failed: code 1, still one result per item
    assert [r.code for r in again] == ["51400", "51400"]


async def test_batches_are_checked_item_by_item_before_io(
    client: Client, sandbox: OkxSandbox
) -> None:
    ext = client.ext("okx.trading")
    before = len(sandbox.journal)
    with pytest.raises(InvalidRequest, match=r"orders\[1\]: px is required"):
        await ext.batch_orders([LIMIT | {"px": "1"}, LIMIT])
    with pytest.raises(InvalidRequest, match="at most 20"):
        await ext.batch_orders([LIMIT | {"px": "1"}] * 21)
    with pytest.raises(InvalidRequest, match="ordId or clOrdId"):
        await ext.cancel_batch([{"instId": "BTC-USDT"}])
    assert len(sandbox.journal) == before


async def test_algo_orders(client: Client, sandbox: OkxSandbox) -> None:
    ext = client.ext("okx.trading")
    tp_sl = dict(instId="BTC-USDT", tdMode="cash", side="sell", sz="0.01")
    ack = await ext.place_algo(**tp_sl, ordType="oco", tpTriggerPx="300", tpOrdPx="-1",
                               slTriggerPx="50", slOrdPx="-1")  # fmt: skip
    assert ack.ok and ack.algo_id and ack.tag == "BRKCODE01"
    sent = bodies(sandbox, "trade.place_algo_order")[-1]
    assert sent["tag"] == "BRKCODE01" and sent["algoClOrdId"] == ack.algo_client_order_id
    algo = await ext.get_algo(algo_id=ack.algo_id)
    assert algo.state == "live" and algo.order_type == "oco" and algo.size == Decimal("0.01")
    trailing = await ext.place_algo(**tp_sl, ordType="move_order_stop", callbackRatio="0.05")
    results = await ext.cancel_algos(
        [{"instId": "BTC-USDT", "algoId": a} for a in (ack.algo_id, trailing.algo_id)]
    )
    assert all(r.ok for r in results)
    assert (await ext.get_algo(algo_client_order_id=ack.algo_client_order_id)).state == "canceled"
    with pytest.raises(InvalidRequest, match="triggerPx is required"):
        await ext.place_algo(**tp_sl, ordType="trigger", orderPx="-1")
    with pytest.raises(InvalidRequest, match="ordType"):
        await ext.place_algo(**tp_sl, ordType="iceberg", pxVar="0.01")


async def test_place_order_takes_okx_s_full_spec(client: Client, sandbox: OkxSandbox) -> None:
    tpsl = [{"attachAlgoClOrdId": "tp1", "tpTriggerPx": "300", "tpOrdPx": "-1", "slTriggerPx": "50",
             "slOrdPx": "-1"}]  # fmt: skip
    extra = {"tdMode": "cash", "attachAlgoOrds": tpsl, "pxAmendType": "1", "tradeQuoteCcy": "USDT",
             "stpMode": "cancel_maker", "banAmend": "false"}  # fmt: skip
    order = m.PlaceOrder(instrument="BTC-USDT", side="buy", order_type="limit",
                         quantity=Decimal("0.01"), price=Decimal("100"), extra=extra)  # fmt: skip
    ack = await client.trading.place_order(order)
    placed = sandbox.orders[ack.order_id or ""]
    assert placed["attachAlgoOrds"][0]["tpTriggerPx"] == "300"
    assert bodies(sandbox, "trade.place_order")[-1]["pxAmendType"] == "1"
    bad = m.PlaceOrder(instrument="BTC-USDT", side="buy", order_type="limit",
                       quantity=Decimal("0.01"), price=Decimal("100"),
                       extra={"attachAlgoOrds": [{"tpTriggerPx": "x"}]})  # fmt: skip
    with pytest.raises(InvalidRequest, match="attachAlgoOrds"):
        await client.trading.place_order(bad)


async def test_sizes_and_prices_are_checked_against_the_instrument(client: Client) -> None:
    for change, code in (({"sz": "0.000001"}, "51020"), ({"px": "100.001"}, "51000")):
        with pytest.raises(InvalidRequest) as info:
            await client.call("trade.place_order", **(LIMIT | {"px": "100"} | change))
        assert info.value.vendor_code == code


# ------------------------------------------------------------------ withdrawal


async def _sub_client(
    client: Client, sandbox: OkxSandbox, make_client: Callable[..., Client], perms: tuple[str, ...]
) -> Client:
    await client.subaccounts.create(m.CreateSubAccount(name="wdsub001"))
    key = await client.keys.create(
        m.CreateApiKey(owner="wdsub001", label="w1", passphrase="Wd-pass1!", permissions=perms)
    )
    secret = key.secret_key.reveal() if key.secret_key else ""
    creds = {"api_key": key.api_key, "secret_key": secret, "passphrase": "Wd-pass1!"}
    return make_client(creds)


def _withdrawal(
    amount: str, address: str = "TXwd00000000000000000000000000001", **extra: str
) -> Any:
    payee = m.Payee(name="me", account_number=address)
    return m.WithdrawalRequest(account_id="wdsub001", amount=Decimal(amount), currency="USDT",
                               payee=payee, extra={"chain": "USDT-TRC20", **extra})  # fmt: skip


async def test_a_sub_account_withdraws_with_its_own_key(
    client: Client, sandbox: OkxSandbox, make_client: Callable[..., Client]
) -> None:
    own = await _sub_client(client, sandbox, make_client, ("read", "withdraw"))
    sandbox.add_deposit("wdsub001", "USDT", "100")
    async with own:
        ticket = await own.funding.request_withdrawal(_withdrawal("40", clientId="wd1"))
        assert ticket.withdrawal_id and ticket.amount == Decimal("40")
        assert ticket.account_id == "wdsub001" and ticket.currency == "USDT"
        sent = bodies(sandbox, "asset.withdrawal")[-1]
        assert sent == {"ccy": "USDT", "amt": "40", "toAddr": sent["toAddr"], "dest": "4",
                        "chain": "USDT-TRC20", "clientId": "wd1"}  # fmt: skip
        # 40 + the chain's minimum fee (1 USDT on TRC20) left the funding account
        assert sandbox.subaccounts["wdsub001"].funding["USDT"] == Decimal("59")
        (bal,) = await own.call("asset.balances", ccy="USDT")
        assert bal["availBal"] == "59"
        mine = await own.call("asset.withdrawal_history", clientId="wd1")
        assert [w["wdId"] for w in mine] == [ticket.withdrawal_id]
        with pytest.raises(InsufficientFunds):
            await own.funding.request_withdrawal(_withdrawal("59"))  # + fee > balance
        with pytest.raises(InvalidRequest) as info:
            await own.funding.request_withdrawal(_withdrawal("0.05"))
        assert info.value.vendor_code == "58206"  # below the chain's minWd
        with pytest.raises(InvalidRequest) as info:
            await own.funding.request_withdrawal(_withdrawal("5", fee="0.5"))
        assert info.value.vendor_code == "58211"  # fee below minFee
        with pytest.raises(InvalidRequest) as info:
            await own.funding.request_withdrawal(_withdrawal("5.1234567"))
        assert info.value.vendor_code == "51000"  # more decimals than wdTickSz
    # the broker sees it in the sub-account's withdrawal history
    page = await client.funding.withdrawal_history(m.FundingHistoryQuery(account_id="wdsub001"))
    assert [r.record_id for r in page.items] == [ticket.withdrawal_id]


async def test_withdrawal_rules(
    client: Client, sandbox: OkxSandbox, make_client: Callable[..., Client]
) -> None:
    own = await _sub_client(client, sandbox, make_client, ("read", "trade"))
    async with own:
        with pytest.raises(PermissionDenied) as info:  # no withdraw permission
            await own.funding.request_withdrawal(_withdrawal("10"))
        assert info.value.vendor_code == "50120"
    await client.subaccounts.create(m.CreateSubAccount(name="wdsub002"))
    key = await client.keys.create(
        m.CreateApiKey(
            owner="wdsub002", label="w2", passphrase="Wd-pass1!", permissions=("read", "withdraw")
        )
    )
    secret = key.secret_key.reveal() if key.secret_key else ""
    sandbox.add_deposit("wdsub002", "XRP", "100")
    async with make_client(
        {"api_key": key.api_key, "secret_key": secret, "passphrase": "Wd-pass1!"}
    ) as c2:
        payee = m.Payee(name="x", account_number="rXRPaddress")
        xrp = m.WithdrawalRequest(account_id="wdsub002", amount=Decimal("5"), currency="XRP",
                                  payee=payee)  # fmt: skip
        with pytest.raises(InvalidRequest) as info:
            await c2.funding.request_withdrawal(xrp)
        assert info.value.vendor_code == "58221"  # XRP needs address:tag
        # internal (dest 3) to another sub-account: no fee, lands at once
        internal = m.WithdrawalRequest(account_id="wdsub002", amount=Decimal("7"), currency="XRP",
                                       payee=m.Payee(name="x", account_number="wdsub001"),
                                       extra={"dest": "3"})  # fmt: skip
        await c2.funding.request_withdrawal(internal)
    assert sandbox.subaccounts["wdsub002"].funding["XRP"] == Decimal("93")
    assert sandbox.subaccounts["wdsub001"].funding["XRP"] == Decimal("7")
    with pytest.raises(InvalidRequest, match="chain"):  # checked before I/O
        await client.call("asset.withdrawal", ccy="USDT", amt="1", dest="4", toAddr="a",
                          chain="BTC-Bitcoin")  # fmt: skip
