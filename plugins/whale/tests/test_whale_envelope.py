"""The envelope and its variants, and the error map (gateway and business codes)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from brokerport.errors import (
    AuthenticationError,
    Conflict,
    DecodeError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    UnknownOutcome,
    VendorUnavailable,
)
from whale_wire import answer, ok


@pytest.mark.parametrize(
    "body",
    [
        {"code": 0, "message": "success", "data": {"buy_power": "12.5", "currency": "HKD"}},
        {"code": "0", "message": "", "data": {"buy_power": "12.5", "currency": "HKD"}},
        {"code": 0, "msg": "ok", "datas": {"buy_power": "12.5", "currency": "HKD"}},
        {"code": 0, "data": {"buy_power": "12.5", "currency": "HKD"}},  # no message (cash_info)
        {"data": {"buy_power": "12.5", "currency": "HKD"}},  # only the wrapper (limit_info)
    ],
)
async def test_envelope_variants(mock_client: Callable[..., Any], body: Any) -> None:
    client, _ = mock_client(lambda r: answer(body))
    async with client:
        data = await client.call("asset.risk_buy_power", account_no="A001")
    assert data == {"buy_power": "12.5", "currency": "HKD"}


async def test_operations_documented_without_envelope(mock_client: Callable[..., Any]) -> None:
    client, _ = mock_client(lambda r: answer({"url": "https://up/x", "key": "k1"}))
    async with client:
        target = await client.ext("whale.files").upload_url("deposit")
        assert (target.url, target.key) == ("https://up/x", "k1")
        # an enveloped answer to the same operation is read too (the SDK's view)
        client.transport.handler = lambda r: ok({"url": "https://up/y", "key": "k2"})  # type: ignore[attr-defined]
        assert (await client.ext("whale.files").upload_url("deposit")).key == "k2"
        # an un-enveloped answer where an envelope is documented is not guessed at
        client.transport.handler = lambda r: answer({"buy_power": "1"})  # type: ignore[attr-defined]
        with pytest.raises(DecodeError):
            await client.call("asset.risk_buy_power", account_no="A001")


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        (403201, 403, AuthenticationError),
        (403203, 403, AuthenticationError),
        (403305, 403, PermissionDenied),
        (401003, 401, AuthenticationError),
        (401004, 401, AuthenticationError),
        (401004, 400, AuthenticationError),  # arrives with HTTP 400 too
        (429002, 429, RateLimited),
        (500000, 500, VendorUnavailable),
        ("404062", 400, NotFound),
        ("404092", 400, Conflict),
        (404103, 400, NotFound),
        (403048, 400, Conflict),
        (400, 400, InvalidRequest),
    ],
)
async def test_codes_map_to_typed_errors_keeping_the_vendor_code(
    mock_client: Callable[..., Any], code: Any, status: int, error: type[Exception]
) -> None:
    client, transport = mock_client(
        lambda r: answer({"code": code, "message": "m", "data": {}}, status, {"x-trace-id": "t-9"}),
    )
    async with client:
        with pytest.raises(error) as info:
            await client.call("account.open_info", account_no="A001")
    err: Any = info.value
    assert err.vendor_code == str(code) and err.http_status == status
    assert err.details["trace_id"] == "t-9"
    if error in (RateLimited, VendorUnavailable):
        assert len(transport.requests) == 3  # retried (nothing reached the vendor / transient)


async def test_non_zero_code_with_http_200_is_an_error(mock_client: Callable[..., Any]) -> None:
    client, _ = mock_client(lambda r: answer({"code": "404103", "message": "no", "data": None}))
    async with client:
        with pytest.raises(NotFound):
            await client.call("account.get_application", application_id="x")


async def test_unreadable_answer_to_a_write_is_unknown_outcome(
    mock_client: Callable[..., Any],
) -> None:
    client, transport = mock_client(lambda r: answer(b"<html>502</html>", 502))
    async with client:
        with pytest.raises(UnknownOutcome):
            await client.call("account.close", account_no="A001")
    assert len(transport.requests) == 1


async def test_numbers_are_decimal_and_trailing_space_keys_are_readable(
    mock_client: Callable[..., Any],
) -> None:
    body = b'{"code":0,"message":"","data":{"list":[{"currency":"HKD","min_withdrawal_amount ":"100.10","rate":7.8312}]}}'  # noqa: E501
    client, _ = mock_client(lambda r: answer(body))
    async with client:
        data = await client.call("portfolio.currency_list")
    item = data["list"][0]
    assert item["rate"] == Decimal("7.8312")
    assert item["min_withdrawal_amount"] == item["min_withdrawal_amount "] == "100.10"


async def test_sandbox_unknown_routes_answer_in_the_vendor_envelope() -> None:
    """Unknown paths and methods: the shared envelope and error table, read back by the
    decoder's own envelope as the codes the table lists."""
    from aiohttp.test_utils import TestClient, TestServer
    from brokerport.adapter import VendorFault
    from brokerport_whale.sandbox import create_sandbox
    from brokerport_whale.wire import ENVELOPE, ERRORS

    sandbox = create_sandbox()
    async with TestClient(TestServer(sandbox.app)) as http:
        for call, code in ((http.get("/v1/whaleapi/nope"), "404"),
                           (http.put("/v1/whaleapi/asset/cash_info"), "405")):  # fmt: skip
            response = await call
            assert response.status == ERRORS.status(code)
            with pytest.raises(VendorFault) as info:
                ENVELOPE.unwrap(await response.json(), http_status=response.status, vendor="whale")
            assert info.value.code == code
