"""Plugin discovery over entry points, with fake distributions on a temporary sys.path."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brokerport
import pytest
from brokerport import PluginError
from brokerport.profile import Profile
from brokerport.registry import PluginInfo, list_plugins, load_adapter, load_sandbox
from fakex_vendor import FakexSandbox

FAKE_MODULES = (
    "bpgood_mod",
    "bpbroken_mod",
    "bpdup_a_mod",
    "bpdup_b_mod",
    "bpwrong_mod",
    "bpnotadapter_mod",
)


def _dist(root: Path, dist: str, entry_points: str) -> None:
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points), encoding="utf-8")


def _module(root: Path, name: str, source: str) -> None:
    (root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "site"
    root.mkdir()
    _dist(
        root,
        "bpgood-plugin",
        """
        [brokerport.adapters]
        bpgood = bpgood_mod:GoodAdapter
        [brokerport.sandboxes]
        bpgood = bpgood_mod:create_sandbox
    """,
    )
    _module(
        root,
        "bpgood_mod",
        """
        from fakex_vendor import Fakex, FakexSandbox

        class GoodAdapter(Fakex):
            name = "bpgood"
            version = "0.1"
            sandbox = "bpgood"

        class GoodSandbox(FakexSandbox):
            vendor = "bpgood"

        def create_sandbox(**options):
            return GoodSandbox(**options)
    """,
    )
    _dist(
        root,
        "bpbroken-plugin",
        """
        [brokerport.adapters]
        bpbroken = bpbroken_mod:Adapter
    """,
    )
    _module(
        root,
        "bpbroken_mod",
        """
        raise ImportError("No module named 'vendorsdk' (bpbroken needs it)")
    """,
    )
    for letter in ("a", "b"):
        _dist(
            root,
            f"bpdup-{letter}",
            f"""
            [brokerport.adapters]
            bpdup = bpdup_{letter}_mod:Dup
        """,
        )
        _module(
            root,
            f"bpdup_{letter}_mod",
            """
            from fakex_vendor import Fakex

            class Dup(Fakex):
                name = "bpdup"
        """,
        )
    _dist(
        root,
        "bpwrong-plugin",
        """
        [brokerport.adapters]
        bpwrong = bpwrong_mod:Wrong
        bpnotadapter = bpnotadapter_mod:NotAnAdapter
    """,
    )
    _module(
        root,
        "bpwrong_mod",
        """
        from fakex_vendor import Fakex

        class Wrong(Fakex):
            name = "somethingelse"
    """,
    )
    _module(
        root,
        "bpnotadapter_mod",
        """
        class NotAnAdapter:
            name = "bpnotadapter"
    """,
    )

    # stevedore keeps a process-wide entry point cache per group (and a disk cache):
    # start from a clean one so it sees the fake distributions
    from stevedore import _cache
    from stevedore.extension import ExtensionManager

    monkeypatch.setattr(ExtensionManager, "ENTRY_POINT_CACHE", {})
    monkeypatch.setattr(_cache._c, "_disable_caching", True)
    monkeypatch.setattr(_cache._c, "_internal", {})
    monkeypatch.syspath_prepend(str(root))
    try:
        yield root
    finally:
        for name in FAKE_MODULES:
            sys.modules.pop(name, None)


def test_list_plugins_reports_broken_conflicting_and_good(fake_site: Path) -> None:
    infos = list_plugins()
    by_name: dict[str, list[PluginInfo]] = {}
    for info in infos:
        by_name.setdefault(info.name, []).append(info)

    (good,) = by_name["bpgood"]
    assert good.ok and good.error is None
    assert good.adapter is not None and good.adapter.name == "bpgood"
    assert good.distribution == "bpgood-plugin" and good.version == "0.1"
    assert good.has_sandbox

    (broken,) = by_name["bpbroken"]
    assert not broken.ok and broken.adapter is None
    assert "ImportError" in (broken.error or "") and "vendorsdk" in (broken.error or "")
    assert broken.distribution == "bpbroken-plugin" and not broken.has_sandbox

    dups = by_name["bpdup"]
    assert len(dups) == 2
    assert {d.distribution for d in dups} == {"bpdup-a", "bpdup-b"}
    for d in dups:
        assert not d.ok and d.adapter is None and "conflict" in (d.error or "")

    (wrong,) = by_name["bpwrong"]
    assert not wrong.ok and "somethingelse" in (wrong.error or "")
    (notadapter,) = by_name["bpnotadapter"]
    assert not notadapter.ok and "not a brokerport Adapter" in (notadapter.error or "")


def test_list_plugins_without_loading(fake_site: Path) -> None:
    infos = {i.name: i for i in list_plugins(load=False)}
    assert {"bpgood", "bpbroken", "bpwrong"} <= set(infos)
    assert infos["bpgood"].adapter is None and infos["bpgood"].ok
    assert "bpbroken_mod" not in sys.modules and "bpgood_mod" not in sys.modules


def test_load_adapter(fake_site: Path) -> None:
    good = load_adapter("bpgood")
    assert good.name == "bpgood"
    # loading one adapter imports only its module
    assert "bpbroken_mod" not in sys.modules and "bpdup_a_mod" not in sys.modules
    assert callable(load_sandbox("bpgood"))

    with pytest.raises(PluginError, match="failed to load") as info:
        load_adapter("bpbroken")
    assert "vendorsdk" in str(info.value) and info.value.vendor == "bpbroken"
    with pytest.raises(PluginError, match="conflict"):
        load_adapter("bpdup")
    with pytest.raises(PluginError, match="no adapter named 'bpmissing'"):
        load_adapter("bpmissing")
    with pytest.raises(PluginError, match="somethingelse"):
        load_adapter("bpwrong")
    with pytest.raises(PluginError, match="not a brokerport Adapter"):
        load_adapter("bpnotadapter")
    with pytest.raises(PluginError, match="no sandbox named"):
        load_sandbox("bpbroken")


def _sandbox_of(client: Any) -> Any:
    return client.sandbox


async def test_good_plugin_connects_despite_broken_ones(fake_site: Path) -> None:
    async with brokerport.connect("bpgood", Profile(vendor="bpgood")) as client:
        assert client.vendor == "bpgood"
        assert client.sandbox is not None and client.profile.base_url == client.sandbox.base_url
        result = await client.call("account.get", account_id="a1")
        assert result["account_id"] == "a1"
        assert "subaccounts.create" in client.capabilities
    assert _sandbox_of(client) is None  # stopped on close
    # connect to the embedded sandbox with options for it
    async with brokerport.connect(
        "bpgood", Profile(vendor="bpgood"), sandbox_options={"check_timestamps": False}
    ) as client2:
        assert isinstance(client2.sandbox, FakexSandbox)
        assert client2.sandbox.check_timestamps is False


async def test_connect_failures_are_plugin_errors(fake_site: Path) -> None:
    with pytest.raises(PluginError):
        brokerport.connect("bpbroken", Profile(vendor="bpbroken"))
    with pytest.raises(PluginError):
        brokerport.connect("bpmissing", Profile(vendor="bpmissing"))
    with pytest.raises(PluginError):
        brokerport.connect("bpdup", Profile(vendor="bpdup"))


def test_import_brokerport_imports_no_plugin_and_no_aiohttp() -> None:
    code = (
        "import brokerport, sys, json; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.startswith('brokerport_') or m.split('.')[0] in "
        "('aiohttp', 'stevedore', 'cryptography', 'yarl', 'multidict'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == []
    # the lazy names still resolve without dragging a plugin in
    code2 = (
        "import brokerport, sys, json; brokerport.Client; brokerport.register_hooks; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('brokerport_'))))"
    )
    out2 = subprocess.run(
        [sys.executable, "-c", code2], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out2.stdout) == []


def test_public_api_resolves() -> None:
    for name in brokerport.__all__:
        assert getattr(brokerport, name) is not None, name
    with pytest.raises(AttributeError):
        brokerport.no_such_thing  # noqa: B018
    from brokerport.client import Client as RealClient

    assert brokerport.Client is RealClient


async def test_connect_loads_a_named_profile_from_the_environment(
    fake_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "profiles.toml"
    cfg.write_text('[bpgood.desk]\n[bpgood.desk.options]\nregion = "eu"\n', encoding="utf-8")
    monkeypatch.setenv("BROKERPORT_CONFIG", str(cfg))
    monkeypatch.setenv("BROKERPORT_BPGOOD_OPTION_TIER", "gold")
    async with brokerport.connect("bpgood", "desk") as client:
        assert client.profile.name == "desk"
        assert client.profile.option("region") == "eu" and client.profile.option("tier") == "gold"
        assert client.sandbox is not None  # no base_url: the embedded sandbox
        assert (await client.call("ping")) == {"pong": True}
