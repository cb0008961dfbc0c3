"""The sandbox as a faithful gateway: auth refusals, and the state the ports touch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import (
    AuthenticationError,
    Conflict,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
)
from brokerport.pipeline import RetryPolicy
from brokerport.profile import Profile
from brokerport_whale import WhaleAdapter
from brokerport_whale.sandbox import SEED_ACCOUNT, SEED_MEMBER, WhaleSandbox

FAST = RetryPolicy(base_delay=0.0, max_delay=0.0)


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[WhaleSandbox]:
    sb = WhaleSandbox()
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


def _client(sb: WhaleSandbox, retry: RetryPolicy = FAST, **creds: str) -> Client:
    profile = Profile(
        vendor="whale",
        name="t",
        base_url=sb.base_url,
        credentials={**sb.credentials(), **creds},
        options=sb.profile_options(),
    )
    return Client(WhaleAdapter, profile, retry=retry)


@pytest_asyncio.fixture
async def client(sandbox: WhaleSandbox) -> AsyncIterator[Client]:
    async with _client(sandbox) as c:
        yield c


READ = ("asset.cash_info", {"account_no": SEED_ACCOUNT})


@pytest.mark.parametrize(
    ("creds", "code"),
    [
        ({"app_secret": "not-the-secret"}, "403201"),
        ({"app_key": "no-such-key"}, "403203"),
        ({"access_token": "no-such-token"}, "401004"),
    ],
)
async def test_gateway_refuses_bad_credentials(
    sandbox: WhaleSandbox, creds: dict[str, str], code: str
) -> None:
    async with _client(sandbox, **creds) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.call(READ[0], **READ[1])
    assert info.value.vendor_code == code
    assert sandbox.journal.last() is not None and sandbox.journal.last().rejected == "auth"  # type: ignore[union-attr]


async def test_expired_token_and_stale_timestamp(sandbox: WhaleSandbox, client: Client) -> None:
    sandbox.clock.advance(86400 * 31)  # past the token's 30 days (and the client's clock)
    with pytest.raises(AuthenticationError) as info:
        await client.call(*READ[:1], **READ[1])
    assert info.value.vendor_code == "403201"  # the timestamp is refused first
    client.clock_offset = 86400 * 31
    with pytest.raises(AuthenticationError) as info:
        await client.call(*READ[:1], **READ[1])
    assert info.value.vendor_code == "401003"


async def test_401004_may_arrive_with_http_400() -> None:
    sb = WhaleSandbox(token_invalid_status=400)
    await sb.start()
    try:
        async with _client(sb, access_token="wrong") as c:
            with pytest.raises(AuthenticationError) as info:
                await c.call(*READ[:1], **READ[1])
        assert (info.value.vendor_code, info.value.http_status) == ("401004", 400)
    finally:
        await sb.stop()


async def test_rate_limit_answer_is_429002_and_retried() -> None:
    sb = WhaleSandbox(rate_limit=2)
    await sb.start()
    try:
        async with _client(sb, retry=RetryPolicy(max_attempts=1)) as c:
            with pytest.raises(RateLimited) as info:
                for _ in range(5):
                    await c.call(*READ[:1], **READ[1])
            assert info.value.vendor_code == "429002"
        assert sb.journal.rejections("rate_limit")
    finally:
        await sb.stop()


async def test_renewing_disables_the_old_token_at_once(sandbox: WhaleSandbox) -> None:
    old = sandbox.credentials()["access_token"]
    async with _client(sandbox) as c:
        new = await c.keys.renew_token(m.RenewToken())
        await c.call(*READ[:1], **READ[1])  # the client signs with the new token already
    async with _client(sandbox, access_token=old) as stale:
        with pytest.raises(AuthenticationError) as info:
            await stale.call(*READ[:1], **READ[1])
    assert info.value.vendor_code == "401004"
    async with _client(sandbox, access_token=new.access_token.reveal()) as fresh:
        await fresh.call(*READ[:1], **READ[1])


async def test_access_keys_sign_requests_and_obey_their_allow_list(
    sandbox: WhaleSandbox, client: Client
) -> None:
    key = await client.keys.create(m.CreateApiKey(owner=SEED_ACCOUNT, label="ops"))
    again = await client.keys.create(m.CreateApiKey(owner=SEED_ACCOUNT, label="ops"))
    assert again.api_key == key.api_key  # idempotent per account
    assert key.secret_key is not None and key.secret_key.reveal() not in repr(key)
    token = sandbox.keys[key.api_key]["tokens"][-1]["token"]
    creds = {"app_key": key.api_key, "app_secret": key.secret_key.reveal(), "access_token": token}
    async with _client(sandbox, **creds) as as_key:
        await as_key.call(*READ[:1], **READ[1])
        await client.keys.update(
            m.UpdateApiKey(owner=SEED_ACCOUNT, api_key=key.api_key, ips=("10.0.0.0/8",))
        )
        with pytest.raises(PermissionDenied) as info:
            await as_key.call(*READ[:1], **READ[1])
        assert info.value.vendor_code == "403305"
        await client.keys.disable(m.ApiKeyRef(owner=SEED_ACCOUNT, api_key=key.api_key))
        with pytest.raises(AuthenticationError) as auth:
            await as_key.call(*READ[:1], **READ[1])
        assert auth.value.vendor_code == "403203"
    listed = await client.keys.list(m.ListApiKeys(owner=SEED_ACCOUNT))
    assert [k.enabled for k in listed] == [False]


async def test_account_application_goes_through_the_opening_states(
    sandbox: WhaleSandbox, client: Client
) -> None:
    login = await client.ext("whale.members").login(open_id="host-user-7")
    member = str(login["member_info"]["member"]["member_id"])
    app = await client.accounts.open_live(
        m.OpenAccount(user_id=member, extra={"open_info": {"base": {"name": "Chan"}}})
    )
    members = client.ext("whale.members")
    with pytest.raises(Conflict):  # 404013: one application in progress at a time
        await client.accounts.open_live(m.OpenAccount(user_id=member, extra={"open_info": {}}))
    states = []
    for _ in range(3):
        states.append((await members.applications(member_id=member))["list"][0]["state"])
        sandbox.advance(app.application_id or "")
    detail = await members.application(application_id=app.application_id)
    assert states == ["5", "6", "7"] and detail["state"] == 9 and detail["account_no"]
    page = await client.accounts.list(m.ListAccounts(user_ids=(member,)))
    assert [a.account_id for a in page.items] == [detail["account_no"]]


async def test_permissions_batch_is_atomic(client: Client) -> None:
    req = m.UpdateTradePermissions(
        account_id=SEED_ACCOUNT,
        changes={"stock.SG": True, "stock.HK": True},  # HK: no change
    )
    with pytest.raises(InvalidRequest) as info:
        await client.accounts.update_trade_permissions(req)
    assert info.value.details == {"failure_index": 1, "permission_type": "stock.HK"}
    now = await client.accounts.get_trade_permissions(
        m.GetTradePermissions(account_id=SEED_ACCOUNT)
    )
    assert "stock.SG" not in now.permissions  # nothing of the batch was applied
    ok = await client.accounts.update_trade_permissions(
        m.UpdateTradePermissions(account_id=SEED_ACCOUNT, changes={"stock.SG": True})
    )
    assert ok.reference is None
    again = await client.accounts.update_trade_permissions(
        m.UpdateTradePermissions(account_id=SEED_ACCOUNT, changes={"stock.SG": True})
    )
    assert again.reference == "already applied"


async def test_orders_partial_fills_amend_and_cancel(sandbox: WhaleSandbox, client: Client) -> None:
    ack = await client.trading.place_order(
        m.PlaceOrder(
            instrument="700.HK",
            side="buy",
            order_type="limit",
            quantity=Decimal("300"),
            price=Decimal("320"),
            client_order_id="mine-1",
        )
    )
    sandbox.fill(ack.order_id or "", Decimal("100"), Decimal("319.5"))
    order = await client.trading.get_order(
        m.OrderRef(instrument="700.HK", client_order_id="mine-1")
    )
    assert (order.status, order.filled_quantity, order.average_price) == (
        "PartialFilledStatus",
        Decimal("100"),
        Decimal("319.5"),
    )
    await client.trading.amend_order(
        m.AmendOrder(instrument="700.HK", order_id=order.order_id, new_price=Decimal("321"))
    )
    order = await client.trading.get_order(m.OrderRef(instrument="700.HK", order_id=order.order_id))
    assert (order.quantity, order.price) == (Decimal("300"), Decimal("321"))
    await client.trading.cancel_order(m.OrderRef(instrument="700.HK", order_id=order.order_id))
    assert (await client.trading.open_orders(m.OrderQuery())).items == ()
    fills = await client.trading.fills(m.OrderQuery(extra={"version": "today"}))
    assert [(f.quantity, f.price) for f in fills.items] == [(Decimal("100"), Decimal("319.5"))]
    for version in ("history", "v2", "v3"):
        page = await client.trading.fills(m.OrderQuery(extra={"version": version}))
        assert [f.order_id for f in page.items] == [order.order_id]
    held = await client.trading.positions(m.PositionQuery(account_id=SEED_ACCOUNT))
    assert [(p.instrument, p.quantity) for p in held.items] == [("700.HK", Decimal("100"))]


async def test_deposit_and_withdrawal_states_and_ledger(
    sandbox: WhaleSandbox, client: Client
) -> None:
    payee = m.Payee(
        name="Chan",
        account_number="012-1",
        bank_name="HSBC",
        raw={
            "bank_id": 1,
            "region": "hongkong",
            "name_en": "Chan",
            "account_type": "saving",
            "country": "HK",
            "fps_id": "F",
            "need_certification": False,
            "swift_code": "X",
        },
    )
    card = await client.funding.add_payee(m.AddPayee(payee=payee))
    dep = await client.funding.request_deposit(
        m.DepositRequest(
            account_id=SEED_ACCOUNT,
            amount=Decimal("500.50"),
            currency="USD",
            extra={"card_id": int(card.payee_id or 0), "deposit_type": 1, "deposit_config_id": 1},
        )
    )
    sandbox.settle_deposit(int(dep.deposit_id))
    usd = {
        b.currency: b for b in await client.funding.balances(m.GetBalances(account_id=SEED_ACCOUNT))
    }
    assert usd["USD"].total == Decimal("100500.50")
    wd = await client.funding.request_withdrawal(
        m.WithdrawalRequest(
            account_id=SEED_ACCOUNT,
            amount=Decimal("100000.50"),
            currency="USD",
            payee=card,
            extra={"is_pad_funded": "0"},
        )
    )
    usd = {
        b.currency: b for b in await client.funding.balances(m.GetBalances(account_id=SEED_ACCOUNT))
    }
    assert usd["USD"].available == Decimal("500.00")  # the withdrawal holds its amount
    with pytest.raises(InvalidRequest):  # more than the withdrawable cash
        await client.funding.request_withdrawal(
            m.WithdrawalRequest(
                account_id=SEED_ACCOUNT,
                amount=Decimal("501"),
                currency="USD",
                payee=card,
                extra={"is_pad_funded": "0"},
            )
        )
    await client.funding.cancel_withdrawal(m.CancelWithdrawal(withdrawal_id=wd.withdrawal_id or ""))
    history = await client.funding.withdrawal_history(
        m.FundingHistoryQuery(account_id=SEED_ACCOUNT)
    )
    assert [(r.record_id, r.status) for r in history.items] == [(wd.withdrawal_id, "4")]
    ledger = await client.funding.cash_ledger(
        m.FundingHistoryQuery(account_id=SEED_ACCOUNT, currency="USD")
    )
    assert [r.amount for r in ledger.items] == [Decimal("100000"), Decimal("500.50")]


async def test_ledger_freeze_and_idempotent_request_id(
    sandbox: WhaleSandbox, client: Client
) -> None:
    ledger = client.ext("whale.ledger")
    params: dict[str, Any] = {
        "account_no": SEED_ACCOUNT,
        "currency": "HKD",
        "frozen_amount": Decimal("250"),
        "biz_code": "HOLD",
        "request_id": "rq-1",
    }
    first = await ledger.freeze_cash(**params)
    second = await ledger.freeze_cash(**params)  # the same request id: done once
    assert first == second and len(sandbox.journal.effects("asset.frozen_cash")) == 1
    await ledger.unfreeze_debit(account_no=SEED_ACCOUNT, serial_num=first["serial_num"])
    cash = {
        b.currency: b for b in await client.funding.balances(m.GetBalances(account_id=SEED_ACCOUNT))
    }
    assert cash["HKD"].total == Decimal("999750")


async def test_ipo_subscription_lifecycle(sandbox: WhaleSandbox, client: Client) -> None:
    ipo = client.ext("whale.ipo")
    order = await ipo.subscribe(
        symbol="9999.HK", sub_qty="1000", method=2, batch_id="1", account_no=SEED_ACCOUNT
    )
    assert order["status"] == "1" and order["sub_amount"] == "10000"
    await ipo.amend(
        symbol="9999.HK",
        sub_qty="1500",
        method="2",
        batch_id="1",
        order_id=order["id"],
        account_no=SEED_ACCOUNT,
    )
    sandbox.allot(int(order["id"]), Decimal("500"))
    detail = await ipo.order(order_id=order["id"], account_no=SEED_ACCOUNT)
    assert (detail["status"], detail["lot_win_qty"]) == ("4", "500")
    assert str(SEED_MEMBER) in str(sandbox.accounts[SEED_ACCOUNT]["member_id"])


async def test_moved_operations_are_served_at_v2_too(sandbox: WhaleSandbox) -> None:
    profile = Profile(vendor="whale", name="moved", base_url=sandbox.base_url,
                      credentials=sandbox.credentials(),
                      options={**sandbox.profile_options(), "path_versions": "moved"})  # fmt: skip
    async with Client(WhaleAdapter, profile, retry=FAST) as c:
        placed = await c.call("trade.order", symbol="700.HK", side="Buy", order_type="LO",
                              submitted_quantity="100", submitted_price="320",
                              time_in_force="Day", account_no=SEED_ACCOUNT)  # fmt: skip
        await c.call("trade.order_update", order_id=placed["order_id"], quantity="200",
                     account_no=SEED_ACCOUNT)  # fmt: skip
        await c.call("trade.execution_history_v2", account_no=SEED_ACCOUNT)
    trail = [(e.endpoint, e.path, e.status) for e in sandbox.journal][-2:]
    assert trail == [
        ("trade.order_update", "/v2/whaleapi/trade/order", 200),
        ("trade.execution_history_v2", "/v2/whaleapi/trade/execution/history", 200),
    ]
    assert sandbox.orders[placed["order_id"]]["quantity"] == Decimal("200")


async def test_the_gateway_reads_parameters_where_they_are(sandbox: WhaleSandbox) -> None:
    """A repeated query parameter is its last value; a path parameter is the one in the
    path, whatever the body says; a body that is not a JSON object is a 400."""
    import json

    import aiohttp
    from whale_wire import faithful_headers

    creds = sandbox.credentials()

    async def send(method: str, path: str, query: str = "", body: Any = None) -> Any:
        data = None if body is None else (body if isinstance(body, bytes) else
                                          json.dumps(body).encode())  # fmt: skip
        headers = faithful_headers(method, path, query, data, creds["app_key"],
                                   creds["app_secret"], creds["access_token"],
                                   int(sandbox.clock.now()))  # fmt: skip
        url = aiohttp.client.URL(f"{sandbox.base_url}{path}?{query}", encoded=True)
        async with aiohttp.ClientSession() as s, s.request(method, url, data=data,
                                                           headers=headers) as r:  # fmt: skip
            return r.status, await r.json()

    status, body = await send("GET", "/v1/whaleapi/asset/cash_info",
                              f"account_no=nobody&account_no={SEED_ACCOUNT}")  # fmt: skip
    assert status == 200 and body["data"]["cash_list"]
    key = sandbox.app_key
    status, body = await send("POST", "/v1/whaleapi/account/accesskeys/nope/disable", "",
                              {"access_key_id": key})  # fmt: skip
    assert (status, body["code"]) == (400, 400) and not sandbox.keys[key]["disable"]
    status, body = await send("POST", "/v1/whaleapi/trade/order", "", b"[1]")
    assert (status, body["code"], body["message"]) == (
        400, "400", "invalid params: the body is not a JSON object",
    )  # fmt: skip
    limit_without_price = {"account_no": SEED_ACCOUNT, "symbol": "700.HK", "side": "Buy",
                           "order_type": "LO", "submitted_quantity": "100",
                           "time_in_force": "Day"}  # fmt: skip
    status, body = await send("POST", "/v1/whaleapi/trade/order", "", limit_without_price)
    assert (status, body["message"]) == (400, "invalid params: submitted_price is required")


def test_every_operation_is_a_handler_or_a_documented_example() -> None:
    from brokerport.adapter import VendorFault
    from brokerport_whale.sandbox import spec

    sb = WhaleSandbox()
    handled = {name for klass in WhaleSandbox.__mro__ for fn in vars(klass).values()
               for name in getattr(fn, "__sandbox_endpoints__", ())}  # fmt: skip
    assert not handled & set(sb.fixtures) and handled | set(sb.fixtures) == set(sb.catalog)
    assert sb.unrouted() == []
    for name, shape in spec.shapes().items():  # each operation's envelope reads itself back
        assert shape.unwrap(shape.wrap({}), http_status=200, vendor="whale") is not None, name
        with pytest.raises(VendorFault) as info:
            shape.unwrap(shape.fail("404062", "gone"), http_status=400, vendor="whale")
        assert info.value.code == "404062"


def test_options_are_typed_and_the_toolkits_accepted() -> None:
    from brokerport.sandbox import coerce_options
    from brokerport_whale.sandbox import create_sandbox

    text = {"rate_limit": "2", "require_token": "false", "fill_steps": "3", "seed": "4"}
    typed = coerce_options(create_sandbox, text)
    assert typed == {"rate_limit": 2, "require_token": False, "fill_steps": 3, "seed": 4}
    first, again = create_sandbox(**typed), create_sandbox(**typed, enforce_rate_limits=False)
    assert first.credentials() == again.credentials()  # a seed repeats the tokens
    assert first.catalog["asset.cash_info"].rate_limit is not None
