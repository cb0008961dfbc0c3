"""Writes and reconciliation, on the wire (MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from brokerport import models as m
from brokerport.errors import InvalidRequest, NotFound, UnknownOutcome
from brokerport.signing import PreparedRequest
from brokerport.transport import TransportFailure
from whale_wire import answer, ok


def _body(req: PreparedRequest) -> Any:
    return json.loads(req.body or b"{}")


async def test_place_order_carries_a_reconciliation_key_in_remark(
    mock_client: Callable[..., Any],
) -> None:
    def answer(r: PreparedRequest) -> Any:
        if "/order/today" in r.url:  # the host's client order id is looked up first
            return ok({"has_more": False, "orders": []})
        return ok({"order_id": "701"})

    client, transport = mock_client(answer)
    order = m.PlaceOrder(
        instrument="700.HK",
        side="buy",
        order_type="limit",
        quantity=Decimal("100"),
        price=Decimal("320.2"),
    )
    async with client:
        ack = await client.trading.place_order(order)
        mine = await client.trading.place_order(attrs_evolve(order, client_order_id="host-ref-1"))
    sent = _body(transport.requests[0])
    assert sent["remark"] == ack.client_order_id and len(sent["remark"]) == 36
    assert sent["submitted_quantity"] == "100" and sent["submitted_price"] == "320.2"
    assert (sent["side"], sent["order_type"], sent["time_in_force"]) == ("Buy", "LO", "Day")
    assert "/order/today" in transport.requests[1].url
    assert mine.client_order_id == "host-ref-1" == _body(transport.requests[2])["remark"]


def attrs_evolve(obj: Any, **kw: Any) -> Any:
    import attrs

    return attrs.evolve(obj, **kw)


async def test_lost_place_order_answer_says_how_to_find_it(mock_client: Callable[..., Any]) -> None:
    def lost(r: PreparedRequest) -> Any:
        raise TransportFailure("disconnect", "server closed the connection")

    client, transport = mock_client(lost)
    async with client:
        with pytest.raises(UnknownOutcome) as info:
            await client.trading.place_order(
                m.PlaceOrder(
                    instrument="700.HK", side="sell", order_type="market", quantity=Decimal("1")
                )
            )
    err = info.value
    assert len(transport.requests) == 1
    assert err.idempotency_key == _body(transport.requests[0])["remark"]
    assert err.reconcile_with["remark"] == err.idempotency_key
    assert "remark" in (err.how_to_reconcile or "") and "trade.order_today" in (
        err.how_to_reconcile or ""
    )


async def test_remark_longer_than_64_is_refused_before_io(mock_client: Callable[..., Any]) -> None:
    client, transport = mock_client(lambda r: ok({"order_id": "1"}))
    async with client:
        with pytest.raises(InvalidRequest):
            await client.trading.place_order(
                m.PlaceOrder(
                    instrument="700.HK",
                    side="buy",
                    order_type="market",
                    quantity=Decimal("1"),
                    client_order_id="x" * 65,
                )
            )
    assert transport.requests == []


async def test_ledger_request_id_minted_once_before_any_attempt(
    mock_client: Callable[..., Any],
) -> None:
    answers = iter(
        [
            answer(b"oops", 503),
            answer(b"", 502),
            ok({"msg": "", "serial_num": "S1", "error_code": ""}),
        ]
    )
    client, transport = mock_client(lambda r: next(answers))
    async with client:
        await client.ext("whale.ledger").adjust_cash(
            account_no="A001", direction=2, currency="HKD", amount=Decimal("10.50"), biz_code="X"
        )
    ids = {_body(r)["request_id"] for r in transport.requests}
    assert len(transport.requests) == 3 and len(ids) == 1
    amount = _body(transport.requests[0])["amount"]
    assert isinstance(amount, str) and Decimal(amount) == Decimal("10.50")  # text, not a float


def _permissions(*pairs: str) -> Any:
    products: dict[str, list[str]] = {}
    for p in pairs:
        product, market = p.split(".")
        products.setdefault(product, []).append(market)
    return ok({"permissions": [{"product": k, "markets": v} for k, v in products.items()]})


async def test_trade_permission_failure_index_present_absent_and_zero(
    mock_client: Callable[..., Any],
) -> None:
    refusal: dict[str, Any] = {"failure_index": 1}

    def vendor(r: PreparedRequest) -> Any:
        if r.endpoint == "account.trade_permissions":
            return _permissions("stock.HK")
        return answer({"code": 400, "message": "invalid enum", "data": refusal}, 400)

    client, _ = mock_client(vendor)
    req = m.UpdateTradePermissions(
        account_id="A001", changes={"stock.US": True, "flag.options": True}
    )
    async with client:
        with pytest.raises(InvalidRequest) as info:
            await client.accounts.update_trade_permissions(req)
        assert info.value.details["failure_index"] == 1
        assert info.value.details["permission_type"] == "flag.options"
        refusal.clear()
        refusal["failure_index"] = 0
        with pytest.raises(InvalidRequest) as info:
            await client.accounts.update_trade_permissions(req)
        assert info.value.details["failure_index"] == 0
        assert info.value.details["permission_type"] == "stock.US"
        refusal.clear()  # account-level: unset, not "index 0"
        with pytest.raises(InvalidRequest) as info:
            await client.accounts.update_trade_permissions(req)
        assert "failure_index" not in info.value.details
        assert "permission_type" not in info.value.details


async def test_trade_permission_retry_after_lost_success_is_success(
    mock_client: Callable[..., Any],
) -> None:
    state = {"applied": False}

    def vendor(r: PreparedRequest) -> Any:
        if r.endpoint == "account.trade_permissions":
            return (
                _permissions("stock.HK", "stock.US")
                if state["applied"]
                else _permissions("stock.HK")
            )
        if not state["applied"]:
            state["applied"] = True  # applied, then the answer is lost
            raise TransportFailure("disconnect", "reset after send")
        return answer(
            {"code": 400, "message": "no state change", "data": {"failure_index": 0}}, 400
        )

    client, transport = mock_client(vendor)
    async with client:
        ack = await client.accounts.update_trade_permissions(
            m.UpdateTradePermissions(account_id="A001", changes={"stock.US": True})
        )
    assert ack.ok and ack.reference == "already applied"
    updates = [r for r in transport.requests if r.endpoint.startswith("account.update")]
    assert len(updates) == 2  # the batch is a target state: the pipeline may re-send it


async def test_reward_cash_in_integer_cents_never_rounded(mock_client: Callable[..., Any]) -> None:
    client, transport = mock_client(lambda r: ok({"ref_no": "R1", "status": 1}))
    async with client:
        rewards = client.ext("whale.rewards")
        await rewards.send_cash(
            amount=Decimal("75.00"), currency="HKD", campaign_code="C1", member_id=9
        )
        with pytest.raises(InvalidRequest):
            await rewards.send_cash(
                amount=Decimal("0.005"), currency="HKD", campaign_code="C1", member_id=9
            )
    sent = _body(transport.requests[0])
    assert sent["cash_value"] == {"currency": "HKD", "amount": 7500}
    assert len(sent["request_id"]) == 36 and transport.requests[0].headers["x-member-id"] == "9"
    assert len(transport.requests) == 1


async def test_exchange_rate_numbers_exact_and_never_inverted(
    mock_client: Callable[..., Any],
) -> None:
    body = (
        b'{"code":0,"message":"","data":{"universal_exchanges":{"pspl_sg":{"spec_exchanges":'
        b'{"am":{"exchanges":[{"base_currency":"USD","other_currency":"HKD","bid_rate":7.81,'
        b'"offer_rate":7.83,"average_rate":7.8200000000000000001}]}}}}}}'
    )
    client, _ = mock_client(lambda r: answer(body))
    async with client:
        rate = await client.funding.exchange_rate(m.ExchangeRateQuery(base="USD", quote="HKD"))
        assert rate.rate == Decimal("7.8200000000000000001")
        with pytest.raises(NotFound):
            await client.funding.exchange_rate(m.ExchangeRateQuery(base="HKD", quote="USD"))


async def test_renewing_the_signing_token_switches_the_client_to_the_new_one(
    mock_client: Callable[..., Any],
) -> None:
    def vendor(r: PreparedRequest) -> Any:
        if r.endpoint == "account.accesskeys_token":
            return ok(
                {
                    "token": {
                        "access_key_id": "appkey1",
                        "token": "tok2",
                        "disable": False,
                        "expired_at": "2030-01-01T00:00:00Z",
                        "created_at": "2026-01-01T00:00:00Z",
                    }
                }
            )
        return ok({"buy_power": "1", "currency": "HKD"})

    client, transport = mock_client(vendor)
    async with client:
        token = await client.keys.renew_token(m.RenewToken())
        assert token.access_token.reveal() == "tok2" and "tok2" not in repr(token)
        await client.call("asset.risk_buy_power", account_no="A001")
    renew, after = transport.requests
    assert renew.path == "/v1/whaleapi/account/accesskeys/appkey1/token"
    assert _body(renew)["token"] == "tok1" and renew.headers["Authorization"] == "tok1"
    assert after.headers["Authorization"] == "tok2"


async def test_moved_operations_use_their_v2_paths(mock_client: Callable[..., Any]) -> None:
    client, transport = mock_client(
        lambda r: ok({"has_more": False, "trades": []}), path_versions="moved"
    )
    async with client:
        await client.call("trade.execution_history_v2", account_no="A001")
        await client.call("trade.order_delete", account_no="A001", order_id="1")
        await client.call("trade.execution_history", account_no="A001")
    paths = [r.path for r in transport.requests]
    assert paths == [
        "/v2/whaleapi/trade/execution/history",
        "/v2/whaleapi/trade/order",
        "/v1/whaleapi/trade/execution/history",
    ]
    client, transport = mock_client(lambda r: ok(), path_versions="account.close=v2")
    async with client:
        await client.call("account.close", account_no="A001")
    assert transport.requests[0].path == "/v2/whaleapi/account/close"
