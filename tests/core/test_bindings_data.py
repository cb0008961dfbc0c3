"""Bindings as data: brokerport.binding_data.load_bindings builds port classes
from a package-data TOML; and the catalog's whole-request check kinds."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from brokerport import binding_data
from brokerport import models as m
from brokerport.binding import Binding, Ctx
from brokerport.binding_data import load_bindings
from brokerport.catalog import catalog_from_data
from brokerport.convert import make_converter
from brokerport.errors import InvalidRequest, PluginError
from brokerport.paging import PageNumber
from brokerport.ports import AccountPort, Extension, FundingPort

SOURCES = '''
from brokerport.paging import PageNumber

PAGES = PageNumber(page="p", size=None, items="list", total_pages="pages")
UPPER = {"a": "A", "b": "B"}

def tenant(request, ctx):
    return "T-" + request.name

def shout(item, ctx):
    return str(item.get("n", "")).upper()

def prefixed(prefix):
    return lambda item, ctx: prefix + str(item["n"])

def bump(result, payload, ctx):
    return result + ("bumped",)

def unwrap(payload, ctx):
    return payload["wrapped"]

def whole(payload, ctx):
    return {"whole": payload}

async def hand_written(self, request):
    """Hand-written: says why."""
    return "by hand"
'''

PORTS = """
[tables]
perms = { r = "read", w = "write" }

[maps.ids]
id = "id"
name = "who.name"

[maps.account]
"<<" = "ids"
account_id = "id"
user_id = ["owner", "uid"]
status = { map = "on", table = { true = "active" }, default = "frozen" }
group = "@shout"
currency = { const = "USD" }
server_id = { request = "name" }
platform = { "@prefixed" = ["MT-"] }

[ports.TAccounts]
base = "AccountPort"
doc = "Test accounts."

[ports.TAccounts.get]
endpoint = "t.get"
defaults = { z = { const = "zz" } }
extra = false
at = "data"
into = "Account"
fields = { "<<" = "account", name = "who.name" }

[ports.TAccounts.get.params]
a = "name"
b = "payee.bank"
c = "@tenant"
d = { const = "1" }
e = { option = "opt", required = false, default = "dflt" }
f = { join = "tags", table = "@UPPER" }
g = { epoch_ms = "at" }
h = { text = "flag", lower = true }
i = { extra = "k" }
"_" = { refuse = ["nope"] }

[ports.TAccounts.list]
endpoint = "t.list"
params = { name = "name" }
page = "@PAGES"
into = "brokerport.models:Account"
fields = { account_id = "id" }
refine = [{ keep = { account_id = "name" } }, { counted = "count" }]

[ports.TAccounts.open_live]
method = "@hand_written"

[ports.TFunding]
base = "FundingPort"

[ports.TFunding.balances]
endpoint = "t.balances"
many = true
before = "@unwrap"
refine = ["@bump"]

[ports.TFunding.cash_ledger]
endpoint = "t.ledger"
page = { kind = "page_number", items = "rows", total_pages = "pages" }
result = "@whole"

[ports.TTools]
base = "Extension"
name = "t.tools"

[ports.TTools.lookup]
signature = "who, *, level=2, **more"
doc = "Look someone up."
endpoint = "t.lookup"
params = { who = "who", lvl = { text = "level" } }
"""


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh package ``bdtest_<n>`` holding ``ports.toml`` and ``sources.py``."""
    name = f"bdtest_{abs(hash(tmp_path)) % 10**8}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "sources.py").write_text(textwrap.dedent(SOURCES))
    (root / "ports.toml").write_text(f'sources = "{name}.sources"\n' + PORTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    for mod in [k for k in sys.modules if k.startswith(name)]:
        del sys.modules[mod]
    binding_data._LOADED.pop((name, "ports.toml"), None)


def _ctx(request: Any, **options: str) -> Ctx:
    profile = SimpleNamespace(option=options.get)
    client = SimpleNamespace(profile=profile, vendor="t", converter=make_converter())
    return Ctx(client, request)  # type: ignore[arg-type]


def _request(**kw: Any) -> SimpleNamespace:
    base = dict(name="ann", payee=None, tags=None, at=None, flag=None, extra={}, nope=None)
    return SimpleNamespace(**{**base, **kw})


def test_classes_are_built_once_as_subclasses_of_the_named_bases(package: str) -> None:
    built = load_bindings(package)
    assert load_bindings(package) is built  # read once
    accounts, funding, tools = built["TAccounts"], built["TFunding"], built["TTools"]
    assert issubclass(accounts, AccountPort) and accounts.__doc__ == "Test accounts."
    assert issubclass(funding, FundingPort)
    assert issubclass(tools, Extension) and tools.port_name == "t.tools"
    assert accounts.__module__ == f"{package}.sources"
    assert isinstance(accounts.__dict__["get"], Binding)


def test_every_param_source_kind(package: str) -> None:
    get = load_bindings(package)["TAccounts"].__dict__["get"]
    when = datetime(2024, 1, 2, tzinfo=UTC)
    request = _request(
        payee=SimpleNamespace(bank="B1"), tags=["a", "b", "a"], at=when, flag=True, extra={"k": 9}
    )
    params = get.wire_params(request, _ctx(request))
    assert params == {
        "z": "zz",  # defaults
        "a": "ann",  # attribute
        "b": "B1",  # dotted attribute
        "c": "T-ann",  # "@name"
        "d": "1",  # const
        "e": "dflt",  # option, with a default
        "f": "A,B",  # join through a table
        "g": str(int(when.timestamp() * 1000)),
        "h": "true",  # text, lower-cased
        "i": 9,  # an extra key
    }
    assert get.wire_params(_request(), _ctx(_request(), opt="O"))["e"] == "O"
    assert "b" not in get.wire_params(_request(), _ctx(_request()))  # None-safe path
    with pytest.raises(InvalidRequest, match="does not support 'nope'"):
        get.wire_params(_request(nope=1), _ctx(_request(nope=1)))


def test_every_field_source_kind_and_maps_merge(package: str) -> None:
    get = load_bindings(package)["TAccounts"].__dict__["get"]
    item = {"id": "7", "who": {"name": "Ann"}, "uid": "u1", "on": True, "n": "mt4"}
    account = get.read({"data": item}, _ctx(_request()))
    assert account == m.Account(
        account_id="7",
        user_id="u1",  # the first of owner, uid
        name="Ann",
        status="active",  # a JSON true matches the table's "true"
        group="MT4",  # "@shout"
        currency="USD",
        server_id="ann",  # from the request
        platform="MT-mt4",  # a factory called with its arguments
    )
    assert get.read({"data": {**item, "on": "no"}}, _ctx(_request())).status == "frozen"


def test_pager_refine_steps_before_and_result(package: str) -> None:
    built = load_bindings(package)
    listing = built["TAccounts"].__dict__["list"]
    assert listing.page is not None and listing.page.items == "list"  # "@PAGES"
    page = listing.result(
        {"list": [{"id": "ann"}, {"id": "bob"}], "pages": 2, "count": "5"}, _ctx(_request())
    )
    assert [a.account_id for a in page.items] == ["ann"]  # keep
    assert page.total == 5 and page.next_cursor == "2"  # counted, the pager
    balances = built["TFunding"].__dict__["balances"]
    assert balances.result({"wrapped": [{"x": 1}]}, _ctx(_request())) == ({"x": 1}, "bumped")
    ledger = built["TFunding"].__dict__["cash_ledger"]
    assert ledger.page == PageNumber(items="rows", total_pages="pages")
    assert ledger.read([1], _ctx(_request())) == {"whole": [1]}


async def test_hand_written_method_and_extension_signature(package: str) -> None:
    built = load_bindings(package)
    assert await built["TAccounts"].open_live(None, None) == "by hand"
    lookup = built["TTools"].lookup
    assert lookup.__doc__ == "Look someone up."
    seen: list[tuple[str, dict[str, Any]]] = []

    async def invoke(name: str, params: dict[str, Any], read: Any) -> Any:
        seen.append((name, params))
        return read({"ok": 1})

    client = SimpleNamespace(invoke=invoke, vendor="t", profile=None)
    port = SimpleNamespace(client=client)
    assert await lookup(port, "ann", level=3, region="eu") == {"ok": 1}
    assert seen == [("t.lookup", {"who": "ann", "lvl": "3", "region": "eu"})]  # **more: extra
    with pytest.raises(TypeError):
        await lookup(port)


_OP = "[ports.X]\nbase = 'AccountPort'\n[ports.X.get]\n"
_EP = _OP + "endpoint = 'e'\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_EP + "bogus = 1", "ports.X.get: unknown key"),
        (_EP + "params = {a = '@nope'}", "ports.X.get.params.a: unknown name '@nope'"),
        ("[ports.X]\nbase = 'NoSuchPort'", "ports.X.base: 'NoSuchPort' is not a port class"),
        (_EP + "into = 'Nope'", "ports.X.get.into: 'Nope' is not a model"),
        (_EP + "fields = 'nomap'", "ports.X.get.fields: unknown map 'nomap'"),
        (_EP + "refine = ['zap']", "ports.X.get.refine: unknown step 'zap'"),
        (_EP + "signature = 'a b'", "ports.X.get.signature: not a parameter list"),
        (_OP + "params = {}", "ports.X.get: endpoint"),
        (_EP + "page = {kind = 'pages'}", "ports.X.get.page: kind must be"),
        ("whatever = 1", r"unknown key\(s\) whatever"),
        ("[ports.X", "cannot read bindings"),
    ],
)
def test_a_bad_file_is_a_plugin_error_naming_the_file_and_key(
    package: str, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / package / "bad.toml"
    path.write_text(text)
    with pytest.raises(PluginError, match=message) as info:
        load_bindings(package, "bad.toml")
    assert f"{package}:bad.toml" in str(info.value)
    binding_data._LOADED.pop((package, "bad.toml"), None)


# ------------------------------------------------------- catalog check kinds


def _checked(check: Any) -> Any:
    doc = {
        "generated": "GENERATED by test; do not edit",
        "vendor": "t",
        "endpoints": [
            {"name": "t.x", "method": "POST", "path": "/x", "strict": False, "check": check}
        ],
    }
    return catalog_from_data(doc)["t.x"]


@pytest.mark.parametrize(
    ("check", "params", "problem"),
    [
        (["any_of", "a", "b"], {}, "a or b is required"),
        (["any_of", "a", "b"], {"b": 1}, None),
        (["any_of", "a", "b"], {"a": ""}, "a or b is required"),  # empty is absent
        (["one_of_required", "a", "b"], {}, "a or b is required"),
        (["one_of_required", "a", "b"], {"a": 1, "b": 2}, "give a or b, not both"),
        (["one_of_required", "a", "b"], {"a": 1}, None),
        (["not_both", "a", "b"], {"a": 1, "b": 2}, "give a or b, not both"),
        (["not_both", "a", "b"], {}, None),
        (["requires", "a", "b"], {"a": 1}, "b must be given with a"),
        (["requires", "a", "b"], {"b": 1}, None),
        (["ordered", "a", "b"], {"a": "2", "b": "1"}, "a must not be after b"),
        (["ordered", "a", "b"], {"a": "1", "b": "2"}, None),
        (["any_of", "px", {"when": {"t": ["limit", "ioc"]}, "why": " here"}], {"t": "ioc"}, "px is required here"),  # noqa: E501
        (["any_of", "px", {"when": {"t": "limit"}}], {"t": "market"}, None),
        (["any_of", "px", {"message": "px for {t}"}], {"t": "fok"}, "px for fok"),
    ],
)  # fmt: skip
def test_check_kinds(check: list[Any], params: dict[str, Any], problem: str | None) -> None:
    endpoint = _checked([check])
    if problem is None:
        endpoint.validate(params)
    else:
        with pytest.raises(InvalidRequest) as info:
            endpoint.validate(params)
        assert info.value.message == problem


def test_checks_run_in_order_and_a_bad_one_is_a_plugin_error() -> None:
    endpoint = _checked([["any_of", "a"], ["any_of", "b"]])
    with pytest.raises(InvalidRequest, match=r"^a is required"):
        endpoint.validate({})
    for bad in (
        [["zap", "a"]],
        [["ordered", "a"]],
        [["any_of", 1]],
        [],
        [["any_of", "a", {"x": 1}]],
    ):
        with pytest.raises(PluginError, match=r"t\.x: check"):
            _checked(bad)
