"""OKX REST signing: the independent vector, exact bytes, headers, demo flag."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from brokerport.client import Client
from brokerport.profile import Profile
from brokerport.signing import PreparedRequest
from brokerport.transport import MockTransport, RawResponse
from brokerport.types import Secret
from brokerport_okx import OkxAdapter
from brokerport_okx.signing import OkxHmacSigner, okx_timestamp, sign

VECTOR_SECRET = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO"
VECTOR_TS = "2020-12-08T09:08:57.715Z"
VECTOR_SIGN = "PJ61e1nb2F2Qd7D8SPiaIcx2gjdELc+o0ygzre9z33k="


def test_independent_signature_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_TS, "GET", "/api/v5/account/balance", b"") == VECTOR_SIGN


def test_signer_reproduces_vector_from_epoch_seconds() -> None:
    now = datetime(2020, 12, 8, 9, 8, 57, 715000, tzinfo=UTC).timestamp()
    assert okx_timestamp(now) == VECTOR_TS
    signer = OkxHmacSigner(Secret("key"), Secret(VECTOR_SECRET), Secret("pass"))
    req = PreparedRequest("GET", "http://x", "/api/v5/account/balance")
    signer.sign(req, now)
    assert req.headers["OK-ACCESS-SIGN"] == VECTOR_SIGN
    assert req.headers["OK-ACCESS-TIMESTAMP"] == VECTOR_TS
    assert req.headers["OK-ACCESS-KEY"] == "key"
    assert req.headers["OK-ACCESS-PASSPHRASE"] == "pass"
    assert "x-simulated-trading" not in req.headers


def test_timestamp_has_milliseconds_and_z() -> None:
    assert okx_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert (
        okx_timestamp(1.0005) == "1970-01-01T00:00:01.000Z"
        or okx_timestamp(1.0005) == "1970-01-01T00:00:01.001Z"
    )
    assert okx_timestamp(1607418537.7) == "2020-12-08T09:08:57.700Z"


def _ok(req: PreparedRequest) -> RawResponse:
    return RawResponse(200, {}, b'{"code":"0","msg":"","data":[{"subAcct":"abcdef1"}]}')


async def test_get_query_is_signed_and_post_body_is_the_exact_bytes() -> None:
    transport = MockTransport(_ok)
    profile = Profile(
        vendor="okx",
        base_url="http://okx.test",
        credentials={"api_key": "k", "secret_key": "s3cr3t", "passphrase": "p"},
        options={"simulated": "1"},
    )
    async with Client(OkxAdapter, profile, transport=transport) as c:
        await c.call("broker.dma.get_apikey", subAcct="panpanBroker2", apiKey="a b")
        await c.call("broker.dma.delete_subaccount", subAcct="yonxws")
    get, post = transport.requests
    assert get.query in ("subAcct=panpanBroker2&apiKey=a+b", "subAcct=panpanBroker2&apiKey=a%20b")
    assert get.body is None
    ts = get.headers["OK-ACCESS-TIMESTAMP"]
    assert get.headers["OK-ACCESS-SIGN"] == sign(
        "s3cr3t", ts, "GET", "/api/v5/broker/dma/subaccount/apikey?" + get.query
    )
    assert get.headers["x-simulated-trading"] == "1"
    assert post.body == b'{"subAcct":"yonxws"}'
    assert json.loads(post.body) == {"subAcct": "yonxws"}
    assert post.headers["Content-Type"] == "application/json"
    ts = post.headers["OK-ACCESS-TIMESTAMP"]
    assert post.headers["OK-ACCESS-SIGN"] == sign(
        "s3cr3t", ts, "POST", "/api/v5/broker/dma/delete-subaccount", post.body
    )


async def test_public_time_carries_no_credentials() -> None:
    answer = b'{"code":"0","msg":"","data":[{"ts":"1"}]}'
    transport = MockTransport(lambda r: RawResponse(200, {}, answer))
    profile = Profile(
        vendor="okx",
        base_url="http://okx.test",
        credentials={"api_key": "k", "secret_key": "s", "passphrase": "p"},
    )
    async with Client(OkxAdapter, profile, transport=transport) as c:
        assert await c.call("public.time") == [{"ts": "1"}]
    headers = {k.lower() for k in transport.requests[0].headers}
    assert not any(h.startswith("ok-access") for h in headers)
