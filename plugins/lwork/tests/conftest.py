from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.profile import Profile
from brokerport_lwork import LworkAdapter
from brokerport_lwork.sandbox import SEED_USER, LworkSandbox

FAST = RetryPolicy(base_delay=0.0, max_delay=0.0)

OPTIONS = {
    "user_id": SEED_USER,
    "server_id": "428",
    "platform": "MT4",
    "pay_currency": "CNY",
}


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[LworkSandbox]:
    sb = LworkSandbox(key_bits=1024)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
def make_client(sandbox: LworkSandbox) -> Callable[..., Client]:
    def make(
        credentials: dict[str, str] | None = None, *, retry: RetryPolicy = FAST, **options: str
    ) -> Client:
        assert sandbox.base_url is not None
        creds = dict(sandbox.credentials())
        creds.update(credentials or {})
        profile = Profile(
            vendor="lwork",
            name="test",
            base_url=sandbox.base_url,
            credentials=creds,
            options={**OPTIONS, **options},
        )
        kw: dict[str, Any] = {"retry": retry}
        return Client(LworkAdapter, profile, **kw)

    return make


@pytest_asyncio.fixture
async def client(make_client: Callable[..., Client]) -> AsyncIterator[Client]:
    async with make_client() as c:
        yield c


def openssl(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=input, check=True, capture_output=True).stdout


@pytest.fixture(scope="session")
def openssl_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """RSA keys made by the openssl CLI: PKCS#8, PKCS#1, encrypted PKCS#1 and PKCS#8."""
    d = tmp_path_factory.mktemp("keys")
    pkcs8 = d / "pkcs8.pem"
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(pkcs8))
    pkcs1 = d / "pkcs1.pem"
    openssl("rsa", "-in", str(pkcs8), "-traditional", "-out", str(pkcs1))
    enc1 = d / "pkcs1-enc.pem"
    openssl(
        "rsa",
        "-in",
        str(pkcs8),
        "-traditional",
        "-aes256",
        "-passout",
        "pass:Sesame-Pass-1",
        "-out",
        str(enc1),
    )
    enc8 = d / "pkcs8-enc.pem"
    openssl(
        "pkcs8",
        "-topk8",
        "-in",
        str(pkcs8),
        "-v2",
        "aes256",
        "-passout",
        "pass:Sesame-Pass-1",
        "-out",
        str(enc8),
    )
    pub = d / "pub.pem"
    openssl("rsa", "-in", str(pkcs8), "-pubout", "-out", str(pub))
    return {"pkcs8": pkcs8, "pkcs1": pkcs1, "pkcs1-enc": enc1, "pkcs8-enc": enc8, "pub": pub}
