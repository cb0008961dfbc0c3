"""Connection pool and timeouts per profile, and profiles from where hosts keep
them: file, environment, secret references ({env}, {file}, {keyring}) with a
real keyring backend registered in the test (keyring's documented way)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest
from brokerport import InvalidRequest, Timeout
from brokerport import models as m
from brokerport.client import Client
from brokerport.profile import Profile
from brokerport.transport import TransportSettings
from brokerport.types import Secret
from fakex_vendor import CREDENTIALS, FAST_RETRY, Fakex, FakexSandbox
from realnet import Relay

SECRET = "kr-secret-0b5e8d2a"


def via(relay: Relay, **kw: object) -> Profile:
    return Profile(vendor="fakex", base_url=relay.url, credentials=CREDENTIALS, **kw)  # type: ignore[arg-type]


def sandbox_port(sandbox: FakexSandbox) -> int:
    assert sandbox.base_url is not None
    return int(sandbox.base_url.rsplit(":", 1)[1])


# ------------------------------------------------------------- the pool


def test_documented_defaults() -> None:
    s = TransportSettings()
    assert (s.total_timeout, s.connect_timeout, s.read_timeout) == (30.0, 10.0, 30.0)
    assert (s.limit, s.limit_per_host, s.keepalive_timeout) == (100, 64, 15.0)
    assert s.proxy is None and s.tls is None


async def test_one_pool_for_every_port_of_a_client(sandbox: FakexSandbox) -> None:
    async with Relay(sandbox_port(sandbox)) as relay:
        async with Client(Fakex, via(relay), retry=FAST_RETRY) as client:
            await client.subaccounts.create(m.CreateSubAccount(name="desk1"))
            await client.keys.create(m.CreateApiKey(owner="desk1", label="k1"))
            await client.ext("fakex.tools").ping()
            await client.call("account.list")
        assert relay.connections == 1


async def test_pool_size_per_host_from_the_profile(sandbox: FakexSandbox) -> None:
    async with Relay(sandbox_port(sandbox)) as relay:
        profile = via(relay, transport={"limit_per_host": 2})
        async with Client(Fakex, profile, retry=FAST_RETRY) as client:
            await asyncio.gather(*(client.call("account.list") for _ in range(12)))
        assert relay.connections == 2


async def test_keep_alive_from_the_profile(sandbox: FakexSandbox) -> None:
    async with Relay(sandbox_port(sandbox)) as relay:
        profile = via(relay, transport={"keepalive_timeout": 0.1})
        async with Client(Fakex, profile, retry=FAST_RETRY) as client:
            await client.call("ping")
            await asyncio.sleep(0.4)  # longer than the keep-alive: the connection is closed
            await client.call("ping")
        assert relay.connections == 2


async def test_read_timeout_from_the_profile_file(sandbox: FakexSandbox, tmp_path: Path) -> None:
    cfg = tmp_path / "profiles.toml"
    cfg.write_text(
        f"""
[fakex.slow]
base_url = "{sandbox.base_url}"
[fakex.slow.credentials]
api_key = "{CREDENTIALS["api_key"]}"
secret_key = "{CREDENTIALS["secret_key"]}"
passphrase = "{CREDENTIALS["passphrase"]}"
[fakex.slow.transport]
read_timeout = 0.2
total_timeout = 5
connect_timeout = 2
""",
        encoding="utf-8",
    )
    profile = Profile.load("fakex", "slow", path=cfg, env={})
    assert profile.transport == TransportSettings(
        read_timeout=0.2, total_timeout=5.0, connect_timeout=2.0
    )
    sandbox.faults.add("timeout", "ping", times=-1, delay=1.0)
    async with Client(Fakex, profile, retry=FAST_RETRY) as client:
        assert client.transport.settings.read_timeout == 0.2  # type: ignore[attr-defined]
        with pytest.raises(Timeout):
            await client.call("ping")
    # connect(transport_settings=...) overrides the profile's
    given = TransportSettings(read_timeout=9.0)
    assert profile.transport_settings(given).read_timeout == 9.0


def test_transport_settings_from_the_environment() -> None:
    env = {
        "BROKERPORT_FAKEX_BASE_URL": "https://api.fakex.example",
        "BROKERPORT_FAKEX_TRANSPORT_CONNECT_TIMEOUT": "3.5",
        "BROKERPORT_FAKEX_TRANSPORT_LIMIT_PER_HOST": "8",
        "BROKERPORT_FAKEX_PROXY": "http://desk:pw-from-env@egress.corp:3128",
    }
    profile = Profile.load("fakex", env=env, path="/nonexistent")
    assert profile.transport == TransportSettings(connect_timeout=3.5, limit_per_host=8)
    assert profile.proxy is not None and profile.proxy.url == "http://egress.corp:3128"
    assert profile.proxy.password == Secret("pw-from-env")
    assert "pw-from-env" not in repr(profile) + str(profile.redacted())
    with pytest.raises(InvalidRequest, match="limit"):
        Profile.load("fakex", env={"BROKERPORT_FAKEX_TRANSPORT_LIMIT": "many"}, path="/x")
    with pytest.raises(InvalidRequest, match="unknown"):
        Profile.load("fakex", env={"BROKERPORT_FAKEX_TRANSPORT_SPEED": "1"}, path="/x")


# ---------------------------------------------------------- secret sources


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend (keyring's documented extension point)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(before)


async def test_credentials_from_the_keyring(
    memory_keyring: MemoryKeyring, sandbox: FakexSandbox, tmp_path: Path
) -> None:
    keyring.set_password("brokerport/fakex.prod", "secret_key", CREDENTIALS["secret_key"])
    keyring.set_password("desk-vault", "pp", CREDENTIALS["passphrase"])
    keyring.set_password("brokerport/fakex.prod", "proxy_password", SECRET)
    cfg = tmp_path / "profiles.toml"
    cfg.write_text(
        f"""
[fakex.prod]
base_url = "{sandbox.base_url}"
[fakex.prod.credentials]
api_key = "{CREDENTIALS["api_key"]}"
secret_key = {{ keyring = true }}
passphrase = {{ keyring = "desk-vault", username = "pp" }}
""",
        encoding="utf-8",
    )
    assert CREDENTIALS["secret_key"] not in cfg.read_text()  # the file holds no secret
    profile = Profile.load("fakex", "prod", path=cfg, env={})
    assert profile.credential("secret_key") == Secret(CREDENTIALS["secret_key"])
    assert CREDENTIALS["secret_key"] not in repr(profile)
    async with Client(Fakex, profile, retry=FAST_RETRY) as client:
        await client.subaccounts.create(m.CreateSubAccount(name="desk3"))  # signed with them
    assert not sandbox.journal.rejections()

    # the proxy password too
    cfg.write_text(
        """
[fakex.prod]
base_url = "https://api.fakex.example"
[fakex.prod.proxy]
url = "http://egress.corp:3128"
username = "desk"
password = { keyring = true }
""",
        encoding="utf-8",
    )
    proxy = Profile.load("fakex", "prod", path=cfg, env={}).proxy
    assert proxy is not None and proxy.password == Secret(SECRET)


def test_a_missing_keyring_entry_says_how_to_add_it(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    cfg = tmp_path / "profiles.toml"
    cfg.write_text("[fakex.prod.credentials]\nsecret_key = { keyring = true }\n", encoding="utf-8")
    with pytest.raises(InvalidRequest, match=r"keyring set brokerport/fakex\.prod secret_key"):
        Profile.load("fakex", "prod", path=cfg, env={})


def test_env_and_file_references(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    cfg = tmp_path / "profiles.toml"
    cfg.write_text(
        f"""
[fakex.prod.credentials]
api_key = {{ env = "FAKEX_API_KEY" }}
secret_key = {{ file = "{secret_file}" }}
""",
        encoding="utf-8",
    )
    profile = Profile.load("fakex", "prod", path=cfg, env={"FAKEX_API_KEY": "ak-1"})
    assert profile.credentials == {"api_key": Secret("ak-1"), "secret_key": Secret(SECRET)}
    with pytest.raises(InvalidRequest, match="FAKEX_API_KEY is not set"):
        Profile.load("fakex", "prod", path=cfg, env={})
    cfg.write_text('[fakex.prod.credentials]\nx = { vault = "y" }\n', encoding="utf-8")
    with pytest.raises(InvalidRequest, match="secret reference"):
        Profile.load("fakex", "prod", path=cfg, env={})
