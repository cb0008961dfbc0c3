"""Every documented parameter rule is checked before any I/O, on raw calls and ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import InvalidRequest
from brokerport.profile import Profile
from brokerport.signing import PreparedRequest
from brokerport.transport import MockTransport, RawResponse
from brokerport_okx import OkxAdapter
from brokerport_okx.catalog import check_passphrase, check_subaccount_name


def _never(req: PreparedRequest) -> RawResponse:
    raise AssertionError(f"request reached the wire: {req!r}")


@pytest_asyncio.fixture
async def offline() -> AsyncIterator[Client]:
    profile = Profile(
        vendor="okx",
        base_url="http://okx.invalid",
        credentials={"api_key": "k", "secret_key": "s", "passphrase": "p"},
    )
    async with Client(OkxAdapter, profile, transport=MockTransport(_never)) as c:
        yield c


DMA_SUB = "broker.dma.create_subaccount"
KEY = "broker.dma.create_apikey"
KEY_OK = {"subAcct": "panpanBroker2", "label": "broker3", "passphrase": "Qwr4321!"}
ADDR = "broker.dma.create_deposit_address"
ORDER = "trade.place_order"
ORDER_OK = {
    "instId": "BTC-USDT",
    "tdMode": "cash",
    "side": "buy",
    "ordType": "limit",
    "sz": "1",
    "px": "2",
}

BAD: list[tuple[str, dict[str, Any], str]] = [
    # sub-account name: 6-20 letters or digits, not all digits
    (DMA_SUB, {"subAcct": "abc12"}, "subAcct"),
    (DMA_SUB, {"subAcct": "a" * 21}, "subAcct"),
    (DMA_SUB, {"subAcct": "12345678"}, "subAcct"),
    (DMA_SUB, {"subAcct": "bad-name1"}, "subAcct"),
    (DMA_SUB, {}, "subAcct"),
    # label: at most 50 letters or digits
    (DMA_SUB, {"subAcct": "brokerTest5", "label": "x" * 51}, "label"),
    (DMA_SUB, {"subAcct": "brokerTest5", "label": "has space"}, "label"),
    (DMA_SUB, {"subAcct": "brokerTest5", "clientIP": "not-an-ip"}, "clientIP"),
    (KEY, {**KEY_OK, "label": "y" * 51}, "label"),
    (KEY, {**KEY_OK, "subAcct": "123456"}, "subAcct"),
    # passphrase: 8-32 with upper, lower, digit, special
    (KEY, {**KEY_OK, "passphrase": "Qw4!"}, "passphrase"),
    (KEY, {**KEY_OK, "passphrase": "Qwr4321!" + "a" * 25}, "passphrase"),
    (KEY, {**KEY_OK, "passphrase": "qwr4321!"}, "passphrase"),
    (KEY, {**KEY_OK, "passphrase": "QWR4321!"}, "passphrase"),
    (KEY, {**KEY_OK, "passphrase": "Qwrabcd!"}, "passphrase"),
    (KEY, {**KEY_OK, "passphrase": "Qwr43210"}, "passphrase"),
    (KEY, {k: v for k, v in KEY_OK.items() if k != "passphrase"}, "passphrase"),
    # at most 20 IPs, each an IP address
    (KEY, {**KEY_OK, "ip": ",".join(f"10.0.0.{i}" for i in range(21))}, "ip"),
    (KEY, {**KEY_OK, "ip": "10.0.0.1,999.1.1.1"}, "ip"),
    (
        "broker.dma.modify_apikey",
        {"subAcct": "s", "apiKey": "k", "ip": ",".join(f"10.0.1.{i}" for i in range(21))},
        "ip",
    ),
    # permission values
    (KEY, {**KEY_OK, "perm": "read_only,admin"}, "perm"),
    ("broker.dma.modify_apikey", {"subAcct": "s", "apiKey": "k", "perm": "trade,trade"}, "perm"),
    # account level 1-4
    ("broker.dma.set_subaccount_level", {"subAcct": "s", "acctLv": "5"}, "acctLv"),
    ("broker.dma.set_subaccount_level", {"subAcct": "s", "acctLv": "0"}, "acctLv"),
    # upper-case currency, to 6/18, addrType 1/2 (2 only for BTC/LTC)
    (ADDR, {"subAcct": "s", "ccy": "btc"}, "ccy"),
    (ADDR, {"subAcct": "s", "ccy": "BTC", "to": "7"}, "to"),
    (ADDR, {"subAcct": "s", "ccy": "BTC", "addrType": "3"}, "addrType"),
    (ADDR, {"subAcct": "s", "ccy": "ETH", "addrType": "2"}, ""),
    (
        "broker.dma.modify_deposit_address",
        {"subAcct": "s", "ccy": "USDT", "addr": "a", "to": "5"},
        "to",
    ),
    ("broker.dma.modify_deposit_address", {"subAcct": "s", "ccy": "USDT", "addr": "a"}, "to"),
    ("broker.dma.get_deposit_address", {"subAcct": "s", "ccy": "Usdt"}, "ccy"),
    ("broker.dma.set_subaccount_assets", {"subAcct": "s", "ccy": "btc"}, "ccy"),
    # limit <= 100, page positive
    ("broker.dma.subaccount_info", {"limit": "101"}, "limit"),
    ("broker.dma.subaccount_info", {"limit": "0"}, "limit"),
    ("broker.dma.subaccount_info", {"page": "0"}, "page"),
    ("broker.dma.subaccount_trade_fee", {"limit": "500"}, "limit"),
    ("broker.dma.deposit_history", {"limit": "101"}, "limit"),
    ("broker.dma.deposit_history", {"state": "3"}, "state"),
    ("broker.dma.deposit_history", {"type": "5"}, "type"),
    ("broker.dma.deposit_history", {"after": "yesterday"}, "after"),
    ("broker.dma.withdrawal_history", {"limit": "1000"}, "limit"),
    ("broker.dma.withdrawal_history", {"clientId": "x" * 33}, "clientId"),
    ("broker.dma.withdrawal_history", {"state": "3"}, "state"),
    # rebate dates YYYYMMdd and the type rule
    ("broker.fd.get_rebate_link", {"type": "false"}, ""),
    ("broker.fd.get_rebate_link", {"type": "false", "begin": "20221207"}, ""),
    ("broker.fd.get_rebate_link", {"type": "maybe"}, "type"),
    ("broker.fd.get_rebate_link", {"type": "true", "begin": "2022-12-07"}, "begin"),
    ("broker.fd.get_rebate_link", {"type": "false", "begin": "20230207", "end": "20221207"}, ""),
    ("broker.fd.get_rebate_link", {"type": "true", "brokerType": "dma"}, "brokerType"),
    ("broker.fd.generate_rebate_link", {"begin": "20210623"}, "end"),
    ("broker.fd.generate_rebate_link", {"begin": "20210231", "end": "20210301"}, "begin"),
    ("broker.fd.generate_rebate_link", {"begin": "20210626", "end": "20210623"}, ""),
    ("broker.fd.if_rebate", {}, "apiKey"),
    # clOrdId 1-32 alphanumerics; order fields
    (ORDER, {**ORDER_OK, "clOrdId": "a" * 33}, "clOrdId"),
    (ORDER, {**ORDER_OK, "clOrdId": "bad-id"}, "clOrdId"),
    (ORDER, {**ORDER_OK, "tag": "tag_with_underscore"}, "tag"),
    (ORDER, {**ORDER_OK, "side": "long"}, "side"),
    (ORDER, {**ORDER_OK, "sz": "-1"}, "sz"),
    (ORDER, {**ORDER_OK, "sz": 1.5}, "sz"),
    (ORDER, {k: v for k, v in ORDER_OK.items() if k != "px"}, ""),
    ("trade.amend_order", {"instId": "BTC-USDT", "ordId": "1"}, ""),
    ("trade.amend_order", {"instId": "BTC-USDT", "newSz": "2"}, ""),
    ("trade.cancel_order", {"instId": "BTC-USDT"}, ""),
    ("trade.get_order", {"instId": "BTC-USDT", "clOrdId": "x" * 40}, "clOrdId"),
    ("oauth.token", {"grant_type": "refresh_token", "client_id": "c"}, ""),
    ("oauth.token", {"grant_type": "password", "client_id": "c"}, "grant_type"),
    # undeclared parameters are refused too
    (DMA_SUB, {"subAcct": "brokerTest5", "nickname": "x"}, "nickname"),
]


@pytest.mark.parametrize(
    ("endpoint", "params", "field"),
    BAD,
    ids=[f"{e}-{f or 'check'}-{i}" for i, (e, _, f) in enumerate(BAD)],
)
async def test_rule_rejects_before_io(
    offline: Client, endpoint: str, params: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequest) as info:
        await offline.call(endpoint, **params)
    err = info.value
    assert err.vendor == "okx" and err.endpoint == endpoint
    if field:
        assert err.field == field
    assert not offline.transport.requests  # type: ignore[attr-defined]


def test_name_rule_accepts_documented_examples() -> None:
    for ok in ("brokerTest5", "panpanBroker2", "yonxws", "abcdef", "A" * 20, "123abc"):
        assert check_subaccount_name(ok) is None, ok


def test_passphrase_rule_accepts_documented_example() -> None:
    assert check_passphrase("Qwr4321!") is None
    assert check_passphrase("A" + "b" * 29 + "1#") is None


def test_passphrase_rule_never_echoes_the_value() -> None:
    problem = check_passphrase("qwr4321secretvalue!")
    assert problem is not None and "qwr4321secretvalue" not in problem


async def test_port_models_hit_the_same_rules(offline: Client) -> None:
    with pytest.raises(InvalidRequest):
        await offline.subaccounts.create(m.CreateSubAccount(name="99999999"))
    with pytest.raises(InvalidRequest):
        await offline.subaccounts.set_level(m.SetSubAccountLevel(name="brokerTest5", level=7))
    with pytest.raises(InvalidRequest):
        await offline.keys.create(
            m.CreateApiKey(
                owner="brokerTest5", label="x", passphrase="short", permissions=("read",)
            )
        )
    with pytest.raises(InvalidRequest):
        await offline.keys.create(
            m.CreateApiKey(
                owner="brokerTest5", label="x", passphrase="Qwr4321!", permissions=("read", "admin")
            )
        )
    with pytest.raises(InvalidRequest):
        await offline.keys.create(
            m.CreateApiKey(
                owner="brokerTest5",
                label="x",
                passphrase="Qwr4321!",
                ips=tuple(f"1.1.1.{i}" for i in range(21)),
            )
        )
    with pytest.raises(InvalidRequest):
        await offline.funding.list_deposit_addresses(
            m.ListDepositAddresses(account_id="brokerTest5", currency="usdt")
        )
    with pytest.raises(InvalidRequest):
        await offline.subaccounts.list(m.ListSubAccounts(limit=101))
    with pytest.raises(InvalidRequest):
        await offline.trading.place_order(
            m.PlaceOrder(
                instrument="BTC-USDT",
                side="buy",
                order_type="limit",
                quantity=Decimal("1"),
                price=Decimal("1"),
                client_order_id="not_alnum!",
            )
        )
    with pytest.raises(InvalidRequest):
        await offline.ext("okx.rebates").links(begin="20230101")
    assert not offline.transport.requests  # type: ignore[attr-defined]
