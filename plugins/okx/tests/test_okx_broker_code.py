"""The broker code goes into ``tag`` of every order, through a visible, replaceable hook."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from brokerport import hookimpl
from brokerport import models as m
from brokerport.pipeline import Call
from brokerport_okx.hooks import BROKER_CODE_HOOK, BrokerCodeTagger
from brokerport_okx.sandbox import OkxSandbox

ORDER = m.PlaceOrder(
    instrument="BTC-USDT",
    side="buy",
    order_type="limit",
    quantity=Decimal("0.5"),
    price=Decimal("20000.1"),
)


def sent(sandbox: OkxSandbox, i: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(sandbox.journal.for_endpoint("trade.place_order")[i].body)
    return body


async def test_every_order_carries_the_broker_code(client: Any, sandbox: OkxSandbox) -> None:
    hook = client.hooks.get(BROKER_CODE_HOOK)
    assert isinstance(hook, BrokerCodeTagger) and hook.broker_code == "BRKCODE01"
    ack = await client.trading.place_order(ORDER)
    assert ack.tag == "BRKCODE01"
    body = sent(sandbox)
    assert body["tag"] == "BRKCODE01"
    assert body["px"] == "20000.1" and body["sz"] == "0.5" and body["tdMode"] == "cash"
    # a generated clOrdId, 1-32 alphanumerics, returned to the host
    assert body["clOrdId"].isalnum() and 1 <= len(body["clOrdId"]) <= 32
    assert ack.client_order_id == body["clOrdId"]
    raw = await client.call(
        "trade.place_order", instId="ETH-USDT", tdMode="cash", side="sell", ordType="market", sz="1"
    )
    assert raw[0]["tag"] == "BRKCODE01" and sent(sandbox)["tag"] == "BRKCODE01"
    order = await client.trading.get_order(m.OrderRef(instrument="BTC-USDT", order_id=ack.order_id))
    assert order.tag == "BRKCODE01"
    assert sandbox.orders[ack.order_id or ""]["tag"] == "BRKCODE01"


async def test_host_client_order_id_is_kept(client: Any, sandbox: OkxSandbox) -> None:
    ack = await client.trading.place_order(
        m.PlaceOrder(
            instrument="BTC-USDT",
            side="buy",
            order_type="limit",
            quantity=Decimal("1"),
            price=Decimal("1"),
            client_order_id="hostId42",
        )
    )
    assert ack.client_order_id == "hostId42" and sent(sandbox)["clOrdId"] == "hostId42"


async def test_no_broker_code_configured_means_no_tag(
    make_client: Any, sandbox: OkxSandbox
) -> None:
    async with make_client() as c:
        assert c.hooks.get(BROKER_CODE_HOOK) is None
        await c.trading.place_order(ORDER)
    assert "tag" not in sent(sandbox)


async def test_hook_is_replaceable(make_client: Any, sandbox: OkxSandbox) -> None:
    class PerDesk:
        @hookimpl
        def brokerport_before_request(self, call: Call) -> None:
            if call.endpoint.name == "trade.place_order":
                call.params["tag"] = "DESK7"

    async with make_client(broker_code="BRKCODE01") as c:
        c.hooks.unregister(name=BROKER_CODE_HOOK)
        c.hooks.register(PerDesk(), name=BROKER_CODE_HOOK)
        await c.trading.place_order(ORDER)
    assert sent(sandbox)["tag"] == "DESK7"


async def test_broker_code_not_added_to_other_endpoints(client: Any, sandbox: OkxSandbox) -> None:
    await client.call("broker.dma.create_subaccount", subAcct="tagless1")
    body = json.loads(sandbox.journal.for_endpoint("broker.dma.create_subaccount")[0].body)
    assert body == {"subAcct": "tagless1"}
