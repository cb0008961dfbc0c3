"""TLS against a sandbox served over TLS on 127.0.0.1, with certificates made
for the test by ``trustme``: verification by default, a profile's CA bundle or
SSLContext, mutual TLS with an encrypted key, and the refusals (wrong CA,
hostname mismatch) as typed errors that are never retried."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from brokerport import BrokerportError, InvalidRequest, TLSError, UnknownOutcome
from brokerport import models as m
from brokerport.client import Client
from brokerport.profile import Profile
from brokerport.tls import TLSSettings
from cryptography.hazmat.primitives import serialization
from fakex_vendor import CREDENTIALS, FAST_RETRY, Fakex, FakexSandbox
from realnet import ProxyPy, Relay, tls_site

ORDER = {"symbol": "BTC-USD", "side": "buy", "qty": "1"}
KEY_PASSWORD = "client-key-pw-4e5f"  # must never show anywhere


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("tls")
    out = {"ca": d / "ca.pem", "other_ca": d / "other-ca.pem"}
    ca.cert_pem.write_to_path(str(out["ca"]))
    trustme.CA().cert_pem.write_to_path(str(out["other_ca"]))
    client = ca.issue_cert("desk@broker.example")
    out["client_cert"] = d / "client.pem"
    out["client_key"] = d / "client.key"
    for blob in client.cert_chain_pems:
        with out["client_cert"].open("ab") as f:
            f.write(blob.bytes())
    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), None)
    out["client_key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    return out


def server_context(
    ca: trustme.CA, *names: str, require_client_cert: bool = False
) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*(names or ("localhost", "127.0.0.1"))).configure_cert(ctx)
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(ctx)
    return ctx


def tls_client(base_url: str, tls: object = None, **kw: object) -> Client:
    profile = Profile(
        vendor="fakex", name="tls", base_url=base_url, credentials=CREDENTIALS, tls=tls
    )
    kw.setdefault("retry", FAST_RETRY)
    return Client(Fakex, profile, **kw)  # type: ignore[arg-type]


async def test_a_profile_ca_bundle_is_trusted(
    sandbox: FakexSandbox, ca: trustme.CA, files: dict[str, Path]
) -> None:
    async with tls_site(sandbox, server_context(ca)) as url:
        async with tls_client(url, TLSSettings(ca_file=str(files["ca"]))) as client:
            await client.subaccounts.create(m.CreateSubAccount(name="desk1"))
        # an ssl.SSLContext of the host's own works the same
        ctx = ssl.create_default_context(cafile=str(files["ca"]))
        async with tls_client(url, ctx) as client:
            await client.call("ping")
    assert len(sandbox.journal) == 2


@pytest.mark.parametrize("trust", ["system", "other_ca"])
async def test_a_certificate_from_an_untrusted_ca_is_a_tls_error(
    sandbox: FakexSandbox, ca: trustme.CA, files: dict[str, Path], trust: str
) -> None:
    tls = None if trust == "system" else TLSSettings(ca_file=str(files["other_ca"]))
    async with (
        tls_site(sandbox, server_context(ca)) as url,
        Relay(int(url.rsplit(":", 1)[1])) as relay,
        tls_client(relay.url.replace("http://127.0.0.1", "https://localhost"), tls) as client,
    ):
        with pytest.raises(TLSError, match="certificate") as info:
            await client.call("order.place", **ORDER)  # a write: not UnknownOutcome
        assert not isinstance(info.value, UnknownOutcome)
        assert relay.connections == 1  # never retried
    assert len(sandbox.journal) == 0


async def test_a_hostname_mismatch_is_a_tls_error(
    sandbox: FakexSandbox, ca: trustme.CA, files: dict[str, Path]
) -> None:
    async with (
        tls_site(sandbox, server_context(ca, "other.example")) as url,
        tls_client(url, TLSSettings(ca_file=str(files["ca"]))) as client,
    ):
        with pytest.raises(TLSError, match=r"[Hh]ostname"):
            await client.call("ping")
    assert len(sandbox.journal) == 0


async def test_mutual_tls_with_an_encrypted_key(
    sandbox: FakexSandbox,
    ca: trustme.CA,
    files: dict[str, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    mtls = TLSSettings(
        ca_file=str(files["ca"]),
        client_cert=str(files["client_cert"]),
        client_key=str(files["client_key"]),
        client_key_password=KEY_PASSWORD,
    )
    async with tls_site(sandbox, server_context(ca, require_client_cert=True)) as url:
        async with tls_client(url, mtls) as client:
            await client.subaccounts.create(m.CreateSubAccount(name="desk2"))
            texts = [repr(client.profile), str(client.profile.redacted()), repr(mtls)]
        assert len(sandbox.journal) == 1
        # no client certificate: the server refuses the handshake
        async with tls_client(url, TLSSettings(ca_file=str(files["ca"]))) as client:
            with pytest.raises(BrokerportError) as info:
                await client.call("ping")
            texts.append(str(info.value))
        # a wrong passphrase is refused at open, naming the file, not the passphrase
        wrong = TLSSettings(
            client_cert=str(files["client_cert"]),
            client_key=str(files["client_key"]),
            client_key_password="not-the-passphrase",
        )
        with pytest.raises(InvalidRequest, match=r"client\.key") as bad:
            async with tls_client(url, wrong) as client:
                await client.call("ping")
        texts.append(str(bad.value))
    assert len(sandbox.journal) == 1
    blob = "\n".join(texts + [r.getMessage() for r in caplog.records])
    assert KEY_PASSWORD not in blob and "not-the-passphrase" not in blob


async def test_mtls_through_an_http_connect_proxy(
    sandbox: FakexSandbox, ca: trustme.CA, files: dict[str, Path]
) -> None:
    proxy = ProxyPy().start()
    try:
        async with tls_site(sandbox, server_context(ca, require_client_cert=True)) as url:
            profile = Profile(
                vendor="fakex",
                base_url=url,
                credentials=CREDENTIALS,
                proxy=proxy.url,
                tls={
                    "ca_file": str(files["ca"]),
                    "client_cert": str(files["client_cert"]),
                    "client_key": str(files["client_key"]),
                    "client_key_password": KEY_PASSWORD,
                },
            )
            async with Client(Fakex, profile, retry=FAST_RETRY) as client:
                await client.call("order.place", **ORDER)
            assert proxy.wait_tunnels_to(int(url.rsplit(":", 1)[1])) == 1
    finally:
        proxy.stop()
    assert len(sandbox.journal.effects("order.place")) == 1


async def test_skipping_verification_is_loud_and_warned_once(
    sandbox: FakexSandbox, ca: trustme.CA, caplog: pytest.LogCaptureFixture
) -> None:
    insecure = TLSSettings(dangerously_skip_verification=True)
    async with tls_site(sandbox, server_context(ca, "other.example")) as url:
        for _ in range(2):
            async with tls_client(url, insecure) as client:
                await client.call("ping")
    warnings = [r for r in caplog.records if "DISABLED" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "fakex.tls" in warnings[0].getMessage()
    # there is no quiet spelling of it
    with pytest.raises(TypeError):
        TLSSettings(verify=False)  # type: ignore[call-arg]
    with pytest.raises(InvalidRequest, match="unknown"):
        TLSSettings.from_mapping({"verify": False})


def test_tls_settings_from_a_profile_file(tmp_path: Path, files: dict[str, Path]) -> None:
    cfg = tmp_path / "profiles.toml"
    cfg.write_text(
        f"""
[fakex.prod]
base_url = "https://api.fakex.example"
[fakex.prod.tls]
ca_file = "{files["ca"]}"
client_cert = "{files["client_cert"]}"
client_key = "{files["client_key"]}"
client_key_password = {{ env = "FAKEX_KEY_PW" }}
""",
        encoding="utf-8",
    )
    profile = Profile.load("fakex", "prod", path=cfg, env={"FAKEX_KEY_PW": KEY_PASSWORD})
    assert profile.tls is not None and profile.tls.client_key_password is not None
    assert profile.tls.client_key_password.reveal() == KEY_PASSWORD
    assert isinstance(profile.tls.ssl_context(), ssl.SSLContext)  # the key decrypts
    assert KEY_PASSWORD not in repr(profile)


@pytest.fixture(autouse=True)
def _forget_tls_warnings() -> Iterator[None]:
    from brokerport import tls

    tls._warned.clear()
    yield
    tls._warned.clear()
