"""Secret key, passphrases and tokens never show in repr / str / logs / exceptions."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from brokerport import models as m
from brokerport.errors import BrokerportError, UnknownOutcome
from brokerport.pipeline import Call
from brokerport_okx.sandbox import OkxSandbox


def _blob(*objs: Any) -> str:
    return "\n".join(f"{o!r}\n{o!s}" for o in objs)


async def test_api_key_mode_secrets_never_leak(
    make_client: Any, sandbox: OkxSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    creds = sandbox.live_credentials()
    seen_calls: list[str] = []

    from brokerport import hookimpl

    class Spy:
        @hookimpl
        def brokerport_before_request(self, call: Call) -> None:
            seen_calls.append(repr(call) + repr(call.credentials) + repr(call.redacted_params()))

        @hookimpl
        def brokerport_on_error(self, call: Call, error: BrokerportError) -> None:
            seen_calls.append(repr(call) + str(error))

    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        async with make_client(creds, broker_code="BRK1") as c:
            c.hooks.register(Spy())
            await c.subaccounts.create(m.CreateSubAccount(name="secretSub1"))
            key = await c.keys.create(
                m.CreateApiKey(
                    owner="secretSub1",
                    label="k1",
                    passphrase="Hidden-pass9",
                    permissions=("read", "trade"),
                )
            )
            texts.append(
                _blob(
                    key,
                    key.raw,
                    key.secret_key,
                    c,
                    c.profile,
                    c.signer,
                    c.hooks.credentials,
                    c.adapter,
                )
            )
            assert key.secret_key is not None
            sub_secret = key.secret_key.reveal()
            listed = await c.keys.list(m.ListApiKeys(owner="secretSub1"))
            texts.append(_blob(listed))
            for bad in ("weakpass", "Hidden-pass9 "):
                try:
                    await c.call(
                        "broker.dma.create_apikey", subAcct="secretSub1", label="k2", passphrase=bad
                    )
                except BrokerportError as exc:
                    texts.append(_blob(exc, exc.details, exc.__reduce__()))
            sandbox.faults.add("lost", "broker.dma.create_apikey")
            with pytest.raises(UnknownOutcome) as info:
                await c.keys.create(
                    m.CreateApiKey(owner="secretSub1", label="k3", passphrase="Lost-pass77")
                )
            texts.append(_blob(info.value, info.value.reconcile_with, info.value.details))
            assert info.value.reconcile_with.get("passphrase") == "***"
    texts += [r.getMessage() + repr(r.args) for r in caplog.records]
    texts += seen_calls
    blob = "\n".join(texts)
    for value in (
        creds["secret_key"],
        creds["passphrase"],
        creds["api_key"],
        sub_secret,
        "Hidden-pass9",
        "Lost-pass77",
        "weakpass",
    ):
        assert value not in blob, "a secret leaked"


async def test_oauth_tokens_never_leak(
    make_client: Any, sandbox: OkxSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    creds = sandbox.oauth_credentials()
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        async with make_client(creds, access_token_expires_at="1") as c:
            await c.call(
                "trade.place_order",
                instId="BTC-USDT",
                tdMode="cash",
                side="buy",
                ordType="market",
                sz="1",
            )
            tokens = c.ext("okx.oauth").tokens
            texts.append(
                _blob(
                    c,
                    c.signer,
                    c.profile,
                    c.hooks.credentials,
                    c.adapter,
                    c.adapter.oauth,
                    tokens,
                    c.signer.token,
                )
            )
            new_values = (tokens.access_token.reveal(), tokens.refresh_token.reveal())
            sandbox.revoke_tokens()
            with pytest.raises(BrokerportError) as info:
                await c.call("trade.get_order", instId="BTC-USDT", ordId="1")
            texts.append(_blob(info.value, info.value.details))
            renewed = None
            try:
                renewed = await c.keys.renew_token(m.RenewToken())
            except BrokerportError as exc:
                texts.append(_blob(exc))
            texts.append(_blob(renewed))
    texts += [r.getMessage() + repr(r.args) for r in caplog.records]
    blob = "\n".join(texts)
    for value in (
        creds["access_token"],
        creds["refresh_token"],
        creds["client_secret"],
        *new_values,
    ):
        assert value not in blob, "a token leaked"
