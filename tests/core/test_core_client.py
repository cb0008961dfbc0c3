"""The client: lifecycle, capabilities, gated ports, extensions, sessions."""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import brokerport
import pytest
from brokerport import NotSupported, PluginError
from brokerport import models as m
from brokerport.adapter import Adapter
from brokerport.client import Client
from brokerport.ports import SubAccountPort
from brokerport.profile import Profile
from brokerport.transport import TransportSettings
from fakex_vendor import (
    FAST_RETRY,
    Fakex,
    FakexSandbox,
    FakexSubs,
    mock_client,
    never_called,
    ok_response,
    profile,
)


async def test_capabilities_content() -> None:
    client, _ = mock_client(never_called)
    caps = client.capabilities  # available before open: read from the class
    assert caps.operations == frozenset(
        {"subaccounts.create", "subaccounts.list", "keys.create", "trading.place_order"}
    )
    assert caps.extensions == frozenset({"fakex.tools"})
    assert caps.endpoints == frozenset(Fakex.catalog())
    assert "subaccounts.create" in caps and caps.supports("fakex.tools")
    assert "subaccounts.delete" not in caps and not caps.supports("accounts.list")
    assert caps.port("subaccounts") == frozenset({"subaccounts.create", "subaccounts.list"})
    assert caps.port("funding") == frozenset()
    assert caps.ports == {
        "keys": ("create",),
        "subaccounts": ("create", "list"),
        "trading": ("place_order",),
    }
    assert Fakex.describe() == {
        "name": "fakex",
        "version": "0.1",
        "ports": {
            "keys": ["create"],
            "subaccounts": ["create", "list"],
            "trading": ["place_order"],
        },
        "extensions": ["fakex.tools"],
    }


async def test_undeclared_operations_raise_not_supported_without_io() -> None:
    client, transport = mock_client(never_called)
    async with client:
        # implemented by the plugin's port class, but not declared: gated
        with pytest.raises(NotSupported) as info:
            await client.subaccounts.delete(m.SubAccountRef(name="abcd1"))
        assert info.value.vendor == "fakex"
        assert info.value.endpoint == "subaccounts.delete"
        # not implemented at all
        with pytest.raises(NotSupported):
            await client.accounts.list(m.ListAccounts(user_ids=["u1"]))
        with pytest.raises(NotSupported):
            await client.funding.transfer(
                m.TransferRequest(
                    from_account="a", to_account="b", amount=__import__("decimal").Decimal("1")
                )
            )
        with pytest.raises(NotSupported):
            client.port("nonsense")
        assert client.port("subaccounts") is client.subaccounts
    assert transport.requests == []


async def test_declared_operations_work() -> None:
    client, transport = mock_client(
        lambda r: ok_response({"name": "abcd1", "label": None, "created_at": 1_700_000_000_000})
    )
    async with client:
        sub = await client.subaccounts.create(m.CreateSubAccount(name="abcd1"))
    assert sub.name == "abcd1" and sub.created_at is not None
    assert sub.created_at.tzinfo is not None and sub.created_at.year == 2023
    assert len(transport.requests) == 1


async def test_ext() -> None:
    client, transport = mock_client(lambda r: ok_response({"pong": True}))
    async with client:
        tools = client.ext("fakex.tools")
        assert client.ext("fakex.tools") is tools
        assert await tools.ping() == {"pong": True}
        with pytest.raises(NotSupported, match=r"no extension 'okx\.rebates'") as info:
            client.ext("okx.rebates")
        assert info.value.vendor == "fakex"
    assert len(transport.requests) == 1


async def test_client_not_open_is_plugin_error() -> None:
    client, transport = mock_client(never_called)
    with pytest.raises(PluginError, match="not open"):
        await client.call("ping")
    with pytest.raises(PluginError, match="not open"):
        await client.invoke("ping", {})
    assert "closed" in repr(client)
    async with client:
        assert "open" in repr(client)
    assert transport.requests == []


async def test_closed_client_is_plugin_error() -> None:
    client, transport = mock_client(lambda r: ok_response({"pong": True}))
    async with client:
        await client.call("ping")
    with pytest.raises(PluginError, match="not open"):
        await client.call("ping")
    with pytest.raises(PluginError, match="not open"):
        await client.subaccounts.create(m.CreateSubAccount(name="abcd1"))
    assert len(transport.requests) == 1


async def test_ports_before_open_are_plugin_error() -> None:
    client, transport = mock_client(never_called)
    with pytest.raises(PluginError, match="not open"):
        await client.subaccounts.create(m.CreateSubAccount(name="abcd1"))
    assert transport.requests == []


async def test_await_and_reopen_are_idempotent() -> None:
    client, _ = mock_client(lambda r: ok_response({"pong": True}))
    opened = await client
    assert opened is client
    assert await client.open() is client
    await client.call("ping")
    await client.aclose()
    await client.aclose()  # twice is harmless


async def test_no_unclosed_session(sandbox: FakexSandbox) -> None:
    settings = TransportSettings(engine="aiohttp")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = Client(Fakex, sandbox.profile(), retry=FAST_RETRY, transport_settings=settings)
        async with client:
            await client.call("account.get", account_id="a1")
            session = client.transport._session  # type: ignore[attr-defined]
            assert session is not None and not session.closed
        assert session.closed
        assert session.connector is None or session.connector.closed
        del client, session
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


async def test_no_unclosed_connection(sandbox: FakexSandbox) -> None:
    from brokerport.http1 import Http1Transport

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = Client(Fakex, sandbox.profile(), retry=FAST_RETRY)
        async with client:
            await asyncio.gather(*(client.call("account.get", account_id="a1") for _ in range(5)))
            transport = client.transport
            assert isinstance(transport, Http1Transport)
            conns = list(transport._all)
            assert conns and all(not c.closed for c in conns)  # kept alive for reuse
        assert all(c.closed for c in conns) and not transport._all
        del client, transport, conns
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


async def test_transport_opened_lazily_and_closed_without_use(sandbox: FakexSandbox) -> None:
    settings = TransportSettings(engine="aiohttp")
    async with Client(Fakex, sandbox.profile(), transport_settings=settings) as client:
        assert client.transport._session is None  # type: ignore[attr-defined]
    assert client.transport._session is None  # type: ignore[attr-defined]
    async with Client(Fakex, sandbox.profile()) as client:
        assert not client.transport._all  # type: ignore[attr-defined]


async def test_embedded_sandbox_profile() -> None:
    created: list[FakexSandbox] = []

    def factory() -> FakexSandbox:
        sb = FakexSandbox()
        created.append(sb)
        return sb

    prof = Profile(vendor="fakex")
    assert prof.is_sandbox
    async with Client(Fakex, prof, sandbox_factory=factory, retry=FAST_RETRY) as client:
        assert client.sandbox is created[0]
        assert client.profile.base_url == created[0].base_url
        assert not client.profile.is_sandbox
        assert (await client.call("account.get", account_id="a1"))["account_id"] == "a1"
    assert created[0].base_url is None  # stopped
    assert client.sandbox is None


async def test_sandbox_profile_without_factory_is_plugin_error() -> None:
    with pytest.raises(PluginError, match=r"no base_url"):
        async with Client(Fakex, Profile(vendor="fakex")):
            pass


async def test_failed_open_stops_the_sandbox() -> None:
    created: list[FakexSandbox] = []

    def factory() -> FakexSandbox:
        created.append(FakexSandbox())
        return created[-1]

    class Broken:
        @brokerport.hookimpl
        def brokerport_before_reqest(self, call: Any) -> None:  # misspelled on purpose
            pass

    client = Client(Fakex, Profile(vendor="fakex"), sandbox_factory=factory, hooks=[Broken()])
    with pytest.raises(Exception, match="unknown hook"):
        await client.open()
    assert created and created[0].base_url is None and client.sandbox is None


async def test_missing_credential_is_invalid_request() -> None:
    prof = Profile(vendor="fakex", base_url="http://x.invalid", credentials={"api_key": "k"})
    with pytest.raises(brokerport.InvalidRequest, match="lacks credential 'secret_key'"):
        async with Client(Fakex, prof):
            pass


def test_adapter_definition_checks() -> None:
    with pytest.raises(PluginError, match=r"declares 'subaccounts\.delete' but does not implement"):

        class A(Adapter):
            name = "a1"
            operations = frozenset({"subaccounts.delete"})
            ports = {"subaccounts": SubAccountPort}  # noqa: RUF012

    with pytest.raises(PluginError, match="unknown operation"):

        class B(Adapter):
            name = "b1"
            operations = frozenset({"subaccounts.fly"})

    with pytest.raises(PluginError, match="unknown port"):

        class C(Adapter):
            name = "c1"
            ports = {"rockets": FakexSubs}  # noqa: RUF012

    with pytest.raises(PluginError, match="must subclass"):

        class D(Adapter):
            name = "d1"
            ports = {"keys": FakexSubs}  # noqa: RUF012

    with pytest.raises(PluginError, match="not an Extension"):

        class E(Adapter):
            name = "e1"
            extensions = {"e1.x": FakexSubs}  # type: ignore[dict-item]  # noqa: RUF012


async def test_profile_options_reach_the_adapter() -> None:
    client = Client(Fakex, profile(region="eu"), transport=mock_client(never_called)[1])
    async with client:
        assert client.adapter.profile.option("region") == "eu"
        assert client.adapter.profile.option("nope", "d") == "d"


async def test_reopened_client_gets_a_fresh_sandbox() -> None:
    created: list[FakexSandbox] = []

    def factory() -> FakexSandbox:
        created.append(FakexSandbox())
        return created[-1]

    client = Client(Fakex, Profile(vendor="fakex"), sandbox_factory=factory, retry=FAST_RETRY)
    async with client:
        assert await client.call("ping") == {"pong": True}
    async with client:  # the first sandbox is gone: a new one, not its old URL
        assert await client.call("ping") == {"pong": True}
    assert len(created) == 2 and all(sb.base_url is None for sb in created)


async def test_failing_signer_close_does_not_leak_the_session(sandbox: FakexSandbox) -> None:
    from fakex_vendor import FakexSigner

    class BadCloseSigner(FakexSigner):
        async def aclose(self) -> None:
            raise RuntimeError("signer cleanup failed")

    class BadClose(Fakex):
        name = "fakex"

        def create_signer(self) -> FakexSigner:
            p = self.profile
            return BadCloseSigner(
                p.credential("api_key"), p.credential("secret_key"), p.credential("passphrase")
            )

    settings = TransportSettings(engine="aiohttp")
    client = Client(BadClose, sandbox.profile(), retry=FAST_RETRY, transport_settings=settings)
    await client.open()
    await client.call("account.get", account_id="a1")
    session = client.transport._session  # type: ignore[attr-defined]
    assert session is not None
    with pytest.raises(RuntimeError, match="signer cleanup failed"):
        await client.aclose()
    assert session.closed
    # the default transport's connections too
    client = Client(BadClose, sandbox.profile(), retry=FAST_RETRY)
    await client.open()
    await client.call("account.get", account_id="a1")
    conns = list(client.transport._all)  # type: ignore[attr-defined]
    assert conns
    with pytest.raises(RuntimeError, match="signer cleanup failed"):
        await client.aclose()
    assert all(c.closed for c in conns)


async def test_aclose_flushes_the_limiters(sandbox: FakexSandbox) -> None:
    from brokerport.ratelimit import LimiterRegistry

    class Recording(LimiterRegistry):
        flushed = 0

        async def flush(self) -> None:
            self.flushed += 1

    limiters = Recording()
    async with Client(Fakex, sandbox.profile(), limiters=limiters) as client:
        await client.call("account.get", account_id="a1")
        assert limiters.flushed == 0
    assert limiters.flushed == 1  # a shared window's releases are written before close
