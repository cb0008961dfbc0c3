"""Proxies, for real: proxy.py (HTTP CONNECT, with and without credentials),
pproxy (SOCKS5 with credentials), and a relay that drops connections.

Every proxied connection is a tunnel opened before the request is written, so
a proxy that cannot be reached or drops the connection is a ``connect``
failure: a write is retried or reported as not sent, never ``UnknownOutcome``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal

import attrs
import pytest
from brokerport import ProxyError, UnknownOutcome, VendorUnavailable
from brokerport import models as m
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.profile import Profile
from brokerport.proxy import ProxySettings, proxy_from_environment
from brokerport.signing import PreparedRequest
from brokerport.transport import AiohttpTransport, TransportFailure, TransportSettings
from fakex_vendor import CREDENTIALS, FAST_RETRY, Fakex, FakexSandbox
from realnet import PProxySocks5, ProxyPy, Relay, free_port

ORDER = {"symbol": "BTC-USD", "side": "buy", "qty": "1"}
PROXY_USER = "desk"
PROXY_PASSWORD = "egress-pw-7d1c0ffee"  # must never show anywhere
SOCKS_PASSWORD = "socks-pw-91ab77"


@pytest.fixture(scope="module")
def proxypy() -> Iterator[ProxyPy]:
    server = ProxyPy().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxypy_auth() -> Iterator[ProxyPy]:
    server = ProxyPy(basic_auth=f"{PROXY_USER}:{PROXY_PASSWORD}").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def socks5() -> Iterator[PProxySocks5]:
    server = PProxySocks5(PROXY_USER, SOCKS_PASSWORD).start()
    yield server
    server.stop()


def proxied(sandbox: FakexSandbox, proxy: object, **kw: object) -> Client:
    profile = Profile(
        vendor="fakex",
        name="prod",
        base_url=sandbox.base_url,
        credentials=CREDENTIALS,
        proxy=proxy,
    )
    kw.setdefault("retry", FAST_RETRY)
    return Client(Fakex, profile, **kw)  # type: ignore[arg-type]


def sandbox_port(sandbox: FakexSandbox) -> int:
    assert sandbox.base_url is not None
    return int(sandbox.base_url.rsplit(":", 1)[1])


# ------------------------------------------------------------- HTTP CONNECT


async def test_calls_go_through_an_http_connect_proxy(
    sandbox: FakexSandbox, proxypy: ProxyPy
) -> None:
    async with Relay(proxypy.port) as relay, proxied(sandbox, relay.url) as client:
        sub = await client.subaccounts.create(m.CreateSubAccount(name="desk1"))
        assert sub.name == "desk1"
        await client.ext("fakex.tools").ping()
        await client.call("order.place", **ORDER)
        assert len(sandbox.journal) == 3
        # one pool for every port: one tunnel carried all three calls
        assert relay.connections == 1
    assert proxypy.wait_tunnels_to(sandbox_port(sandbox)) >= 1  # proxy.py's own log


async def test_a_proxy_requiring_credentials(
    sandbox: FakexSandbox, proxypy_auth: ProxyPy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = proxypy_auth.url
    # without credentials, or with wrong ones: ProxyError (407), never retried, never sent
    for proxy in (url, ProxySettings.parse(url, username=PROXY_USER, password="wrong")):
        async with Relay(proxypy_auth.port) as relay:
            relayed = proxy if isinstance(proxy, str) else attrs.evolve(proxy, port=relay.port)
            if isinstance(relayed, str):
                relayed = relay.url
            async with proxied(sandbox, relayed) as client:
                with pytest.raises(ProxyError) as info:
                    await client.call("order.place", **ORDER)
            assert relay.connections == 1  # not retried
        assert info.value.http_status == 407
        assert not isinstance(info.value, UnknownOutcome)
    assert len(sandbox.journal) == 0
    # credentials in the URL are split off into a Secret at once
    with_creds = f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{proxypy_auth.port}"
    async with proxied(sandbox, with_creds) as client:
        await client.call("order.place", **ORDER)
        texts = [repr(client), repr(client.profile), str(client.profile.redacted())]
        texts += [repr(client.transport.settings), repr(client.profile.proxy)]  # type: ignore[attr-defined]
    assert len(sandbox.journal.effects("order.place")) == 1
    texts += [r.getMessage() for r in caplog.records] + [str(info.value), repr(info.value)]
    blob = "\n".join(texts)
    assert PROXY_PASSWORD not in blob
    assert "***" in repr(ProxySettings.parse(with_creds))


async def test_proxy_credentials_from_fields(sandbox: FakexSandbox, proxypy_auth: ProxyPy) -> None:
    proxy = ProxySettings(
        host="127.0.0.1", port=proxypy_auth.port, username=PROXY_USER, password=PROXY_PASSWORD
    )
    assert PROXY_PASSWORD not in repr(proxy) + str(proxy)
    async with proxied(sandbox, proxy) as client:
        assert (await client.ext("fakex.tools").ping()) is not None


# ------------------------------------------------------ proxies that fail


@pytest.mark.parametrize("how", ["reset", "after_request"])
async def test_a_dropping_proxy_is_a_connect_failure(sandbox: FakexSandbox, how: str) -> None:
    async with Relay(free_port(), drop=-1, how=how) as dropper:
        settings = TransportSettings(proxy=ProxySettings.parse(dropper.url))
        transport = AiohttpTransport(settings)
        assert sandbox.base_url is not None
        request = PreparedRequest("POST", sandbox.base_url, "/api/v1/orders", "", {}, b"{}")
        try:
            with pytest.raises(TransportFailure) as info:
                await transport.send(request)
        finally:
            await transport.aclose()
        assert info.value.kind == "connect" and not info.value.maybe_sent

        # through the pipeline a write is retried (nothing was sent), then reported unsent
        retry = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)
        async with proxied(sandbox, dropper.url, retry=retry) as client:
            assert not client.catalog["order.place"].is_idempotent
            with pytest.raises(VendorUnavailable) as err:
                await client.call("order.place", **ORDER)
        assert not isinstance(err.value, UnknownOutcome)
        assert dropper.connections == 1 + 3  # the bare send, then three attempts
    assert len(sandbox.journal) == 0


async def test_a_write_through_a_proxy_that_drops_once_is_sent_once(
    sandbox: FakexSandbox, proxypy: ProxyPy
) -> None:
    async with Relay(proxypy.port, drop=1, how="after_request") as flaky:
        async with proxied(sandbox, flaky.url) as client:
            ack = await client.trading.place_order(
                m.PlaceOrder(
                    instrument="BTC-USD", side="buy", order_type="market", quantity=Decimal("1")
                )
            )
        assert ack.order_id
        assert flaky.dropped == 1 and flaky.connections == 2
    assert len(sandbox.journal.effects("order.place")) == 1


async def test_an_unreachable_proxy_is_vendor_unavailable(sandbox: FakexSandbox) -> None:
    async with proxied(sandbox, f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(VendorUnavailable, match="tunnel"):
            await client.call("order.place", **ORDER)
    assert len(sandbox.journal) == 0


# ------------------------------------------------------------------ SOCKS5


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
async def test_calls_go_through_a_socks5_proxy(
    sandbox: FakexSandbox, socks5: PProxySocks5, scheme: str
) -> None:
    url = f"{scheme}://{PROXY_USER}:{SOCKS_PASSWORD}@127.0.0.1:{socks5.port}"
    async with Relay(socks5.port) as relay:
        async with proxied(sandbox, url.replace(str(socks5.port), str(relay.port))) as client:
            await client.subaccounts.create(m.CreateSubAccount(name="desk2"))
            await client.call("order.place", **ORDER)
        assert relay.connections == 1
    assert len(sandbox.journal) == 2
    assert SOCKS_PASSWORD not in repr(ProxySettings.parse(url))


async def test_socks5_with_wrong_credentials_sends_nothing(
    sandbox: FakexSandbox, socks5: PProxySocks5
) -> None:
    # pproxy closes the connection on bad credentials (no RFC 1929 failure reply),
    # so this is a dropped tunnel: retried, then VendorUnavailable; never sent
    url = f"socks5://{PROXY_USER}:wrong@127.0.0.1:{socks5.port}"
    async with proxied(sandbox, url) as client:
        with pytest.raises((VendorUnavailable, ProxyError)) as info:
            await client.call("order.place", **ORDER)
    assert not isinstance(info.value, UnknownOutcome)
    assert len(sandbox.journal) == 0


# -------------------------------------------------------------- environment


def test_proxy_from_environment_honours_no_proxy() -> None:
    env = {"HTTPS_PROXY": "http://u:pw-env@proxy.corp:3128", "NO_PROXY": "internal.example"}
    proxy = proxy_from_environment("https://www.okx.com", env)
    assert proxy is not None and proxy.url == "http://proxy.corp:3128"
    assert proxy.username == "u" and proxy.password is not None
    assert proxy.password.reveal() == "pw-env" and "pw-env" not in repr(proxy)
    assert proxy_from_environment("https://api.internal.example", env) is None
    assert proxy_from_environment("http://www.okx.com", env) is None  # no HTTP_PROXY
    assert proxy_from_environment("http://x.example", {"ALL_PROXY": "socks5://s:1080"}) == (
        ProxySettings(scheme="socks5", host="s", port=1080)
    )
    lower_wins = {"HTTP_PROXY": "http://upper:1", "http_proxy": "http://lower:2"}
    assert proxy_from_environment("http://x.example", lower_wins) == ProxySettings.parse(
        "http://lower:2"
    )


async def test_environment_proxies_only_when_the_profile_opts_in(
    sandbox: FakexSandbox, proxypy: ProxyPy, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Relay(proxypy.port) as relay:
        monkeypatch.setenv("HTTP_PROXY", relay.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("http_proxy", raising=False)
        base = dict(vendor="fakex", base_url=sandbox.base_url, credentials=CREDENTIALS)
        async with Client(Fakex, Profile(**base), retry=FAST_RETRY) as client:  # type: ignore[arg-type]
            await client.call("ping")
        assert relay.connections == 0  # not opted in: direct
        opted = Profile(**base, proxy_from_env=True)  # type: ignore[arg-type]
        async with Client(Fakex, opted, retry=FAST_RETRY) as client:
            await client.call("ping")
        assert relay.connections == 1
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with Client(Fakex, opted, retry=FAST_RETRY) as client:
            await client.call("ping")
        assert relay.connections == 1  # NO_PROXY: direct
    assert len(sandbox.journal) == 3


def test_bad_proxy_urls_are_refused_without_echoing_them() -> None:
    for url in ("ftp://u:pw-bad@h:1", "http://u:pw-bad@:1", "http://u:pw-bad@h:1/path"):
        with pytest.raises(Exception) as info:
            ProxySettings.parse(url)
        assert "pw-bad" not in str(info.value)
    with pytest.raises(Exception, match="proxy"):
        Profile(vendor="fakex", proxy="socks4://h:1")
