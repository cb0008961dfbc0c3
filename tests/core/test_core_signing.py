"""Signing primitives: HMAC helpers, RSA keys and SHA1withRSA, bearer tokens."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from brokerport import AuthenticationError, PluginError, Secret
from brokerport.signing import (
    BearerSigner,
    BearerToken,
    HeaderSigner,
    PreparedRequest,
    TokenPair,
    hmac_sha256,
    hmac_sha256_b64,
    hmac_sha256_hex,
    load_rsa_private_key,
    load_rsa_public_key,
    rsa_sha1_sign,
    rsa_sha1_verify,
)
from brokerport.types import REDACTED
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from fakex_vendor import envelope, ok_response, raw

PASSWORD = b"correct horse battery staple"

# ------------------------------------------------------------------- HMAC


@pytest.mark.parametrize("key", ["k3y", b"k3y", Secret("k3y")], ids=["str", "bytes", "Secret"])
def test_hmac_helpers_match_hashlib(key: Any) -> None:
    msg = b'1700000000.000GET/api/v1/x?a=1\n{"b":2}'
    expected = hmac.new(b"k3y", msg, hashlib.sha256)
    assert hmac_sha256(key, msg) == expected.digest()
    assert hmac_sha256_hex(key, msg) == expected.hexdigest()
    assert hmac_sha256_b64(key, msg) == base64.b64encode(expected.digest()).decode()


def test_hmac_unicode_secret_is_utf8() -> None:
    msg = b"m"
    assert (
        hmac_sha256_hex("cl\u00e9", msg)
        == hmac.new("cl\u00e9".encode(), msg, hashlib.sha256).hexdigest()
    )


# -------------------------------------------------------------------- RSA


@pytest.fixture(scope="module")
def rsa_key() -> Iterator[rsa.RSAPrivateKey]:
    yield rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(
    key: Any,
    fmt: serialization.PrivateFormat,
    enc: serialization.KeySerializationEncryption | None = None,
) -> bytes:
    data: bytes = key.private_bytes(
        serialization.Encoding.PEM, fmt, enc or serialization.NoEncryption()
    )
    return data


def _pub_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _same_key(a: rsa.RSAPrivateKey, b: rsa.RSAPrivateKey) -> bool:
    return a.private_numbers() == b.private_numbers()


def test_load_pkcs1_and_pkcs8(rsa_key: rsa.RSAPrivateKey) -> None:
    pkcs1 = _pem(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL)
    pkcs8 = _pem(rsa_key, serialization.PrivateFormat.PKCS8)
    assert pkcs1.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert pkcs8.startswith(b"-----BEGIN PRIVATE KEY-----")
    for pem in (pkcs1, pkcs8, pkcs1.decode(), pkcs8.decode(), Secret(pkcs8.decode())):
        assert _same_key(load_rsa_private_key(pem), rsa_key)


def test_load_encrypted_pkcs8(rsa_key: rsa.RSAPrivateKey) -> None:
    enc = _pem(
        rsa_key, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(PASSWORD)
    )
    assert enc.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    for pw in (PASSWORD, PASSWORD.decode(), Secret(PASSWORD.decode())):
        assert _same_key(load_rsa_private_key(enc, pw), rsa_key)
    assert _same_key(load_rsa_private_key(Secret(enc.decode()), Secret(PASSWORD.decode())), rsa_key)


def _assert_no_key_material(err: BaseException, pem: bytes, *extra: bytes) -> None:
    text = " ".join(
        [
            str(err),
            repr(err),
            "".join(traceback.format_exception(err)),
            repr(getattr(err, "__dict__", {})),
        ]
    )
    body_lines = [ln for ln in pem.decode().splitlines() if ln and not ln.startswith("-----")]
    assert "PRIVATE KEY" not in text
    for line in body_lines:
        assert line[:20] not in text
    for e in extra:
        assert e.decode() not in text


def test_wrong_or_missing_passphrase(rsa_key: rsa.RSAPrivateKey) -> None:
    enc = _pem(
        rsa_key, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(PASSWORD)
    )
    wrong = b"wrong-passphrase-xyz"
    with pytest.raises(AuthenticationError, match="passphrase") as info:
        load_rsa_private_key(enc, wrong)
    _assert_no_key_material(info.value, enc, wrong, PASSWORD)
    assert info.value.__cause__ is None
    with pytest.raises(AuthenticationError) as info2:
        load_rsa_private_key(enc)
    _assert_no_key_material(info2.value, enc, PASSWORD)
    with pytest.raises(AuthenticationError) as info3:
        load_rsa_private_key(Secret(enc.decode()), Secret(wrong.decode()))
    _assert_no_key_material(info3.value, enc, wrong)


def test_not_a_key_or_not_rsa(rsa_key: rsa.RSAPrivateKey) -> None:
    pkcs8 = _pem(rsa_key, serialization.PrivateFormat.PKCS8)
    broken = pkcs8[:200] + b"garbage" + pkcs8[200:]
    with pytest.raises(AuthenticationError) as info:
        load_rsa_private_key(broken)
    _assert_no_key_material(info.value, pkcs8)
    with pytest.raises(AuthenticationError):
        load_rsa_private_key("not a pem at all")
    ec_pem = _pem(ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.PKCS8)
    with pytest.raises(AuthenticationError, match="not an RSA key"):
        load_rsa_private_key(ec_pem)
    with pytest.raises(PluginError):
        load_rsa_public_key(b"nope")
    ec_pub = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(PluginError, match="not an RSA"):
        load_rsa_public_key(ec_pub)


def test_rsa_sha1_sign_and_verify(rsa_key: rsa.RSAPrivateKey) -> None:
    msg = b'appId=1&bizContent={"amount":"10.00"}&timestamp=2024-01-01 00:00:00'
    sig = rsa_sha1_sign(rsa_key, msg)
    raw_sig = base64.b64decode(sig, validate=True)
    assert len(raw_sig) == 256
    # with cryptography directly (raises on failure)
    rsa_key.public_key().verify(raw_sig, msg, padding.PKCS1v15(), hashes.SHA1())
    # PKCS#1 v1.5 is deterministic: the same as cryptography's own signature
    assert raw_sig == rsa_key.sign(msg, padding.PKCS1v15(), hashes.SHA1())
    # with our verify and a key loaded from PEM (str and bytes)
    pub = load_rsa_public_key(_pub_pem(rsa_key))
    assert rsa_sha1_verify(pub, msg, sig)
    assert rsa_sha1_verify(load_rsa_public_key(_pub_pem(rsa_key).decode()), msg, sig)
    assert not rsa_sha1_verify(pub, msg + b"x", sig)
    assert not rsa_sha1_verify(pub, msg, "not base64!!")
    assert not rsa_sha1_verify(pub, msg, base64.b64encode(b"\x00" * 256).decode())
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert not rsa_sha1_verify(other.public_key(), msg, sig)


# ----------------------------------------------------------- simple signers


def test_header_signer_redacts() -> None:
    s = HeaderSigner(
        {"X-Tenant": "t1", "X-Token": Secret("tok-VALUE")}, sensitive=frozenset({"X-Tenant-Key"})
    )
    req = PreparedRequest("GET", "http://x", "/a")
    s.sign(req, 0.0)
    assert req.headers == {"X-Tenant": "t1", "X-Token": "tok-VALUE"}
    assert s.redacted() == {"X-Tenant": "t1", "X-Token": REDACTED}
    assert "x-token" in s.sensitive_headers and "x-tenant-key" in s.sensitive_headers
    assert "tok-VALUE" not in repr(s)
    assert repr(req) == "PreparedRequest(GET /a)"


# ------------------------------------------------------------ bearer tokens


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _pair(n: int, expires_at: float | None) -> TokenPair:
    return TokenPair(Secret(f"access-{n}"), Secret(f"refresh-{n}"), expires_at)


async def test_bearer_token_single_flight() -> None:
    clock = Clock()
    calls: list[str] = []
    gate = asyncio.Event()

    async def refresher(old: TokenPair) -> TokenPair:
        calls.append(old.refresh_token.reveal() if old.refresh_token else "")
        await gate.wait()  # keep the flight open while everyone piles in
        return _pair(len(calls) + 1, clock.now + 3600)

    token = BearerToken(_pair(1, clock.now - 1), refresher, clock=clock)
    tasks = [asyncio.create_task(token.current()) for _ in range(20)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert calls == ["refresh-1"]
    gate.set()
    results = await asyncio.gather(*tasks)
    assert calls == ["refresh-1"], "exactly one refresh for 20 concurrent callers"
    assert token.refresh_count == 1
    assert {r.reveal() for r in results} == {"access-2"}
    # fresh now: no more refreshes
    assert (await token.current()).reveal() == "access-2"
    assert calls == ["refresh-1"]


async def test_bearer_token_leeway() -> None:
    clock = Clock()
    refreshed: list[int] = []

    async def refresher(old: TokenPair) -> TokenPair:
        refreshed.append(1)
        return _pair(2, clock.now + 3600)

    token = BearerToken(_pair(1, clock.now + 100), refresher, leeway=30, clock=clock)
    assert (await token.current()).reveal() == "access-1"
    clock.now += 71  # within the leeway of expiry
    assert (await token.current()).reveal() == "access-2"
    assert refreshed == [1]
    never = BearerToken(_pair(9, None), refresher, clock=clock)
    clock.now += 10**9
    assert (await never.current()).reveal() == "access-9"


async def test_bearer_token_failed_refresh_reaches_all_waiters_then_retries() -> None:
    clock = Clock()
    attempts: list[int] = []
    gate = asyncio.Event()
    fail = True

    async def refresher(old: TokenPair) -> TokenPair:
        attempts.append(1)
        await gate.wait()
        if fail:
            raise AuthenticationError("refresh token revoked", vendor="fakex")
        return _pair(2, clock.now + 3600)

    token = BearerToken(_pair(1, clock.now - 1), refresher, clock=clock)
    tasks = [asyncio.create_task(token.current()) for _ in range(20)]
    for _ in range(5):
        await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert len(attempts) == 1
    assert all(isinstance(r, AuthenticationError) for r in results), results
    assert token.refresh_count == 0
    assert token.tokens.access_token.reveal() == "access-1"
    # a later call retries the refresh, and it can succeed
    fail = False
    assert (await token.current()).reveal() == "access-2"
    assert len(attempts) == 2 and token.refresh_count == 1


async def test_bearer_token_without_refresh_token() -> None:
    token = BearerToken(TokenPair(Secret("a"), None, 0.0), None, clock=Clock())
    with pytest.raises(AuthenticationError, match="no refresh token"):
        await token.current()


async def test_refresh_skipped_when_someone_already_rotated() -> None:
    clock = Clock()

    async def refresher(old: TokenPair) -> TokenPair:
        return _pair(int(old.access_token.reveal().split("-")[1]) + 1, clock.now + 3600)

    token = BearerToken(_pair(1, clock.now + 3600), refresher, clock=clock)
    stale = token.tokens.access_token
    await token.refresh(stale)
    assert token.tokens.access_token.reveal() == "access-2"
    await token.refresh(stale)  # a late 401 with the old token: no second rotation
    assert token.refresh_count == 1


async def test_bearer_signer_in_pipeline_recovers_once_from_401() -> None:
    """A 401 makes the signer refresh and the pipeline re-sign and re-send once."""
    from fakex_vendor import Fakex

    clock = Clock()
    refreshes: list[int] = []

    async def refresher(old: TokenPair) -> TokenPair:
        refreshes.append(1)
        return _pair(2, clock.now + 3600)

    token = BearerToken(_pair(1, clock.now + 3600), refresher, clock=clock)

    class BearerFakex(Fakex):
        name = "fakex"

        def create_signer(self) -> BearerSigner:
            return BearerSigner(token, {"X-Client": "tests"})

    def handler(request: PreparedRequest) -> Any:
        if request.headers["Authorization"] == "Bearer access-2":
            return ok_response({"account_id": "a1"})
        return raw(envelope(None, code="50113", msg="token expired"), 401)

    from brokerport.client import Client
    from brokerport.transport import MockTransport
    from fakex_vendor import FAST_RETRY, profile

    transport = MockTransport(handler)
    async with Client(BearerFakex, profile(), transport=transport, retry=FAST_RETRY) as client:
        assert client.hooks.credentials == {
            "Authorization": f"Bearer {REDACTED}",
            "X-Client": "tests",
        }
        assert (await client.call("account.get", account_id="a1")) == {"account_id": "a1"}
        assert refreshes == [1]
        assert [r.headers["Authorization"] for r in transport.requests] == [
            "Bearer access-1",
            "Bearer access-2",
        ]
        # a token the vendor keeps refusing is not retried forever
        transport.handler = lambda r: raw(envelope(None, code="50113", msg="revoked"), 401)
        transport.requests.clear()
        with pytest.raises(AuthenticationError):
            await client.call("account.get", account_id="a1")
        assert len(transport.requests) == 2 and len(refreshes) == 2


async def test_cancelling_the_refreshing_caller_spares_the_others() -> None:
    clock = Clock()
    gate = asyncio.Event()
    calls: list[int] = []

    async def refresher(old: TokenPair) -> TokenPair:
        calls.append(1)
        await gate.wait()
        return _pair(2, clock.now + 3600)

    token = BearerToken(_pair(1, clock.now - 1), refresher, clock=clock)
    first = asyncio.create_task(token.current())
    await asyncio.sleep(0)
    others = [asyncio.create_task(token.current()) for _ in range(5)]
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*others)
    assert {r.reveal() for r in results} == {"access-2"}
    with pytest.raises(asyncio.CancelledError):
        await first
    assert calls == [1] and token.refresh_count == 1


async def test_rotated_pair_is_kept_when_every_caller_gave_up() -> None:
    """With refresh-token rotation the vendor has already spent the old refresh
    token: dropping the new pair because the caller timed out would log us out."""
    clock = Clock()
    gate = asyncio.Event()

    async def refresher(old: TokenPair) -> TokenPair:
        await gate.wait()
        return _pair(2, clock.now + 3600)

    token = BearerToken(_pair(1, clock.now - 1), refresher, clock=clock)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(token.current(), 0.01)
    gate.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert token.tokens.access_token.reveal() == "access-2"
    assert (await token.current()).reveal() == "access-2"
    assert token.refresh_count == 1
