"""Token, private key and passphrase never show in repr, str, logs, hooks or errors."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from brokerport import hookimpl
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import AuthenticationError, BrokerportError
from brokerport.profile import Profile
from brokerport_lwork import LworkAdapter
from brokerport_lwork.sandbox import LworkSandbox

ACCOUNT = "2090001252"
PASS = "Sesame-Pass-1"


def key_lines(pem: str) -> list[str]:
    """The base64 body lines of a PEM (any one of them is key material)."""
    return [ln for ln in pem.splitlines() if ln and not ln.startswith("-----") and ":" not in ln]


class Recorder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl
    def brokerport_before_request(self, call: Any) -> None:
        self.seen.append(repr(call))
        self.seen.append(repr(call.credentials))

    @hookimpl
    def brokerport_after_response(self, call: Any, response: Any, result: Any) -> None:
        self.seen.append(repr(call))
        self.seen.append(repr(result))

    @hookimpl
    def brokerport_on_error(self, call: Any, error: BrokerportError) -> None:
        self.seen.append(repr(call))
        self.seen.append(repr(error))
        self.seen.append(str(error))


async def test_secrets_absent_everywhere(
    sandbox: LworkSandbox,
    make_client: Callable[..., Client],
    openssl_keys: dict[str, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    pem = openssl_keys["pkcs8-enc"].read_text()
    sandbox.register_public_key(openssl_keys["pub"].read_bytes())
    token = sandbox.credentials()["token"]
    secrets = [token, PASS, *key_lines(pem)]
    recorder = Recorder()
    caplog.set_level(logging.DEBUG)
    client = make_client({"private_key": pem, "private_key_passphrase": PASS})
    client._extra_hooks.append(recorder)
    texts: list[str] = [repr(client), repr(client.profile), str(client.profile.redacted())]
    async with client:
        texts += [
            repr(client),
            repr(client.adapter),
            repr(client.signer),
            repr(client.adapter),
            str(client.signer.redacted()),
            repr(client.hooks.credentials),
            repr(client.profile),
        ]
        ticket = await client.funding.request_deposit(
            m.DepositRequest(account_id=ACCOUNT, amount=Decimal("100"))
        )
        texts.append(repr(ticket))
        await client.funding.confirm_deposit(
            m.DepositConfirmation(
                deposit_id=ticket.deposit_id,
                payment_reference="o1",
                pay_amount=ticket.pay_amount or Decimal(0),
                pay_currency="CNY",
            )
        )
        await client.accounts.open_live(
            m.OpenAccount(
                user_id="4b07e7af-798a-4f68-9b2c-561a8300eac2",
                group="g",
                leverage=10,
                password=PASS,
                extra={
                    "accountName": "n",
                    "email": "e",
                    "phone": {"countryCode": "1", "phone": "2"},
                },
            )
        )
        errors: list[BaseException] = []
        for bad in (Decimal("1.001"), Decimal("1000000000")):
            try:
                await client.funding.request_withdrawal(
                    m.WithdrawalRequest(
                        account_id=ACCOUNT,
                        amount=bad,
                        currency="USD",
                        payee=m.Payee(name="n", account_number="1", bank_name="b"),
                    )
                )
            except BrokerportError as exc:
                errors.append(exc)
        assert len(errors) == 2
        for err in errors:
            texts += [repr(err), str(err), repr(pickle.loads(pickle.dumps(err)).__dict__)]
            texts.append(repr(getattr(err, "details", {})))
    texts += [*caplog.messages, caplog.text, *recorder.seen]
    joined = "\n".join(texts)
    assert "-----BEGIN" not in joined
    for secret in secrets:
        assert secret not in joined, "a secret leaked"
    assert recorder.seen  # the hooks did run
    assert "***" in repr(client.hooks.credentials)


@pytest.mark.parametrize("passphrase", ["wrong-pass-phrase", None])
def test_key_loading_errors_carry_no_secret(
    openssl_keys: dict[str, Path], passphrase: str | None
) -> None:
    pem = openssl_keys["pkcs8-enc"].read_text()
    creds = {"tenant_id": "T", "token": "tok-abc-123", "private_key": pem}
    if passphrase:
        creds["private_key_passphrase"] = passphrase
    profile = Profile(vendor="lwork", base_url="http://127.0.0.1:9", credentials=creds)
    with pytest.raises(AuthenticationError) as info:
        LworkAdapter(profile)
    text = (
        repr(info.value)
        + str(info.value)
        + repr(info.value.__cause__)
        + repr(info.value.__context__)
    )
    assert "-----BEGIN" not in text and "tok-abc-123" not in text
    if passphrase:
        assert passphrase not in text
    assert info.value.__cause__ is None


def test_garbage_key_is_refused_without_echo() -> None:
    junk = "not-a-pem-but-a-secret-value-12345"
    profile = Profile(
        vendor="lwork",
        base_url="http://127.0.0.1:9",
        credentials={"tenant_id": "T", "token": "t", "private_key": junk},
    )
    with pytest.raises(AuthenticationError) as info:
        LworkAdapter(profile)
    assert junk not in repr(info.value) + str(info.value)


def test_key_holder_cannot_be_pickled(openssl_keys: dict[str, Path]) -> None:
    profile = Profile(
        vendor="lwork",
        base_url="http://127.0.0.1:9",
        credentials={
            "tenant_id": "T",
            "token": "t",
            "private_key": openssl_keys["pkcs1"].read_text(),
        },
    )
    adapter = LworkAdapter(profile)
    with pytest.raises(TypeError):
        pickle.dumps(adapter.rsa_key)
