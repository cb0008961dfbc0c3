"""The typed error hierarchy, and malformed vendor answers never escaping untyped."""

from __future__ import annotations

import inspect
import pickle
from typing import Any

import brokerport
import pytest
from brokerport import errors
from brokerport import models as m
from brokerport.adapter import ErrorMap, VendorFault
from brokerport.client import Client
from brokerport.signing import PreparedRequest
from brokerport.testing.sandbox import FaultKind
from brokerport.transport import RawResponse
from fakex_vendor import (
    FAST_RETRY,
    Fakex,
    FakexSandbox,
    body_json,
    envelope,
    mock_client,
    ok_response,
    raw,
)

ALL_ERRORS = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.BrokerportError)
]

CONTEXT: dict[str, Any] = {
    "vendor": "fakex",
    "vendor_code": "51008",
    "vendor_message": "Insufficient balance",
    "http_status": 400,
    "endpoint": "order.place",
}


def test_every_error_class_is_exported_and_listed() -> None:
    names = {cls.__name__ for cls in ALL_ERRORS}
    assert names == set(errors.__all__)
    assert len(ALL_ERRORS) == 17  # + TLSError, ProxyError, ClientClosed
    for cls in ALL_ERRORS:
        assert getattr(brokerport, cls.__name__) is cls


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_error_carries_context_fields(cls: type[errors.BrokerportError]) -> None:
    err = cls("it failed", **CONTEXT)
    assert isinstance(err, errors.BrokerportError) and isinstance(err, Exception)
    for k, v in CONTEXT.items():
        assert getattr(err, k) == v
    text = str(err)
    assert "it failed" in text and "vendor=fakex" in text and "endpoint=order.place" in text
    assert "code=51008" in text and "http=400" in text
    assert repr(err).startswith(f"{cls.__name__}(")
    # fields default to None, and message falls back to vendor text, then class name
    bare = cls()
    for k in CONTEXT:
        assert getattr(bare, k) is None
    assert bare.message == cls.__name__
    assert cls(vendor_message="vendor says no").message == "vendor says no"


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_error_pickle_round_trip(cls: type[errors.BrokerportError]) -> None:
    err = cls("it failed", details={"request_id": "r1"}, **CONTEXT)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert back.message == "it failed"
    for k, v in CONTEXT.items():
        assert getattr(back, k) == v
    assert dict(back.details) == {"request_id": "r1"}
    assert str(back) == str(err)
    assert back.retryable == err.retryable


def test_subclass_specific_fields_survive_pickling() -> None:
    e1 = pickle.loads(pickle.dumps(errors.InvalidRequest("bad", field="qty", **CONTEXT)))
    assert e1.field == "qty" and e1.vendor == "fakex"
    e2 = pickle.loads(pickle.dumps(errors.RateLimited("slow", retry_after=1.5, **CONTEXT)))
    assert e2.retry_after == 1.5 and e2.http_status == 400
    e3 = pickle.loads(
        pickle.dumps(
            errors.UnknownOutcome(
                "lost",
                idempotency_key="k1",
                reconcile_with={"client_id": "k1"},
                how_to_reconcile="look it up",
                **CONTEXT,
            )
        )
    )
    assert e3.idempotency_key == "k1"
    assert dict(e3.reconcile_with) == {"client_id": "k1"}
    assert e3.how_to_reconcile == "look it up" and e3.endpoint == "order.place"


def test_retryable_flags() -> None:
    retryable = {cls.__name__ for cls in ALL_ERRORS if cls.retryable}
    assert retryable == {"RateLimited", "VendorUnavailable", "Timeout", "DecodeError"}
    assert not errors.UnknownOutcome.retryable


def test_with_context_fills_only_missing() -> None:
    err = errors.NotFound("x", vendor="a")
    assert err.with_context(vendor="b", endpoint="e", http_status=None) is err
    assert err.vendor == "a" and err.endpoint == "e" and err.http_status is None


def test_error_map_classifies_by_code_then_status() -> None:
    em = ErrorMap({"E1": errors.Conflict}, by_status={418: errors.PermissionDenied})
    assert em.classify("E1", 500) is errors.Conflict
    assert em.classify("nope", 401) is errors.AuthenticationError
    assert em.classify(None, 404) is errors.NotFound
    assert em.classify(None, 429) is errors.RateLimited
    assert em.classify(None, 418) is errors.PermissionDenied
    assert em.classify(None, 502) is errors.VendorUnavailable
    assert em.classify("zzz", 200) is errors.BrokerportError
    err = em.error(
        VendorFault("X", "slow down", http_status=429, retry_after=2.0), vendor="v", endpoint="e"
    )
    assert isinstance(err, errors.RateLimited) and err.retry_after == 2.0
    assert (err.vendor, err.vendor_code, err.vendor_message, err.http_status, err.endpoint) == (
        "v",
        "X",
        "slow down",
        429,
        "e",
    )


# ------------------------------------------------- malformed vendor answers


MALFORMED: dict[str, RawResponse] = {
    "truncated": raw(envelope({"account_id": "a1", "balance": "1.00"})[:25]),
    "html_200": raw(b"<html><body>Maintenance</body></html>", 200, "text/html"),
    "html_502": raw(b"<html><head><title>502 Bad Gateway</title></head></html>", 502, "text/html"),
    "empty": raw(b"", 200),
    "empty_500": raw(b"", 500),
    "not_json": raw(b"Service temporarily unavailable", 200, "text/plain"),
    "not_utf8": raw(b"\xff\xfe\x00{", 200),
    "missing_code": raw(b'{"data": {"account_id": "a1"}}'),  # decoder raises KeyError
    "missing_data": raw(b'{"code": "0"}'),  # decoder raises KeyError
    "list_body": raw(b"[1, 2, 3]"),  # decoder raises TypeError
    "string_body": raw(b'"just a string"'),  # decoder raises TypeError
    "null_body": raw(b"null"),
    "nan": raw(b'{"code": NaN, "data": 1}'),
    "trailing_data": raw(b'{"code": "0", "data": {"account_id": "a1"}} {"code": "0"}'),
    "deeply_nested": raw(b"[" * 100_000 + b"]" * 100_000),  # RecursionError in the scanner
}

# the error a GET ends with, after every attempt was spent
GET_FINAL = {
    "html_502": errors.VendorUnavailable,
    "empty_500": errors.VendorUnavailable,
}


def _always(response: RawResponse) -> Any:
    def handler(request: PreparedRequest) -> RawResponse:
        return response

    return handler


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_answer_to_get_is_retried_then_typed(case: str) -> None:
    client, transport = mock_client(_always(MALFORMED[case]))
    async with client:
        with pytest.raises(errors.BrokerportError) as info:
            await client.call("account.get", account_id="a1")
    err = info.value
    expected = GET_FINAL.get(case, errors.DecodeError)
    assert type(err) is expected, repr(err)
    assert err.vendor == "fakex" and err.endpoint == "account.get"
    assert err.http_status == MALFORMED[case].status
    assert len(transport.requests) == FAST_RETRY.max_attempts  # idempotent: retried
    assert err.__cause__ is None


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_answer_to_post_is_unknown_outcome(case: str) -> None:
    client, transport = mock_client(_always(MALFORMED[case]))
    async with client:
        with pytest.raises(errors.UnknownOutcome) as info:
            await client.call("order.place", symbol="BTC-USD", side="buy", qty="1")
    err = info.value
    assert len(transport.requests) == 1  # a write is never re-sent blind
    sent_key = body_json(transport.requests[0])["client_id"]
    assert err.idempotency_key == sent_key and len(sent_key) >= 16
    assert err.reconcile_with["client_id"] == sent_key
    assert err.reconcile_with["symbol"] == "BTC-USD"
    assert sent_key in (err.how_to_reconcile or "")
    assert err.vendor == "fakex" and err.endpoint == "order.place"


async def test_malformed_then_good_get_recovers() -> None:
    answers = [MALFORMED["truncated"], MALFORMED["html_502"], ok_response({"account_id": "a1"})]
    client, transport = mock_client(lambda r: answers.pop(0))
    async with client:
        assert await client.call("account.get", account_id="a1") == {"account_id": "a1"}
    assert len(transport.requests) == 3


WRONG_TYPES = {
    "balance_bool": {"account_id": "a1", "balance": True},
    "balance_garbage": {"account_id": "a1", "balance": "12,50"},
    "created_at_garbage": {"account_id": "a1", "created_at": "yesterday"},
    "account_id_missing": {"balance": "1"},
    "not_a_mapping": ["a1"],
    "nested_wrong": {"account_id": "a1", "raw": 5, "leverage": {"x": 1}},
}


@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
async def test_unstructurable_payload_is_decode_error(case: str) -> None:
    client, _transport = mock_client(_always(ok_response(WRONG_TYPES[case])))
    async with client:
        with pytest.raises(errors.DecodeError) as info:
            await client.invoke("account.get", {"account_id": "a1"}, into=m.Account)
        # the same through a client.structure call (what ports use)
        with pytest.raises(errors.DecodeError):
            client.structure(WRONG_TYPES[case], m.Account)
    assert info.value.endpoint == "account.get" and info.value.vendor == "fakex"
    assert "Account" in str(info.value)


async def test_port_with_unstructurable_read_raises_decode_error() -> None:
    client, _ = mock_client(_always(ok_response({"items": "nope"})))
    async with client:
        with pytest.raises(errors.DecodeError):
            await client.subaccounts.list(m.ListSubAccounts())


async def test_unstructurable_answer_to_write_via_invoke_is_unknown_outcome() -> None:
    client, transport = mock_client(_always(ok_response({"order_id": ["not", "a", "str"]})))
    async with client:
        with pytest.raises(errors.UnknownOutcome) as info:
            await client.invoke(
                "order.place", {"symbol": "BTC-USD", "side": "buy", "qty": "1"}, into=m.OrderAck
            )
    assert len(transport.requests) == 1
    assert info.value.idempotency_key == body_json(transport.requests[0])["client_id"]


async def test_unstructurable_answer_to_write_via_port_is_unknown_outcome() -> None:
    client, transport = mock_client(_always(ok_response({"name": 5, "created_at": "soon"})))
    async with client:
        with pytest.raises(errors.UnknownOutcome):
            await client.subaccounts.create(m.CreateSubAccount(name="abcd1"))
    assert len(transport.requests) == 1


async def test_vendor_error_envelopes_are_typed() -> None:
    cases = [
        (raw(envelope(None, code="51008", msg="no money")), errors.InsufficientFunds),
        (raw(envelope(None, code="59000", msg="dup")), errors.Conflict),
        (raw(envelope(None, code="51603", msg="gone"), 404), errors.NotFound),
        (raw(envelope(None, code="77777", msg="mystery"), 403), errors.PermissionDenied),
        (raw(envelope(None, code="77777", msg="mystery"), 200), errors.BrokerportError),
    ]
    for response, cls in cases:
        client, transport = mock_client(_always(response))
        async with client:
            with pytest.raises(errors.BrokerportError) as info:
                await client.call("order.place", symbol="BTC-USD", side="buy", qty="1")
        err = info.value
        assert type(err) is cls
        assert err.vendor_code == body_code(response)
        assert err.http_status == response.status
        assert err.endpoint == "order.place" and err.vendor == "fakex"
        assert len(transport.requests) == 1


def body_code(response: RawResponse) -> str:
    import json

    return str(json.loads(response.body)["code"])


async def test_sandbox_malformed_faults_end_typed(sandbox: FakexSandbox) -> None:
    """Real aiohttp round trips: truncated, HTML, non-JSON and empty bodies."""
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY) as client:
        cases: list[tuple[FaultKind, type[errors.BrokerportError]]] = [
            ("truncate", errors.DecodeError),
            ("html", errors.VendorUnavailable),
            ("not_json", errors.DecodeError),
            ("empty", errors.DecodeError),
        ]
        for kind, get_error in cases:
            sandbox.faults.clear()
            sandbox.faults.add(kind, "account.get", times=-1)
            with pytest.raises(get_error):
                await client.call("account.get", account_id="a1")
            sandbox.faults.clear()
            sandbox.faults.add(kind, "order.place")
            with pytest.raises(errors.UnknownOutcome):
                await client.call("order.place", symbol="BTC-USD", side="buy", qty="1")
        sandbox.faults.clear()
        entries = sandbox.journal.for_endpoint("order.place")
        assert len(entries) == 4  # one per logical write, never re-sent
        gets = sandbox.journal.for_endpoint("account.get")
        assert len(gets) == 4 * FAST_RETRY.max_attempts
        # after the faults, the same client still works
        assert (await client.call("account.get", account_id="a1"))["account_id"] == "a1"
