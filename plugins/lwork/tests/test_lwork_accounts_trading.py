"""Accounts (list, get, open live/demo, profile) and read-only trading, against the sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import brokerport
import pytest
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import InvalidRequest, NotFound, NotSupported
from brokerport_lwork import LworkAdapter
from brokerport_lwork.catalog import PAGED_ENDPOINTS, SIGNED_ENDPOINTS
from brokerport_lwork.sandbox import SEED_DEMO_TYPE, SEED_USER, LworkSandbox

ACCOUNT = "2090001252"

DOCUMENTED = {
    "account.info_by_user_ids": ("GET", "/v1/api/account/info/byUserId"),
    "account.info": ("GET", "/v1/api/account/{account}"),
    "account.deposit": ("POST", "/v2/api/account/{userId}/{serverId}/{login}/deposit"),
    "account.deposit_callback": ("POST", "/v1/api/account/deposit/callback"),
    "account.withdraw": ("POST", "/v2/api/account/{userId}/{serverId}/{login}/withdraw"),
    "account.open": ("POST", "/v1/api/account/{userId}/open"),
    "account.open_demo_sms": ("POST", "/v1/api/account/{pubUserId}/sms/open/demo"),
    "account.cashflow": ("GET", "/v1/api/account/{userId}/{login}/cashflow"),
    "account.history": ("GET", "/v1/api/account/{userId}/{login}/history"),
    "account.pending": ("GET", "/v1/api/account/{userId}/{login}/pending"),
    "account.position": ("GET", "/v1/api/account/{userId}/{login}/position"),
    "account.transfer": ("POST", "/v1/api/account/{pubUserId}/{accountId}/transfer"),
    "account.update_base": ("POST", "/v1/api/account/{pubUserId}/update/diff/base"),
    "account.update_finance": ("POST", "/v1/api/account/{pubUserId}/update/diff/finance"),
    "account.update_certificate": ("POST", "/v1/api/account/{pubUserId}/update/diff/certificate"),
    "account.open_sc": ("POST", "/v2/api/account/{userId}/open"),
    "account.open_task": ("POST", "/v2/api/account/{userId}/task/open"),
}


def test_catalog_has_every_documented_endpoint(sandbox: LworkSandbox) -> None:
    catalog = LworkAdapter.catalog()
    assert {n: (e.method, e.path) for n, e in catalog.items()} == DOCUMENTED
    assert sandbox.unrouted() == []
    info = catalog["account.info"]
    assert {p.name: p.location for p in info.params if p.location == "header"} == {
        "x-api-vendor": "header",
        "x-api-serverid": "header",
    }
    for name in SIGNED_ENDPOINTS:
        assert catalog[name].param("signature") is not None
    for name in PAGED_ENDPOINTS:
        assert {"from", "to", "page", "size"} <= {p.name for p in catalog[name].params}


def test_entry_points_and_typing_marker() -> None:
    from importlib.metadata import entry_points
    from importlib.resources import files

    adapters = {ep.name: ep.value for ep in entry_points(group="brokerport.adapters")}
    sandboxes = {ep.name: ep.value for ep in entry_points(group="brokerport.sandboxes")}
    assert adapters["lwork"] == "brokerport_lwork:LworkAdapter"
    assert sandboxes["lwork"] == "brokerport_lwork.sandbox:create_sandbox"
    assert files("brokerport_lwork").joinpath("py.typed").is_file()


async def test_tenant_headers_on_every_call(sandbox: LworkSandbox, client: Client) -> None:
    await client.accounts.list(m.ListAccounts(user_ids=[SEED_USER]))
    await client.funding.request_deposit(m.DepositRequest(account_id=ACCOUNT, amount=Decimal(1)))
    for entry in sandbox.journal:
        headers = {k.lower(): v for k, v in entry.headers.items()}
        assert headers["x-api-tenantid"] == sandbox.tenant_id
        assert headers["x-api-token"]


async def test_list_and_get(sandbox: LworkSandbox, client: Client) -> None:
    page = await client.accounts.list(m.ListAccounts(user_ids=[SEED_USER, "nobody"]))
    by_id = {a.account_id: a for a in page}
    assert set(by_id) == {"2090001252", "2090001253", "3004272"}
    assert by_id[ACCOUNT].leverage == 20 and by_id[ACCOUNT].group == "demoTB"
    assert by_id[ACCOUNT].user_id == SEED_USER and by_id[ACCOUNT].status == "active"
    assert by_id[ACCOUNT].created_at is not None
    assert "userIds=" in sandbox.journal.last().query  # type: ignore[union-attr]

    acct = await client.accounts.get(m.GetAccount(account_id=ACCOUNT))
    assert (acct.name, acct.balance, acct.platform, acct.server_id) == (
        "Demo",
        Decimal("51092.55"),
        "MT4",
        "428",
    )
    mt5 = await client.accounts.get(
        m.GetAccount(account_id="3004272", server_id="530", platform="MT5")
    )
    assert mt5.currency == "EUR"
    with pytest.raises(NotFound):  # right login, wrong server
        await client.accounts.get(m.GetAccount(account_id="3004272"))


async def test_open_live_v1_sc_and_task(sandbox: LworkSandbox, client: Client) -> None:
    app = await client.accounts.open_live(
        m.OpenAccount(
            user_id=SEED_USER,
            group="demoforex",
            leverage=50,
            password="S3cret-pass!",
            extra={
                "accountName": "demo",
                "email": "a@example.com",
                "phone": {"countryCode": "86", "phone": "18602920465"},
            },
        )
    )
    assert app.account_id and app.status == "opened"
    assert sandbox.accounts[app.account_id].group == "demoforex"
    body = json.loads(sandbox.journal.for_endpoint("account.open")[-1].body)
    assert body["password"] == "S3cret-pass!" and body["leverage"] == 50

    sc = await client.accounts.open_live(
        m.OpenAccount(
            user_id=SEED_USER,
            group="g1",
            leverage=100,
            extra={
                "via": "sc",
                "accountInfo": {"email": "b@example.com", "phone": "86 1"},
                "baseInfo": {"accountName": "SC"},
                "financialInfo": {"accountNo": "1"},
                "certificatesInfo": {"idType": "ID"},
            },
        )
    )
    assert sc.account_id in sandbox.accounts
    assert sandbox.users[SEED_USER].finance == {"accountNo": "1"}

    task = await client.accounts.open_live(
        m.OpenAccount(
            user_id=SEED_USER,
            group="g1",
            leverage=100,
            extra={
                "via": "task",
                "accountInfo": {"email": "b@example.com", "phone": "86 1"},
                "baseInfo": {},
                "financialInfo": {},
                "certificatesInfo": {},
            },
        )
    )
    assert task.application_id in sandbox.tasks and task.account_id is None

    with pytest.raises(InvalidRequest):  # the vendor's BW_INVALID_PARAM: no email
        await client.accounts.open_live(
            m.OpenAccount(
                user_id=SEED_USER,
                group="g",
                leverage=1,
                extra={
                    "accountName": "x",
                    "phone": {"countryCode": "86", "phone": "1"},
                    "email": "",
                },
            )
        )
    with pytest.raises(NotFound):
        await client.accounts.open_live(
            m.OpenAccount(
                user_id="ghost",
                group="g",
                leverage=1,
                extra={
                    "accountName": "x",
                    "email": "e",
                    "phone": {"countryCode": "1", "phone": "2"},
                },
            )
        )


async def test_open_demo_by_sms(sandbox: LworkSandbox, client: Client) -> None:
    before = set(sandbox.accounts)
    app = await client.accounts.open_demo(
        m.OpenDemoAccount(
            user_id=SEED_USER,
            phone="1879342xxxx",
            extra={"demoAccountType": SEED_DEMO_TYPE, "accountName": "SmsDemo01"},
        )
    )
    assert app.status == "submitted"
    (new,) = set(sandbox.accounts) - before
    assert sandbox.accounts[new].demo and sandbox.accounts[new].balance == Decimal("10000")
    with pytest.raises(InvalidRequest):  # no demo account type anywhere: before I/O
        await client.accounts.open_demo(
            m.OpenDemoAccount(user_id=SEED_USER, phone="1", extra={"accountName": "x"})
        )


async def test_update_profile_sections(sandbox: LworkSandbox, client: Client) -> None:
    await client.accounts.update_profile(
        m.UpdateProfile(user_id=SEED_USER, section="base", fields={"accountName": "test"})
    )
    await client.accounts.update_profile(
        m.UpdateProfile(
            user_id=SEED_USER,
            section="finance",
            fields={"accountNo": "xxxx", "bankAddress": {"city": "X"}},
        )
    )
    await client.accounts.update_profile(
        m.UpdateProfile(user_id=SEED_USER, section="certificate", fields={"idNo": "xxxx"})
    )
    user = sandbox.users[SEED_USER]
    assert user.base["accountName"] == "test"
    assert user.finance == {"accountNo": "xxxx", "bankAddress": {"city": "X"}}
    assert user.certificate == {"idNo": "xxxx"}
    with pytest.raises(InvalidRequest):
        await client.accounts.update_profile(
            m.UpdateProfile(user_id=SEED_USER, section="hobbies", fields={"a": 1})
        )


async def test_trading_is_read_only(client: Client) -> None:
    assert "trading.place_order" not in client.capabilities
    with pytest.raises(NotSupported):
        await client.trading.place_order(
            m.PlaceOrder(instrument="EURUSD", side="buy", order_type="market", quantity=Decimal(1))
        )


async def test_order_history_pages_to_the_end(sandbox: LworkSandbox, client: Client) -> None:
    now = sandbox.clock.now()
    for i in range(23):
        sandbox.add_trade("2090001253", profit=str(i), at=now - 86400 * 5 + i * 60)
    sandbox.journal.clear()
    orders = [
        o
        async for o in brokerport.paginate(
            client.trading.order_history, m.OrderQuery(account_id="2090001253", limit=5)
        )
    ]
    assert len(orders) == 23
    assert [o.profit for o in orders] == [Decimal(i) for i in range(23)]
    assert len({o.order_id for o in orders}) == 23
    assert all(o.status == "closed" and o.side == "sell" for o in orders)
    pages = [e.query for e in sandbox.journal.for_endpoint("account.history")]
    assert len(pages) == 5 and "page=5" in pages[-1] and "size=5" in pages[-1]
    first = await client.trading.order_history(m.OrderQuery(account_id="2090001253", limit=5))
    assert first.total == 23 and first.next_cursor == "2"


async def test_positions_and_open_orders(client: Client) -> None:
    positions = await client.trading.positions(m.PositionQuery(account_id=ACCOUNT))
    assert {p.instrument for p in positions} == {"XAUUSD", "EURUSD"}
    gold = next(p for p in positions if p.instrument == "XAUUSD")
    assert gold.quantity == Decimal("0.1") and gold.side == "buy"
    assert gold.opened_at is not None and gold.opened_at.tzinfo is not None
    pending = await client.trading.open_orders(m.OrderQuery(account_id=ACCOUNT))
    (order,) = pending.items
    assert (order.order_type, order.side, order.price) == ("BuyLimit", "buy", Decimal("1.05984"))
    # an explicit window that holds nothing
    empty = await client.trading.open_orders(
        m.OrderQuery(
            account_id=ACCOUNT,
            start=datetime(2017, 1, 1, tzinfo=UTC),
            end=datetime(2017, 9, 1, tzinfo=UTC),
        )
    )
    assert empty.items == () and empty.next_cursor is None


async def test_vendor_times_are_read_in_the_vendor_zone(
    sandbox: LworkSandbox, make_client: object
) -> None:
    """The sandbox renders wall-clock times at +08:00 (like the document's epoch-0
    executionTime '1970-01-01T08:00:00.000'); the client reads them back to UTC."""
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()
    sandbox.add_position("2090001253", at=at)
    async with brokerport.connect(
        "lwork",
        brokerport.Profile(vendor="lwork", options={"user_id": SEED_USER}),
        sandbox_options={"key_bits": 1024},
    ) as client:
        assert isinstance(client.sandbox, LworkSandbox)
        client.sandbox.add_position("2090001253", at=at)
        (pos,) = (await client.trading.positions(m.PositionQuery(account_id="2090001253"))).items
        assert pos.raw["openTime"] == "2026-03-01T20:00:00.000"
        assert pos.opened_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
