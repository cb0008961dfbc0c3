"""Money and time: Decimal only, never floats, never rounding; aware datetimes only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from brokerport import DecodeError, InvalidRequest
from brokerport import models as m
from brokerport.adapter import dumps, encode_value, parse_json
from brokerport.convert import make_converter, parse_datetime
from brokerport.transport import RawResponse
from brokerport.types import as_utc, decimal_places, format_money, parse_decimal, utc_from_ms
from cattrs.errors import ClassValidationError
from fakex_vendor import mock_client, ok_response, raw

# the converter runs without cattrs' detailed validation (speed): failures are the
# hooks' own TypeError/ValueError, which the pipeline turns into DecodeError
STRUCTURE_ERRORS = (ClassValidationError, TypeError, ValueError)

# ------------------------------------------------------------ parse_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.10", Decimal("1.10")),
        (" 42 ", Decimal("42")),
        ("-0.00000001", Decimal("-0.00000001")),
        ("+3", Decimal("3")),
        (".5", Decimal("0.5")),
        ("5.", Decimal("5")),
        ("1e3", Decimal("1E+3")),
        (7, Decimal(7)),
        (Decimal("2.50"), Decimal("2.50")),
        ("12345678901234567890.123456789", Decimal("12345678901234567890.123456789")),
    ],
)
def test_parse_decimal_accepts(value: Any, expected: Decimal) -> None:
    got = parse_decimal(value)
    assert isinstance(got, Decimal) and got == expected
    assert str(got) == str(expected)  # exact digits kept


@pytest.mark.parametrize("value", [0.1, 1.0, float("nan"), float("inf")])
def test_parse_decimal_refuses_floats(value: float) -> None:
    with pytest.raises(TypeError, match="float"):
        parse_decimal(value)


@pytest.mark.parametrize(
    "value",
    [
        True,
        False,
        "",
        " ",
        "abc",
        "1,000",
        "1.2.3",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "0x10",
        "1_000",
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        "1e",
        "e5",
    ],
)
def test_parse_decimal_refuses_garbage(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_decimal(value)


@pytest.mark.parametrize("value", [None, [1], {"a": 1}, b"1", object()])
def test_parse_decimal_refuses_other_types(value: Any) -> None:
    with pytest.raises(TypeError):
        parse_decimal(value)


# ------------------------------------------------------------- format_money


def test_format_money_exact_places() -> None:
    assert format_money(Decimal("1.1"), 2) == "1.10"
    assert format_money(Decimal("1.100"), 2) == "1.10"  # trailing zeros are not places
    assert format_money(Decimal("5"), 0) == "5"
    assert format_money(Decimal("1E+2"), 2) == "100.00"
    assert format_money(Decimal("-0.5"), 8) == "-0.50000000"
    assert format_money(Decimal("12345678901234567890.12"), 2) == "12345678901234567890.12"


@pytest.mark.parametrize(
    ("value", "places"), [("1.005", 2), ("0.001", 2), ("1.5", 0), ("0.123456789", 8)]
)
def test_format_money_never_rounds(value: str, places: int) -> None:
    with pytest.raises(ValueError, match="more than"):
        format_money(Decimal(value), places)


def test_decimal_places() -> None:
    assert decimal_places(Decimal("1.230")) == 2
    assert decimal_places(Decimal("100")) == 0
    assert decimal_places(Decimal("1E+2")) == 0
    assert decimal_places(Decimal("0.00000001")) == 8


# ------------------------------------------------------------------ models


def test_models_refuse_float_amounts() -> None:
    with pytest.raises(TypeError, match="never a float"):
        m.Balance(currency="USD", total=1.5)  # type: ignore[arg-type]
    # request models refuse with InvalidRequest (a ValueError), no longer TypeError
    with pytest.raises(InvalidRequest, match="never a float"):
        m.DepositRequest(account_id="a", amount=10.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        m.TransferRequest(from_account="a", to_account="b", amount=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        m.PlaceOrder(
            instrument="BTC-USD",
            side="buy",
            order_type="limit",
            quantity=Decimal("1"),
            price=100.5,  # type: ignore[arg-type]
        )
    with pytest.raises(TypeError):
        m.Balance(currency="USD", total=True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.Balance(currency="USD", total="1.5")  # type: ignore[arg-type]
    b = m.Balance(currency="USD", total=Decimal("1.50"), available=None)
    assert b.total == Decimal("1.50") and str(b.total) == "1.50"


def test_models_refuse_non_finite_and_non_positive() -> None:
    with pytest.raises(ValueError, match="finite"):
        m.Balance(currency="USD", total=Decimal("NaN"))
    with pytest.raises(ValueError, match="finite"):
        m.Balance(currency="USD", total=Decimal("Infinity"))
    with pytest.raises(ValueError, match="greater than zero"):
        m.DepositRequest(account_id="a", amount=Decimal("0"))
    with pytest.raises(ValueError, match="greater than zero"):
        m.WithdrawalRequest(account_id="a", amount=Decimal("-1"), currency="USD")
    m.Balance(currency="USD", total=Decimal("-5"))  # a balance may be negative


def test_models_refuse_naive_datetimes() -> None:
    naive = datetime(2024, 1, 1, 12, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        m.FundingHistoryQuery(start=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        m.Account(account_id="a", created_at=naive)
    with pytest.raises(ValueError):
        m.OrderQuery(end=naive)
    with pytest.raises(ValueError):
        m.Account(account_id="a", created_at="2024-01-01T00:00:00Z")  # type: ignore[arg-type]
    aware = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    assert m.FundingHistoryQuery(start=aware).start == aware
    with pytest.raises(ValueError, match="naive"):
        as_utc(naive)
    assert as_utc(aware) == datetime(2023, 12, 31, 16, 0, tzinfo=UTC)
    assert as_utc(aware).tzinfo is UTC
    assert utc_from_ms(1_700_000_000_000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


# --------------------------------------------------------------- converter


def test_converter_money_and_times() -> None:
    conv = make_converter()
    b = conv.structure({"currency": "USD", "total": "10.10", "available": 3}, m.Balance)
    assert b.total == Decimal("10.10") and b.available == Decimal(3)
    with pytest.raises(STRUCTURE_ERRORS):
        conv.structure({"currency": "USD", "total": 10.1}, m.Balance)
    with pytest.raises(STRUCTURE_ERRORS):
        conv.structure({"currency": "USD", "total": "ten"}, m.Balance)
    assert conv.unstructure(b)["total"] == "10.10"
    for wire in (
        "2024-01-01T08:00:00+08:00",
        "2024-01-01T00:00:00Z",
        1704067200000,
        "1704067200000",
        1704067200,
        Decimal("1704067200000"),
        "2024-01-01 00:00:00",
    ):
        acct = conv.structure({"account_id": "a", "created_at": wire}, m.Account)
        assert acct.created_at == datetime(2024, 1, 1, tzinfo=UTC), wire
        assert acct.created_at.tzinfo is not None
    for bad in (True, "yesterday", [1], datetime(2024, 1, 1)):
        with pytest.raises((ValueError, TypeError)):
            parse_datetime(bad)


def test_converter_is_strict_about_scalars() -> None:
    conv = make_converter()
    ok = conv.structure(
        {"account_id": 12345, "is_demo": "false", "leverage": Decimal("100")}, m.Account
    )
    assert ok.account_id == "12345" and ok.is_demo is False and ok.leverage == 100
    assert conv.structure({"account_id": "a", "is_demo": "TRUE"}, m.Account).is_demo is True
    assert conv.structure({"account_id": "a", "is_demo": 0}, m.Account).is_demo is False
    for bad in (
        {"account_id": ["x"]},
        {"account_id": None},
        {"account_id": {"id": 1}},
        {"account_id": "a", "is_demo": "no"},
        {"account_id": "a", "is_demo": "2"},
        {"account_id": "a", "leverage": Decimal("1.5")},
        {"account_id": "a", "leverage": "ten"},
        {"account_id": "a", "leverage": True},
    ):
        with pytest.raises(STRUCTURE_ERRORS):
            conv.structure(bad, m.Account)


# -------------------------------------------------------------- parse_json


def _resp(body: bytes, status: int = 200) -> RawResponse:
    return RawResponse(status, {}, body)


def test_parse_json_allows_json_whitespace_only_around_the_document() -> None:
    assert parse_json(_resp(b' \r\n\t{"a": "1"}\n ')) == {"a": "1"}
    for body in (b'{"a": "1"} x', b'{"a": "1"}{}', b'\x0c{"a": "1"}', b"   "):
        with pytest.raises(DecodeError):
            parse_json(_resp(body))


def test_parse_json_numbers_are_decimal() -> None:
    data = parse_json(
        _resp(b'{"a": 0.1, "b": 1.10, "c": 3, "d": 1e-8, "e": [2.50], "f": 0.30000000000000004}')
    )
    assert data["a"] == Decimal("0.1") and isinstance(data["a"], Decimal)
    assert str(data["b"]) == "1.10"
    assert data["c"] == 3 and isinstance(data["c"], int)
    assert data["d"] == Decimal("1E-8")
    assert str(data["e"][0]) == "2.50"
    assert str(data["f"]) == "0.30000000000000004"

    def no_floats(x: Any) -> None:
        assert not isinstance(x, float)
        if isinstance(x, dict):
            for v in x.values():
                no_floats(v)
        if isinstance(x, list):
            for v in x:
                no_floats(v)

    no_floats(data)


@pytest.mark.parametrize("body", [b'{"a": NaN}', b'{"a": Infinity}', b"[-Infinity]"])
def test_parse_json_refuses_non_json_constants(body: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_json(_resp(body))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"", "empty"),
        (b"<html>oops</html>", "HTML"),
        (b'{"a":', "malformed"),
        (b"\xff\xfe", "malformed"),
    ],
)
def test_parse_json_errors(body: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match) as info:
        parse_json(_resp(body, 502), vendor="v")
    assert info.value.http_status == 502 and info.value.vendor == "v"


# -------------------------------------------------------------- the wire out


def test_encode_value_and_dumps_keep_exact_digits() -> None:
    assert encode_value(Decimal("0.10")) == "0.10"
    assert encode_value(Decimal("1E+2")) == "100"
    assert encode_value(True) == "true" and encode_value(False) == "false"
    with pytest.raises(InvalidRequest):
        encode_value(0.1)
    assert json.loads(dumps({"qty": Decimal("0.00000001"), "px": Decimal("1.10")})) == {
        "qty": "0.00000001",
        "px": "1.10",
    }


async def test_decimal_amounts_round_trip_through_a_call() -> None:
    client, transport = mock_client(lambda r: ok_response({"order_id": "o1"}))
    async with client:
        await client.call(
            "order.place",
            symbol="BTC-USD",
            side="buy",
            qty=Decimal("0.00000001"),
            price=Decimal("65000.10"),
        )
    body = json.loads(transport.requests[0].body or b"")
    assert body["qty"] == "0.00000001" and body["price"] == "65000.10"

    # and an answer's numbers arrive as exact Decimals
    client2, _ = mock_client(lambda r: raw(b'{"code":"0","data":{"balance":1234.5600}}'))
    async with client2:
        data = await client2.call("account.get", account_id="a1")
    assert isinstance(data["balance"], Decimal) and str(data["balance"]) == "1234.5600"


def test_converter_does_not_split_strings_into_sequences() -> None:
    conv = make_converter()
    with pytest.raises(STRUCTURE_ERRORS):
        conv.structure({"api_key": "k", "permissions": "read,trade"}, m.ApiKey)
    with pytest.raises(STRUCTURE_ERRORS):
        conv.structure({"account_id": "a", "available": "125"}, m.Leverage)
