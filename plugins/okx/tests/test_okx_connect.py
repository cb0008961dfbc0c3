"""Discovery through entry points and the embedded sandbox."""

from __future__ import annotations

from brokerport import connect
from brokerport import models as m
from brokerport.profile import Profile
from brokerport_okx import OkxAdapter
from brokerport_okx.sandbox import OkxSandbox, create_sandbox


def test_entry_points_and_catalog() -> None:
    from brokerport.registry import load_adapter, load_sandbox

    assert load_adapter("okx") is OkxAdapter
    assert load_sandbox("okx") is create_sandbox
    sandbox = create_sandbox()
    assert isinstance(sandbox, OkxSandbox)
    assert sandbox.unrouted() == []  # every catalog endpoint is served
    assert len(OkxAdapter.catalog()) == 36


async def test_embedded_demo_sandbox() -> None:
    async with connect(
        "okx",
        Profile(vendor="okx", options={"broker_code": "DEMO1"}),
        sandbox_options={"demo": True},
    ) as client:
        assert client.sandbox is not None
        assert client.profile.option("simulated") == "1"
        await client.subaccounts.create(m.CreateSubAccount(name="demoSub01"))
        ack = await client.subaccounts.set_demo_assets(
            m.SetDemoAssets(name="demoSub01", currencies=("ETH",))
        )
        assert ack.raw["ETH"]["amt"] == "30"
        sandbox = client.sandbox
        assert isinstance(sandbox, OkxSandbox)
        assert all(e.headers.get("x-simulated-trading") == "1" for e in sandbox.journal)


async def test_embedded_live_sandbox() -> None:
    from decimal import Decimal

    async with connect("okx", Profile(vendor="okx")) as client:
        data = await client.call("public.time")
        assert int(data[0]["ts"]) > 0
        assert "x-simulated-trading" not in client.hooks.credentials
        # the sandbox broker's own code is the default broker code of its clients
        ack = await client.trading.place_order(
            m.PlaceOrder(
                instrument="BTC-USDT", side="buy", order_type="market", quantity=Decimal("1")
            )
        )
        assert client.sandbox is not None
        assert ack.tag == client.sandbox.broker_code  # type: ignore[attr-defined]


async def test_sandbox_reset_keeps_broker_credentials() -> None:
    async with connect("okx", Profile(vendor="okx")) as client:
        sandbox = client.sandbox
        assert isinstance(sandbox, OkxSandbox)
        await client.subaccounts.create(m.CreateSubAccount(name="resetMe01"))
        sandbox.reset()
        assert not sandbox.subaccounts and len(sandbox.journal) == 0
        page = await client.subaccounts.list(m.ListSubAccounts())
        assert page.items == ()
