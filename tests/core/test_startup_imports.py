"""Start-up stays lean: what ``import brokerport`` and listing plugins import.

Each check runs in a fresh interpreter and looks at ``sys.modules``; nothing
here is timed (``bench/startup.py`` prints the figures). Port and extension
classes named ``"module:Class"`` are imported when a client opens, by
``brokerport plugins --strict`` and by the conformance kit, never by a plain
listing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from brokerport import Conflict, NotFound, PluginError
from brokerport.adapter import Adapter, ErrorMap
from brokerport.catalog import Catalog
from brokerport.client import Client
from brokerport.ports import OPERATION_NAMES, PORTS
from fakex_vendor import FAST_RETRY, Fakex, FakexKeys, FakexSandbox, FakexSubs, FakexTools

MARK = "--modules--"
#: vendor SDKs and the pieces a listing must never need
HEAVY_PACKAGES = {"aiohttp", "yarl", "multidict", "cryptography", "cattrs", "cattr"}
#: what a plain listing no longer imports (bench/startup.py: 4.9x -> 3.3x a bare
#: interpreter): attrs and the attrs-based core modules (catalog, signing, transport,
#: wire), the TOML reader of the error tables, and what attrs imports. hashlib is not
#: here: stevedore's entry point cache imports it.
NOT_FOR_LISTING = {
    "attr",
    "attrs",
    "brokerport.catalog",
    "brokerport.client",
    "brokerport.pipeline",
    "brokerport.signing",
    "brokerport.transport",
    "brokerport.wire",
    "tomllib",
    "inspect",
    "platform",
    "asyncio",
    "ssl",
}
#: every brokerport module a plain listing imports: the adapters, and no signer, error
#: table, envelope or catalog module of theirs (those load when a client is made)
LISTING_MODULES = [
    "brokerport",
    "brokerport.adapter",
    "brokerport.cli",
    "brokerport.cli_tools",
    "brokerport.errors",
    "brokerport.ports",
    "brokerport.registry",
    "brokerport.types",
    "brokerport_acme",
    "brokerport_acme.adapter",
    "brokerport_acme.broken",
    "brokerport_lwork",
    "brokerport_lwork.adapter",
    "brokerport_lwork.catalog",  # tables only (no brokerport.catalog)
    "brokerport_okx",
    "brokerport_okx.adapter",
    "brokerport_whale",
    "brokerport_whale.adapter",
    "brokerport_wlink",
    "brokerport_wlink.adapter",
]


def _modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules loaded once ``code`` has run, in a fresh interpreter."""
    source = f"{code}\nimport json, sys\nprint({MARK!r} + json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith(MARK))
    return set(json.loads(line[len(MARK) :]))


def _too_heavy(modules: set[str]) -> list[str]:
    """Vendor SDKs, cattrs, the models and any plugin's ports module."""
    return sorted(
        name
        for name in modules
        if name.split(".")[0] in HEAVY_PACKAGES
        or name == "brokerport.models"
        or (name.startswith("brokerport_") and (name.endswith(".ports") or ".ports." in name))
    )


def _plugin_ports(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.startswith("brokerport_") and m.endswith(".ports"))


# --------------------------------------------------------------- the tables


def test_operation_name_table_equals_the_port_classes() -> None:
    assert list(OPERATION_NAMES) == list(PORTS)
    for name, port in PORTS.items():
        assert port.port_name == name
        assert tuple(f"{name}.{op}" for op in OPERATION_NAMES[name]) == port.operations()


# ------------------------------------------------------------- subprocesses


def test_import_brokerport_loads_only_the_errors() -> None:
    modules = _modules_after("import brokerport")
    assert _too_heavy(modules) == []
    assert sorted(m for m in modules if m.startswith("brokerport")) == [
        "brokerport",
        "brokerport.errors",
    ]
    # the lazy public names are what keeps it cheap
    assert not {"pluggy", "attr", "attrs", "stevedore", "asyncio", "tomllib"} & modules


def test_list_plugins_loads_adapters_but_no_ports_models_or_sdks() -> None:
    code = (
        "from brokerport.registry import list_plugins\n"
        "infos = list_plugins()\n"
        "assert infos and all(i.ok for i in infos), [(i.name, i.error) for i in infos]\n"
    )
    modules = _modules_after(code)
    # not vacuous: the adapters themselves were imported
    assert {"brokerport_okx.adapter", "brokerport_lwork.adapter", "brokerport_acme.adapter"} <= (
        modules
    )
    assert _too_heavy(modules) == []


def test_plugins_command_loads_no_ports_models_or_sdks() -> None:
    code = (
        "import contextlib, io\n"
        "from brokerport.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['plugins']) == 0\n"
        "assert 'okx.rebates' in out.getvalue()\n"
    )
    modules = _modules_after(code)
    assert "brokerport_okx.adapter" in modules
    assert _too_heavy(modules) == []


def test_plugins_command_imports_no_attrs_signing_catalog_or_error_tables() -> None:
    code = (
        "import contextlib, io\n"
        "from brokerport.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['plugins']) == 0\n"
        "assert 'whale.ipo' in out.getvalue() and 'LOAD ERROR' not in out.getvalue()\n"
    )
    modules = _modules_after(code)
    assert sorted(NOT_FOR_LISTING & modules) == []
    assert sorted(m for m in modules if m.startswith("brokerport")) == LISTING_MODULES


def test_adapters_build_their_error_maps_on_first_read() -> None:
    code = (
        "import sys\n"
        "from brokerport.registry import list_plugins\n"
        "adapters = {i.name: i.adapter for i in list_plugins()}\n"
        "assert all('_error_map' not in vars(a) for a in adapters.values())\n"
        "ours = [m for m in sys.modules if m.startswith('brokerport')]\n"
        "tables = {m for m in ours if m.endswith(('.errors', '.wire'))}\n"
        "assert tables == {'brokerport.errors'}, tables\n"
        "okx = adapters['okx'].error_map\n"
        "assert adapters['okx'].error_map is okx\n"
        "assert okx.classify('51008', 200).__name__ == 'InsufficientFunds'\n"
        "assert okx.classify('53999', 200).__name__ == 'AuthenticationError'  # a family\n"
        "assert okx.classify(None, 429).__name__ == 'RateLimited'\n"
        "for name, a in adapters.items():\n"
        "    assert a.error_map.codes, name\n"
        "print('ok')\n"
    )
    modules = _modules_after(code)
    assert {"brokerport_okx.errors", "brokerport.wire", "tomllib"} <= modules


def test_error_map_is_built_once_per_class_and_may_be_assigned() -> None:
    built: list[type[Adapter]] = []

    class Lazy(Adapter):
        name = "lazyerrors"

        @classmethod
        def build_error_map(cls) -> ErrorMap:
            built.append(cls)
            return ErrorMap({"E1": Conflict})

    class Sub(Lazy):
        pass

    class Assigned(Lazy):
        error_map = ErrorMap({"E1": NotFound})

    assert built == []  # defining the classes builds nothing
    assert Lazy.error_map.classify("E1", 400) is Conflict
    assert Lazy.error_map is Lazy.error_map and built == [Lazy]
    assert Sub.error_map.classify("E1", 400) is Conflict and built == [Lazy, Sub]
    assert Assigned.error_map.classify("E1", 400) is NotFound and built == [Lazy, Sub]
    assert Adapter.error_map.codes == {}  # the default: HTTP statuses only
    assert Fakex.error_map.classify("59000", 200) is Conflict  # assigned at class creation


def test_plugins_strict_reports_an_error_table_that_does_not_load() -> None:
    from brokerport.registry import _resolve_adapter

    class BadTable(Adapter):
        name = "badtable"

        @classmethod
        def build_catalog(cls) -> Catalog:
            return Fakex.catalog()

        @classmethod
        def build_error_map(cls) -> ErrorMap:
            raise PluginError("cannot read error table badtable/errors.toml: boom")

    assert _resolve_adapter(BadTable) == "cannot read error table badtable/errors.toml: boom"


def test_plugins_strict_resolves_the_named_classes() -> None:
    code = (
        "import contextlib, io\n"
        "from brokerport.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['plugins', '--strict']) == 0\n"
        "assert 'in catalog' in out.getvalue()\n"
    )
    modules = _modules_after(code)
    assert _plugin_ports(modules) == [
        "brokerport_acme.ports",
        "brokerport_lwork.ports",
        "brokerport_okx.ports",
        "brokerport_whale.ports",
        "brokerport_wlink.ports",
    ]


# ------------------------------------------------------- named classes


class Named(Fakex):
    """Fakex with its ports and extension named, not imported."""

    ports = {  # noqa: RUF012
        "subaccounts": "fakex_vendor:FakexSubs",
        "keys": "fakex_vendor:FakexKeys",
        "trading": "fakex_vendor:FakexTrading",
    }
    extensions = {"fakex.tools": "fakex_vendor:FakexTools"}  # noqa: RUF012


async def test_named_classes_resolve_once_when_a_client_opens() -> None:
    class Fresh(Named):
        pass

    assert "_resolved" not in Fresh.__dict__  # defining and listing resolve nothing
    sandbox = FakexSandbox()
    await sandbox.start()
    try:
        async with Client(Fresh, sandbox.profile(), retry=FAST_RETRY) as client:
            resolved = Fresh.__dict__["_resolved"]
            assert isinstance(client.subaccounts, FakexSubs)
            assert isinstance(client.keys, FakexKeys)
            assert isinstance(client.ext("fakex.tools"), FakexTools)
            assert "subaccounts.create" in client.capabilities
        async with Client(Fresh, sandbox.profile(), retry=FAST_RETRY):
            assert Fresh.resolve() is resolved  # cached per class
    finally:
        await sandbox.stop()
    assert Named.resolve() is not resolved  # each adapter class resolves for itself
    assert Named.resolve().ports["subaccounts"] is FakexSubs
    assert Named.resolve().extensions == {"fakex.tools": FakexTools}
    assert Fakex.resolve().ports == Named.resolve().ports  # classes are still accepted


def _adapter(**attrs: object) -> type[Adapter]:
    base = {"name": "named1", "operations": frozenset({"subaccounts.create"})}
    return type("Bad", (Adapter,), {**base, **attrs})


@pytest.mark.parametrize(
    ("ports", "extensions", "message"),
    [
        ({"subaccounts": "no_such_module_xyz:Subs"}, {}, "cannot import 'no_such_module_xyz'"),
        ({"subaccounts": "fakex_vendor:NoSuchClass"}, {}, "has no 'NoSuchClass'"),
        ({"subaccounts": "fakex_vendor:FakexKeys"}, {}, "must subclass SubAccountPort"),
        (
            {"subaccounts": "brokerport.ports:SubAccountPort"},
            {},
            r"declares 'subaccounts\.create' but does not implement it",
        ),
        (
            {"subaccounts": "fakex_vendor:FakexSubs"},
            {"named1.x": "fakex_vendor:FakexSubs"},
            "extension 'named1.x' is not an Extension",
        ),
    ],
)
def test_a_bad_named_class_is_a_plugin_error_at_resolution(
    ports: dict[str, str], extensions: dict[str, str], message: str
) -> None:
    bad = _adapter(ports=ports, extensions=extensions)  # the names alone are fine
    with pytest.raises(PluginError, match=message):
        bad.resolve()


def test_name_checks_stay_at_class_creation() -> None:
    with pytest.raises(PluginError, match="must name a class as 'module:Class'"):
        _adapter(ports={"subaccounts": "fakex_vendor.FakexSubs"})
    with pytest.raises(PluginError, match="unknown port 'rockets'"):
        _adapter(ports={"rockets": "fakex_vendor:FakexSubs"})
    with pytest.raises(PluginError, match="unknown operation"):
        _adapter(operations=frozenset({"subaccounts.fly"}))
    with pytest.raises(PluginError, match="does not implement"):
        _adapter(ports={})  # declares subaccounts.create with no subaccounts port


async def test_a_bad_named_class_fails_client_open(sandbox: FakexSandbox) -> None:
    bad = type("Bad", (Named,), {"ports": {**Named.ports, "keys": "no_such_module_xyz:Keys"}})
    client = Client(bad, sandbox.profile())
    with pytest.raises(PluginError, match="cannot import 'no_such_module_xyz'"):
        await client.open()
    assert "subaccounts" not in vars(client)  # no port was attached


# ------------------------------------------------- plugins --strict reports it


@pytest.fixture
def bad_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed plugin whose adapter names a ports module that does not exist."""
    root = tmp_path / "site"
    info = root / "bpnamed_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: bpnamed-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[brokerport.adapters]\nbpnamed = bpnamed_mod:Named\n", encoding="utf-8"
    )
    (root / "bpnamed_mod.py").write_text(
        textwrap.dedent(
            """
            from fakex_vendor import Fakex

            class Named(Fakex):
                name = "bpnamed"
                ports = {
                    "subaccounts": "bpnamed_missing.ports:Subs",
                    "keys": "fakex_vendor:FakexKeys",
                    "trading": "fakex_vendor:FakexTrading",
                }
            """
        ),
        encoding="utf-8",
    )
    from stevedore import _cache
    from stevedore.extension import ExtensionManager

    monkeypatch.setattr(ExtensionManager, "ENTRY_POINT_CACHE", {})
    monkeypatch.setattr(_cache._c, "_disable_caching", True)
    monkeypatch.setattr(_cache._c, "_internal", {})
    monkeypatch.syspath_prepend(str(root))
    try:
        yield root
    finally:
        sys.modules.pop("bpnamed_mod", None)


def test_plugins_strict_reports_a_class_that_does_not_resolve(
    bad_site: Path, tmp_path: Path
) -> None:
    from brokerport.registry import list_plugins

    plain = {i.name: i for i in list_plugins()}
    assert plain["bpnamed"].ok and plain["bpnamed"].adapter is not None
    strict = {i.name: i for i in list_plugins(resolve=True)}
    assert not strict["bpnamed"].ok and strict["bpnamed"].adapter is None
    assert "cannot import 'bpnamed_missing.ports'" in (strict["bpnamed"].error or "")

    tests_core = str(Path(__file__).resolve().parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(bad_site), tests_core]),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),  # stevedore's entry point cache
    }
    cmd = [sys.executable, "-m", "brokerport", "plugins"]
    plain_run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert plain_run.returncode == 0, plain_run.stderr
    strict_run = subprocess.run(
        [*cmd, "--strict"], capture_output=True, text=True, env=env, timeout=120
    )
    assert strict_run.returncode == 1
    assert "bpnamed" in strict_run.stdout and "cannot import" in strict_run.stdout


async def test_the_conformance_kit_fails_a_class_that_does_not_resolve() -> None:
    from brokerport.testing.conformance import ConformanceSuite

    kit = ConformanceSuite()
    await kit.test_port_and_extension_classes_resolve(brokerport_adapter=Named)
    bad = _adapter(ports={"subaccounts": "fakex_vendor:NoSuchClass"})
    with pytest.raises(pytest.fail.Exception, match="has no 'NoSuchClass'"):
        await kit.test_port_and_extension_classes_resolve(brokerport_adapter=bad)
