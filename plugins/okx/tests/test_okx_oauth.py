"""OAuth broker mode: bearer tokens, code / PKCE exchange, single-flight rotation, 53xxx."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from typing import Any

import pytest
from brokerport import models as m
from brokerport.errors import AuthenticationError, InvalidRequest, PermissionDenied
from brokerport_okx.sandbox import OkxSandbox
from brokerport_okx.signing import OkxOAuthSigner

ORDER = {
    "instId": "BTC-USDT",
    "tdMode": "cash",
    "side": "buy",
    "ordType": "limit",
    "sz": "1",
    "px": "10",
}


def token_calls(sandbox: OkxSandbox) -> int:
    return len(sandbox.journal.for_endpoint("oauth.token"))


async def test_bearer_mode_places_orders_with_authorization_header(
    make_client: Any, sandbox: OkxSandbox
) -> None:
    creds = sandbox.oauth_credentials()
    async with make_client(creds, broker_code="OAUTHBRK1") as c:
        assert isinstance(c.signer, OkxOAuthSigner)
        ack = await c.call("trade.place_order", **ORDER)
    entry = sandbox.journal.for_endpoint("trade.place_order")[0]
    assert entry.headers["Authorization"] == "Bearer " + creds["access_token"]
    assert not any(h.lower().startswith("ok-access") for h in entry.headers)
    assert ack[0]["tag"] == "OAUTHBRK1"
    assert sandbox.orders[ack[0]["ordId"]]["_uid"] == sandbox.oauth_uid


async def test_authorization_code_exchange(make_client: Any, sandbox: OkxSandbox) -> None:
    code = sandbox.authorize(redirect_uri=sandbox.oauth_redirect_uri)
    creds = {"client_id": sandbox.oauth_client_id, "client_secret": sandbox.oauth_client_secret}
    async with make_client(creds, auth="oauth") as c:
        oauth = c.ext("okx.oauth")
        pair = await oauth.exchange_code(code, redirect_uri=sandbox.oauth_redirect_uri)
        assert pair.expires_at == pytest.approx(time.time() + 3600, abs=5)
        await c.call("trade.place_order", **ORDER)
        # a code works once
        with pytest.raises(AuthenticationError) as info:
            await oauth.exchange_code(code)
        assert info.value.vendor_code == "53009"
    body = sandbox.journal.for_endpoint("oauth.token")[0]
    assert body.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert b"grant_type=authorization_code" in body.body


async def test_pkce_exchange_without_client_secret(make_client: Any, sandbox: OkxSandbox) -> None:
    verifier = "v" * 43
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    code = sandbox.authorize(code_challenge=challenge, termid="device-7")
    async with make_client(
        {"client_id": sandbox.oauth_client_id}, auth="oauth", termid="device-7"
    ) as c:
        with pytest.raises(AuthenticationError):
            await c.ext("okx.oauth").exchange_code(code, code_verifier="w" * 43)
        code = sandbox.authorize(code_challenge=challenge, termid="device-7")
        await c.ext("okx.oauth").exchange_code(code, code_verifier=verifier)
        await c.call("trade.place_order", **ORDER)
    assert sandbox.journal.for_endpoint("trade.place_order")[0].headers["TERMID"] == "device-7"


async def test_expired_code_is_53012(make_client: Any, sandbox: OkxSandbox) -> None:
    code = sandbox.authorize()
    sandbox.clock.advance(301)
    creds = {"client_id": sandbox.oauth_client_id, "client_secret": sandbox.oauth_client_secret}
    async with make_client(creds, auth="oauth") as c:
        with pytest.raises(AuthenticationError) as info:
            await c.ext("okx.oauth").exchange_code(code)
    assert info.value.vendor_code == "53012"


async def test_concurrent_calls_share_one_refresh_when_token_known_stale(
    make_client: Any, sandbox: OkxSandbox
) -> None:
    creds = sandbox.oauth_credentials()
    async with make_client(creds, access_token_expires_at="1") as c:
        results = await asyncio.gather(
            *(c.call("trade.get_order", instId="BTC-USDT", clOrdId=f"none{i}") for i in range(10)),
            return_exceptions=True,
        )
    assert token_calls(sandbox) == 1
    # every call reached the server with the new token (51603: no such order)
    assert all(getattr(r, "vendor_code", None) == "51603" for r in results), results


async def test_concurrent_53002_share_one_refresh_and_old_pair_dies(
    make_client: Any, sandbox: OkxSandbox
) -> None:
    creds = sandbox.oauth_credentials()
    async with make_client(creds) as c:
        sandbox.clock.advance(3601)  # the access token expires server-side
        acks = await asyncio.gather(
            *(c.call("trade.place_order", **ORDER, clOrdId=f"c{i}") for i in range(8))
        )
        assert len({a[0]["ordId"] for a in acks}) == 8
        assert token_calls(sandbox) == 1
        expired = sandbox.journal.rejections("auth")
        assert len(expired) == 8 and all(e.status == 400 for e in expired)
        new = c.ext("okx.oauth").tokens
        assert new.access_token.reveal() != creds["access_token"]
    # rotation: the old pair no longer works, expired or not
    old = sandbox.tokens[creds["access_token"]]
    assert old.state == "rotated"
    async with make_client(creds) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.call("trade.place_order", **ORDER)
    # the old access token is invalid (53000); its refresh token too (53005)
    assert info.value.vendor_code == "53005"
    assert sandbox.journal.for_endpoint("trade.place_order")[-1].status == 400


async def test_renew_token_rotates(make_client: Any, sandbox: OkxSandbox) -> None:
    creds = sandbox.oauth_credentials()
    async with make_client(creds) as c:
        tok = await c.keys.renew_token(m.RenewToken())
        assert tok.access_token.reveal() != creds["access_token"]
        assert tok.expires_at is not None
        assert "eyJ" not in repr(tok)
    assert sandbox.tokens[creds["access_token"]].state == "rotated"


async def test_53_codes_from_the_sandbox(make_client: Any, sandbox: OkxSandbox) -> None:
    creds = sandbox.oauth_credentials(termid="dev-1", scope=("read_only",))
    async with make_client(creds) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.call("trade.get_order", instId="BTC-USDT", ordId="1")
        assert info.value.vendor_code == "53006"  # TERMID missing
    async with make_client(creds, termid="dev-1") as c:
        with pytest.raises(PermissionDenied) as pinfo:
            await c.call("trade.place_order", **ORDER)
        assert pinfo.value.vendor_code == "53013"  # read-only scope
        with pytest.raises(PermissionDenied) as pinfo:
            await c.call("broker.dma.subaccount_info")
        assert pinfo.value.vendor_code == "53013"  # no sub-account module for OAuth
        sandbox.revoke_tokens()
        with pytest.raises(AuthenticationError) as info:
            await c.call("trade.get_order", instId="BTC-USDT", ordId="1")
        assert info.value.vendor_code == "53003"
    assert token_calls(sandbox) == 0  # none of these is fixed by a refresh


async def test_refresh_token_expires_after_three_days(
    make_client: Any, sandbox: OkxSandbox
) -> None:
    creds = sandbox.oauth_credentials()
    sandbox.clock.advance(3 * 24 * 3600 + 1)
    async with make_client(creds) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.call("trade.get_order", instId="BTC-USDT", ordId="1")
    assert info.value.vendor_code == "53002"
    assert info.value.endpoint == "oauth.token"


async def test_api_key_mode_has_no_oauth(client: Any) -> None:
    from brokerport.errors import NotSupported

    with pytest.raises(NotSupported):
        await client.ext("okx.oauth").refresh()
    with pytest.raises(NotSupported):
        await client.keys.renew_token(m.RenewToken())


async def test_oauth_without_client_id_is_refused() -> None:
    from brokerport.client import Client
    from brokerport.profile import Profile
    from brokerport_okx import OkxAdapter

    profile = Profile(
        vendor="okx", base_url="http://okx.invalid", credentials={"access_token": "tok"}
    )
    with pytest.raises(InvalidRequest):
        async with Client(OkxAdapter, profile):
            pass


async def test_a_form_body_that_is_not_utf8_is_refused(sandbox: OkxSandbox) -> None:
    import aiohttp

    code = sandbox.authorize(redirect_uri=sandbox.oauth_redirect_uri)

    def form(tail: bytes) -> bytes:
        return (
            b"grant_type=authorization_code&code=" + code.encode()
            + b"&client_id=" + sandbox.oauth_client_id.encode()
            + b"&client_secret=" + sandbox.oauth_client_secret.encode()
            + b"&redirect_uri=" + sandbox.oauth_redirect_uri.encode() + tail
        )  # fmt: skip

    async with aiohttp.ClientSession() as session:
        docs = []
        # the same form with, then without, a byte that is not UTF-8
        for tail in (b"&state=caf\xe9", b"&state=cafe"):
            async with session.post(
                f"{sandbox.base_url}/v5/users/oauth/token",
                data=form(tail),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ) as resp:
                docs.append(await resp.json(content_type=None))
    refused, granted = docs
    assert refused.get("code") not in (None, "0") and "access_token" not in refused, refused
    assert "access_token" in granted, granted  # in UTF-8: granted (the code was unspent)
