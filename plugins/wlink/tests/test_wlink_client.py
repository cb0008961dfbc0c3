"""The wlink client side against a MockTransport: signing, auth modes, writes, errors, times."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from brokerport import errors as e
from brokerport import models as m
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.profile import Profile
from brokerport.signing import PreparedRequest
from brokerport.transport import MockTransport, RawResponse, TransportFailure
from brokerport.types import Secret
from brokerport_wlink import WlinkAdapter
from brokerport_wlink.auth import canonical_query, string_to_sign

KEY, SECRET = "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b", "s3cret"
CREDS = {"api_key": KEY, "api_secret": SECRET, "email": "a@b.c", "password": "pw-1234"}


def ok(body: Any, status: int = 200) -> RawResponse:
    return RawResponse(status, {}, json.dumps(body).encode())


def client(
    handler: Callable[[PreparedRequest], Any], **options: str
) -> tuple[Client, MockTransport]:
    transport = MockTransport(handler)
    profile = Profile(
        vendor="wlink",
        name="t",
        base_url="https://client.example",
        credentials=dict(CREDS),
        options={"ib_base_url": "https://ib.example", **options},
    )
    retry = RetryPolicy(base_delay=0.0, max_delay=0.0)
    return Client(WlinkAdapter, profile, transport=transport, retry=retry), transport


def test_canonical_query_is_decoded_sorted_and_drops_empty_values() -> None:
    assert canonical_query("b=2&a=&type=x&type=a&c=a%20b") == "b=2&c=a b&type=a&type=x"
    assert canonical_query("a=&b=1") == "b=1"


def test_string_to_sign_follows_the_vendor_readme() -> None:
    text = string_to_sign("get", "/v1/x", "b=1&a=2", KEY, "1700000000000", "n-1", None)
    empty = hashlib.sha256(b"").hexdigest()
    assert text == f"GET\n/v1/x\na=2&b=1\n{KEY}\n1700000000000\nn-1\n{empty}"
    post = string_to_sign("POST", "/v1/y", "", KEY, "1", "n", b'{"a":1}')
    assert post.endswith(hashlib.sha256(b'{"a":1}').hexdigest())


async def test_every_attempt_is_signed_afresh_and_writes_are_never_resent() -> None:
    answers = iter(
        [ok({"reason": "INTERNAL", "message": "busy"}, 503), ok({"list": [], "total": 0})]
    )
    c, t = client(lambda r: next(answers))
    async with c:
        await c.call("trading.account_list", page=1, size=20)
    first, second = (r.headers for r in t.requests)
    assert first["X-Nonce"] != second["X-Nonce"]
    for r in t.requests:  # verified independently of the signer
        h = r.headers
        text = "\n".join(
            (
                "GET",
                r.path,
                "page=1&size=20",
                KEY,
                h["X-Timestamp"],
                h["X-Nonce"],
                hashlib.sha256(b"").hexdigest(),
            )
        )
        assert (
            h["X-Signature"] == hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
        )

    def lost(r: PreparedRequest) -> RawResponse:
        raise TransportFailure("disconnect", "connection reset after sending")

    c, t = client(lost)
    request = m.WithdrawalRequest(
        account_id="100",
        amount=Decimal("20.010"),
        currency="USD",
        extra={
            "remittance_id": 1,
            "email_code": "123456",
            "fee": "2.50",
            "exchange_rate": "1.0005",
            "remittance_amount": "17.52",
            "method": "bank_transfer",
        },
    )
    async with c:
        with pytest.raises(e.UnknownOutcome) as info:
            await c.funding.request_withdrawal(request)
    assert len(t.requests) == 1
    body = json.loads(t.requests[0].body or b"")
    assert (body["fee"], body["exchange_rate"], body["remittance_amount"]) == (
        "2.50",
        "1.0005",
        "17.52",
    )
    assert body["withdrawal_amount"] == "20.010" and body["trading_account_id"] == 100
    assert "check_pending" in (info.value.how_to_reconcile or "")
    assert info.value.reconcile_with["trading_account_id"] == "100"
    assert "123456" not in repr(info.value.reconcile_with)  # the email code is sensitive


async def test_quoted_values_must_be_text_and_are_refused_before_io() -> None:
    c, t = client(lambda r: ok({}))
    async with c:
        with pytest.raises(e.InvalidRequest, match="fee"):
            await c.funding.request_withdrawal(
                m.WithdrawalRequest(
                    account_id="1",
                    amount=Decimal(1),
                    currency="USD",
                    extra={
                        "remittance_id": 1,
                        "fee": Decimal("2.5"),
                        "exchange_rate": "1",
                        "remittance_amount": "1",
                    },
                )
            )
    assert t.requests == []


async def test_balance_types_go_out_as_repeated_keys() -> None:
    c, t = client(
        lambda r: ok(
            {
                "list": [
                    {
                        "trading_account_id": 7,
                        "trading_account": "1",
                        "balance": "5.5",
                        "server_name": "s",
                        "server_type": "MT5-Live",
                    }
                ],
                "total": 1,
            }
        )
    )
    async with c:
        balances = await c.funding.balances(m.GetBalances(account_id="7"))
    assert t.requests[0].query == "type=deposit_only&type=withdrawal_only&type=normal"
    assert balances[0].total == Decimal("5.5") and balances[0].currency == "USD"


async def test_portal_mode_logs_in_and_again_when_the_token_is_rejected() -> None:
    tokens = iter(["tok-1", "tok-2"])

    def handler(r: PreparedRequest) -> RawResponse:
        if r.endpoint == "auth.account_login":
            assert "X-Signature" not in r.headers and "Authorization" not in r.headers
            return ok({"token": next(tokens), "user_info": {"id": 9}})
        if r.headers.get("Authorization") == "Bearer tok-1":
            return ok({"code": 401, "reason": "TOKEN_EXPIRED", "message": "expired"}, 401)
        return ok({"list": [], "total": 0})

    c, t = client(handler, auth_mode="portal", language="en")
    async with c:
        await c.accounts.list(m.ListAccounts(user_ids=("me",)))
    assert [r.endpoint for r in t.requests] == [
        "auth.account_login",
        "trading.account_list",
        "auth.account_login",
        "trading.account_list",
    ]
    assert t.requests[-1].headers["Authorization"] == "Bearer tok-2"
    assert all(r.headers["X-Language"] == "en" for r in t.requests)
    assert c.signer.logins == 2  # type: ignore[attr-defined]


async def test_bearer_only_endpoints_log_in_even_in_signed_mode() -> None:
    def handler(r: PreparedRequest) -> RawResponse:
        if r.endpoint == "auth.account_login":
            return ok({"token": "tok", "user_info": {}})
        if "Authorization" not in r.headers:
            return ok({"code": 401, "reason": "UNAUTHORIZED", "message": "log in"}, 401)
        return ok({})

    c, t = client(handler)
    async with c:
        await c.keys.revoke_token(m.RenewToken())
    assert [r.endpoint for r in t.requests] == [
        "auth.account_logout",
        "auth.account_login",
        "auth.account_logout",
    ]
    assert "X-Signature" not in t.requests[-1].headers


async def test_error_shape_is_configurable_and_typed() -> None:
    c, _ = client(lambda r: ok({"code": 404, "reason": "NOT_FOUND", "message": "gone"}, 404))
    async with c:
        with pytest.raises(e.NotFound) as info:
            await c.accounts.get(m.GetAccount(account_id="1"))
    assert info.value.vendor_code == "NOT_FOUND"
    c, _ = client(
        lambda r: ok({"error": "X1", "msg": "nope"}, 400),
        error_code_field="error",
        error_message_field="msg",
        error_codes="X1=Conflict",
    )
    async with c:
        with pytest.raises(e.Conflict, match="nope"):
            await c.accounts.get(m.GetAccount(account_id="1"))
    c, _ = client(lambda r: ok({"reason": "TOO_MANY_REQUESTS"}, 429))
    async with c:
        with pytest.raises(e.RateLimited):
            await c.call(
                "client.trading_deposit_draft_create",
                trading_account_id=1,
                deposit_amount="1",
                remittance_id=1,
            )


@pytest.mark.parametrize(("zone", "hour"), [("+08:00", 19), ("UTC", 3)])
async def test_zoneless_times_are_read_in_the_configured_zone(zone: str, hour: int) -> None:
    item = {
        "order_number": "D1",
        "amount": "1.00",
        "currency": "USD",
        "status": "auditing",
        "submit_time": "2026-01-02 03:04:05",
        "target_trading_account": {"id": 5},
    }
    c, t = client(lambda r: ok({"list": [item], "total": 1}), timezone=zone)
    start = datetime(2026, 1, 1, 16, 0, tzinfo=UTC)
    async with c:
        page = await c.funding.deposit_history(m.FundingHistoryQuery(start=start))
    assert page.items[0].created_at is not None and page.items[0].created_at.hour == hour
    sent = "2026-01-02+00%3A00%3A00" if zone == "+08:00" else "2026-01-01+16%3A00%3A00"
    assert sent.replace("+", "%20") in t.requests[0].query


async def test_oss_credentials_are_secrets_everywhere() -> None:
    answer = {
        "access_key_id": "AKID-1",
        "access_key_secret": "SK-1",
        "security_token": "ST-1",
        "bucket_name": "b",
    }
    c, _ = client(lambda r: ok(answer))
    async with c:
        creds = await c.ext("wlink.kyc").upload_credentials()
        raw = await c.call("public.osstoken_get")
    assert (
        isinstance(creds.access_key_secret, Secret) and creds.access_key_secret.reveal() == "SK-1"
    )
    text = repr(creds) + repr(raw)
    assert not any(v in text for v in ("AKID-1", "SK-1", "ST-1"))
    assert all(
        isinstance(raw[k], Secret) for k in ("access_key_id", "access_key_secret", "security_token")
    )
