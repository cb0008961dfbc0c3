"""OKX side of "nothing lost, nothing sent twice": 50004, report-ip idempotency,
money text on the wire, safe order retries by clOrdId, and reconciliation."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from brokerport import InvalidRequest, Timeout, UnknownOutcome
from brokerport import models as m
from brokerport.catalog import Endpoint
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.profile import Profile
from brokerport.ratelimit import Limiter, LimiterRegistry
from brokerport.signing import PreparedRequest
from brokerport.transport import MockTransport, RawResponse, TransportFailure
from brokerport_okx import OkxAdapter
from brokerport_okx.sandbox import OkxSandbox

ORDER = m.PlaceOrder(
    instrument="BTC-USDT",
    side="buy",
    order_type="limit",
    quantity=Decimal("0.01"),
    price=Decimal("100"),
    extra={"tdMode": "cash"},
)


def okx(code: str = "0", data: Any = (), status: int = 200) -> RawResponse:
    body = json.dumps({"code": code, "msg": "", "data": list(data)}).encode()
    return RawResponse(status, {"Content-Type": "application/json"}, body)


class NoLimits(LimiterRegistry):
    def for_endpoint(self, endpoint: Endpoint, scope: str = "") -> Limiter | None:
        return None


FAST = RetryPolicy(base_delay=0.0, max_delay=0.0)


def mocked(handler: Callable[[PreparedRequest], RawResponse]) -> tuple[Client, MockTransport]:
    transport = MockTransport(handler)
    profile = Profile(
        vendor="okx",
        name="t",
        base_url="http://okx.invalid",
        credentials={"api_key": "k", "secret_key": "s", "passphrase": "p"},
    )
    client = Client(OkxAdapter, profile, transport=transport, retry=FAST, limiters=NoLimits())
    return client, transport


# ------------------------------------------------------- 3. 50004 is not "retry"


async def test_50004_after_a_write_is_unknown_outcome_for_reads_a_retry() -> None:
    answers = iter([okx("50004", status=400), okx("0", [{"details": [], "totalPage": "1"}])])
    client, transport = mocked(lambda r: next(answers))
    async with client:
        await client.call("broker.dma.subaccount_info")  # a read: retried once, then fine
        assert len(transport.requests) == 2
    client, transport = mocked(lambda r: okx("50004", status=400))
    async with client:
        with pytest.raises(UnknownOutcome) as info:
            await client.call("broker.dma.create_subaccount", subAcct="brokerNew1")
        assert not isinstance(info.value, Timeout) and info.value.vendor_code == "50004"
        assert len(transport.requests) == 1 and await client.outbox.list()


# ------------------------------------------- 4. report_subaccount_ip appends


async def test_report_ip_is_not_retried_when_its_answer_is_lost(
    sandbox: OkxSandbox, make_client: Callable[..., Client]
) -> None:
    assert not OkxAdapter.catalog()["broker.dma.report_subaccount_ip"].is_idempotent
    async with make_client() as client:
        await client.subaccounts.create(m.CreateSubAccount(name="brokerIp1"))
        sandbox.faults.add("lost", "broker.dma.report_subaccount_ip")
        with pytest.raises(UnknownOutcome):
            await client.subaccounts.report_ip(m.ReportLoginIp(name="brokerIp1", ip="8.8.8.8"))
    assert len(sandbox.subaccounts["brokerIp1"].reported_ips) == 1
    assert len(sandbox.journal.for_endpoint("broker.dma.report_subaccount_ip")) == 1


# ---------------------------------------------------------------- 7. money


@pytest.mark.parametrize("sz", ["1e2", " 100 ", "1e999999999", "1_0", "١٠", Decimal("1E+200000")])
async def test_order_size_must_be_plain_digits_within_the_bound(sz: Any) -> None:
    client, transport = mocked(lambda r: okx())
    async with client:
        with pytest.raises(InvalidRequest) as info:
            await client.call(
                "trade.place_order",
                instId="BTC-USDT",
                tdMode="cash",
                side="buy",
                ordType="market",
                sz=sz,
            )
        assert info.value.field == "sz"
    assert transport.requests == []


async def test_the_wire_gets_the_canonical_amount() -> None:
    client, transport = mocked(lambda r: okx("0", [{"ordId": "1", "clOrdId": "c", "sCode": "0"}]))
    async with client:
        await client.call(
            "trade.place_order",
            instId="BTC-USDT",
            tdMode="cash",
            side="buy",
            ordType="limit",
            sz=Decimal("1E+2"),
            px="0100.50",
        )
    body = json.loads(transport.requests[0].body or b"")
    assert body["sz"] == "100" and body["px"] == "100.5"


# ------------------------------------------ 9. safe retries of orders by clOrdId


async def test_lost_order_answer_resolves_to_the_order_placed(
    sandbox: OkxSandbox, make_client: Callable[..., Client]
) -> None:
    sandbox.faults.add("lost", "trade.place_order")
    async with make_client() as client:
        ack = await client.trading.place_order(ORDER)
        assert ack.order_id and ack.client_order_id
        assert await client.outbox.list() == []
    assert len(sandbox.journal.effects("trade.place_order")) == 1
    assert len(sandbox.journal.for_endpoint("trade.place_order")) == 1  # found, not resent


@pytest.mark.parametrize("kind", ["reset", "status", "truncate", "empty", "timeout"])
async def test_order_not_applied_is_resent_with_the_same_clordid(
    sandbox: OkxSandbox, make_client: Callable[..., Client], kind: str
) -> None:
    from brokerport.transport import TransportSettings

    sandbox.faults.add(kind, "trade.place_order", delay=1.0)  # type: ignore[arg-type]
    async with make_client() as client:
        client._transport_settings = TransportSettings(read_timeout=0.2)
        await client.aclose()
        await client.open()
        await client.trading.place_order(ORDER)
    sent = sandbox.journal.for_endpoint("trade.place_order")
    assert len(sandbox.journal.effects("trade.place_order")) == 1
    ids = {json.loads(e.body)["clOrdId"] for e in sent}
    assert len(ids) == 1  # one key, minted once
    if len(sent) == 2:
        assert sent[0].headers["OK-ACCESS-SIGN"] != sent[1].headers["OK-ACCESS-SIGN"] or (
            sent[0].headers["OK-ACCESS-TIMESTAMP"] == sent[1].headers["OK-ACCESS-TIMESTAMP"]
        )


async def test_duplicate_refusal_resolves_to_the_original_order() -> None:
    """The lookup missed the order (not yet visible); the resend is refused with
    51016 while it is live: the call answers the original order."""
    seen: list[str] = []
    order = {"ordId": "777", "clOrdId": "", "state": "live", "tag": "", "cTime": "1"}

    def handler(request: PreparedRequest) -> RawResponse:
        seen.append(request.endpoint)
        if request.endpoint == "trade.place_order":
            order["clOrdId"] = json.loads(request.body or b"")["clOrdId"]
            if seen.count("trade.place_order") == 1:
                raise TransportFailure("disconnect", "connection lost")
            return okx("1", [{"clOrdId": order["clOrdId"], "sCode": "51016", "sMsg": "dup"}])
        if seen.count("trade.get_order") == 1:
            return okx("51603", status=200)
        return okx("0", [order])

    client, _ = mocked(handler)
    async with client:
        ack = await client.trading.place_order(ORDER)
    assert ack.order_id == "777"
    assert seen == ["trade.place_order", "trade.get_order"] * 2


async def test_order_unsettled_when_the_lookup_fails_is_unknown_outcome() -> None:
    def handler(request: PreparedRequest) -> RawResponse:
        if request.endpoint == "trade.place_order":
            raise TransportFailure("timeout", "timed out")
        return okx("50001", status=503)

    client, _ = mocked(handler)
    async with client:
        with pytest.raises(UnknownOutcome) as info:
            await client.trading.place_order(ORDER)
        verdict_entry = (await client.outbox.list())[0]
    assert verdict_entry.id == info.value.outbox_id
    assert verdict_entry.params["clOrdId"] == info.value.idempotency_key


# ---------------------------------------------------------- 10. reconciliation


async def test_api_key_behind_unknown_outcome_reconciles_with_the_secret_hint(
    sandbox: OkxSandbox, make_client: Callable[..., Client]
) -> None:
    async with make_client() as client:
        await client.subaccounts.create(m.CreateSubAccount(name="brokerKey1"))
        sandbox.faults.add("lost", "broker.dma.create_apikey")
        with pytest.raises(UnknownOutcome) as info:
            await client.keys.create(
                m.CreateApiKey(owner="brokerKey1", label="bot1", passphrase="Passw0rd!")
            )
        assert len(await client.outbox.list()) == 1
        verdict = await client.reconcile(info.value)
        assert verdict.applied and verdict.result[0]["label"] == "bot1"
        assert "secretKey" not in verdict.result[0]
        assert "cannot be recovered" in verdict.hint and "Delete" in verdict.hint
        assert await client.outbox.list() == []


async def test_subaccount_and_order_reconcile_applied_and_not_applied(
    sandbox: OkxSandbox, make_client: Callable[..., Client]
) -> None:
    async with make_client() as client:
        sandbox.faults.add("lost", "broker.dma.create_subaccount")
        with pytest.raises(UnknownOutcome) as applied:
            await client.subaccounts.create(m.CreateSubAccount(name="brokerRc1"))
        sandbox.faults.add("reset", "broker.dma.create_subaccount")
        with pytest.raises(UnknownOutcome) as missing:
            await client.subaccounts.create(m.CreateSubAccount(name="brokerRc2"))
        assert (await client.reconcile(applied.value)).status == "applied"
        assert (await client.reconcile(missing.value)).status == "not_applied"
        assert await client.outbox.list() == []
        # an order whose lookup fails is recorded; reconciling it later settles it
        sandbox.faults.add("lost", "trade.place_order")
        sandbox.faults.add("status", "trade.get_order", times=3)
        with pytest.raises(UnknownOutcome) as order:
            await client.trading.place_order(ORDER)
        verdict = await client.reconcile(order.value)
        assert verdict.applied and verdict.result[0]["clOrdId"] == order.value.idempotency_key
    assert len(sandbox.journal.effects("trade.place_order")) == 1
