"""Every OKX code maps to the right brokerport error, vendor code kept; sCode items too."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from brokerport.client import Client
from brokerport.errors import (
    AuthenticationError,
    BrokerportError,
    Conflict,
    DecodeError,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    Timeout,
    UnknownOutcome,
    VendorUnavailable,
)
from brokerport.pipeline import RetryPolicy
from brokerport.profile import Profile
from brokerport.signing import PreparedRequest
from brokerport.transport import MockTransport, RawResponse
from brokerport_okx import OkxAdapter
from brokerport_okx.errors import CODES


class Replies:
    def __init__(self) -> None:
        self.status = 200
        self.body: Any = {"code": "0", "msg": "", "data": []}

    def __call__(self, req: PreparedRequest) -> RawResponse:
        body = self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()
        return RawResponse(self.status, {}, body)


@pytest_asyncio.fixture
async def mocked(no_limits: Any) -> AsyncIterator[tuple[Client, Replies]]:
    replies = Replies()
    profile = Profile(
        vendor="okx",
        base_url="http://okx.invalid",
        credentials={"api_key": "k", "secret_key": "s", "passphrase": "p"},
    )
    async with Client(
        OkxAdapter,
        profile,
        transport=MockTransport(replies),
        retry=RetryPolicy(max_attempts=1),
        limiters=no_limits(),
    ) as c:
        yield c, replies


#: The codes of the vendor-docs README and the broker document, with their class.
DOCUMENTED: dict[str, type[BrokerportError]] = {
    "50011": RateLimited,
    "50101": AuthenticationError,
    "50102": AuthenticationError,
    "50103": AuthenticationError,
    "50104": AuthenticationError,
    "50105": AuthenticationError,
    "50106": AuthenticationError,
    "50107": AuthenticationError,
    "50110": PermissionDenied,
    "50111": AuthenticationError,
    "50112": AuthenticationError,
    "50113": AuthenticationError,
    "50114": AuthenticationError,
    "51000": InvalidRequest,
    "53000": AuthenticationError,
    "53001": AuthenticationError,
    "53002": AuthenticationError,
    "53003": AuthenticationError,
    "53004": PermissionDenied,
    "53005": AuthenticationError,
    "53006": AuthenticationError,
    "53009": AuthenticationError,
    "53010": InvalidRequest,
    "53011": InvalidRequest,
    "53012": AuthenticationError,
    "53013": PermissionDenied,
    "53014": PermissionDenied,
    "53015": InvalidRequest,
    "53016": InvalidRequest,
    "53017": PermissionDenied,
    "58300": Conflict,
    "58350": InsufficientFunds,
    "58115": NotFound,
    "59501": Conflict,
    "59506": NotFound,
    "59510": NotFound,
    "59601": Conflict,
    "51008": InsufficientFunds,
    "51016": Conflict,
    "51603": NotFound,
    "50001": VendorUnavailable,
}


def test_documented_codes_are_in_the_table() -> None:
    for code, cls in DOCUMENTED.items():
        assert CODES[code][0] is cls, code
    # OAuth codes of the document, with its HTTP statuses
    for code in (
        "53000",
        "53001",
        "53002",
        "53003",
        "53004",
        "53005",
        "53009",
        "53010",
        "53011",
        "53012",
        "53013",
        "53015",
        "53016",
        "53017",
    ):
        assert CODES[code][1] == 400, code
    assert CODES["53006"][1] == CODES["53014"][1] == 401
    assert CODES["50011"][1] == 429


@pytest.mark.parametrize("code", sorted(c for c in CODES if c not in ("1", "2")))
async def test_every_code_maps_with_vendor_code_kept(
    mocked: tuple[Client, Replies], code: str
) -> None:
    client, replies = mocked
    cls, status, msg = CODES[code]
    replies.status = status
    replies.body = {"code": code, "msg": msg, "data": []}
    with pytest.raises(BrokerportError) as info:
        await client.call("broker.dma.subaccount_info")
    err = info.value
    if cls is UnknownOutcome:
        cls = Timeout  # 50004 ("may or may not have succeeded") of a read: a retryable timeout
    assert type(err) is cls, (code, type(err).__name__)
    assert err.vendor == "okx" and err.vendor_code == code
    assert err.http_status == status and err.endpoint == "broker.dma.subaccount_info"
    assert err.vendor_message == msg


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("51999", InvalidRequest),
        ("58999", InvalidRequest),
        ("53999", AuthenticationError),
        ("99999", BrokerportError),
    ],
)
async def test_unknown_codes_fall_back_by_family(
    mocked: tuple[Client, Replies], code: str, cls: type[BrokerportError]
) -> None:
    client, replies = mocked
    replies.body = {"code": code, "msg": "?", "data": []}
    with pytest.raises(BrokerportError) as info:
        await client.call("broker.dma.subaccount_info")
    assert type(info.value) is cls and info.value.vendor_code == code


async def test_rate_limited_from_http_429(mocked: tuple[Client, Replies]) -> None:
    client, replies = mocked
    replies.status = 429
    replies.body = {"code": "50011", "msg": "Too Many Requests", "data": []}
    with pytest.raises(RateLimited) as info:
        await client.call("public.time")
    assert info.value.http_status == 429 and info.value.retryable


async def test_scode_error_in_a_success_envelope_raises(mocked: tuple[Client, Replies]) -> None:
    client, replies = mocked
    replies.body = {
        "code": "0",
        "msg": "",
        "data": [
            {
                "clOrdId": "a1",
                "ordId": "",
                "tag": "",
                "sCode": "51008",
                "sMsg": "Order failed. Insufficient balance.",
            }
        ],
    }
    with pytest.raises(InsufficientFunds) as info:
        await client.call(
            "trade.place_order",
            instId="BTC-USDT",
            tdMode="cash",
            side="buy",
            ordType="market",
            sz="1",
        )
    assert info.value.vendor_code == "51008"
    assert info.value.vendor_message == "Order failed. Insufficient balance."


async def test_top_level_code_1_uses_the_item_scode(mocked: tuple[Client, Replies]) -> None:
    client, replies = mocked
    replies.body = {
        "code": "1",
        "msg": "All operations failed",
        "data": [{"clOrdId": "a1", "ordId": "", "sCode": "51016", "sMsg": "Duplicated clOrdId"}],
    }
    with pytest.raises(Conflict) as info:
        await client.call("trade.cancel_order", instId="BTC-USDT", clOrdId="a1")
    assert info.value.vendor_code == "51016"


async def test_successful_items_pass(mocked: tuple[Client, Replies]) -> None:
    client, replies = mocked
    replies.body = {
        "code": "0",
        "msg": "",
        "data": [{"clOrdId": "a1", "ordId": "9", "tag": "", "sCode": "0", "sMsg": ""}],
    }
    data = await client.call("trade.cancel_order", instId="BTC-USDT", clOrdId="a1")
    assert data[0]["ordId"] == "9"


@pytest.mark.parametrize("body", [b"<html>502</html>", b"", b"{not json", b'{"data": []}'])
async def test_unreadable_answers_are_decode_errors(
    mocked: tuple[Client, Replies], body: bytes
) -> None:
    client, replies = mocked
    replies.body = body
    with pytest.raises(DecodeError):
        await client.call("broker.dma.subaccount_info")


async def test_sandbox_scode_errors_through_ports(client: Any) -> None:
    from decimal import Decimal

    from brokerport import models as m

    order = m.PlaceOrder(
        instrument="BTC-USDT",
        side="buy",
        order_type="limit",
        quantity=Decimal("1"),
        price=Decimal("5"),
        client_order_id="dup1",
    )
    await client.trading.place_order(order)
    with pytest.raises(Conflict) as info:
        await client.trading.place_order(order)
    assert info.value.vendor_code == "51016"
    with pytest.raises(Conflict) as info:
        await client.trading.cancel_order(m.OrderRef(instrument="BTC-USDT", order_id="404"))
    assert info.value.vendor_code == "51400"
    with pytest.raises(NotFound) as nf:
        await client.trading.get_order(m.OrderRef(instrument="BTC-USDT", order_id="404"))
    assert nf.value.vendor_code == "51603"
    with pytest.raises(NotFound) as nf:
        await client.call(
            "trade.place_order",
            instId="not an instrument",
            tdMode="cash",
            side="buy",
            ordType="market",
            sz="1",
        )
    assert nf.value.vendor_code == "51001"
