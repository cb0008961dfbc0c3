"""Samples as data: ``load_samples`` reads a plugin's TOML samples file into a Samples class."""

from __future__ import annotations

import itertools
import sys
import textwrap
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from brokerport import PluginError
from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import Conflict, InvalidRequest
from brokerport.registry import load_adapter
from brokerport.testing.samples import DataSamples, Samples, load_samples
from fakex_vendor import FakexSandbox

_packages = itertools.count(1)

Write = Callable[..., str]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Write]:
    """Writes a package holding ``samples.toml`` (and modules); returns its samples spec.

    ``PACKAGE`` in the TOML text stands for the package's name.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    made: list[str] = []

    def make(toml: str, **modules: str) -> str:
        name = f"bpsamples_t{next(_packages)}"
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text("", encoding="utf-8")
        toml = textwrap.dedent(toml).replace("PACKAGE", name)
        (package / "samples.toml").write_text(toml, encoding="utf-8")
        for module, source in modules.items():
            (package / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        made.append(name)
        return f"{name}:samples.toml"

    yield make
    for name in made:
        for module in [k for k in sys.modules if k == name or k.startswith(f"{name}.")]:
            del sys.modules[module]


def _offline(spec: str) -> Samples:
    """The samples with no connection (for what builds requests only)."""
    return load_samples(spec)(None, None)  # type: ignore[arg-type]


# ------------------------------------------------------------- requests


REQUESTS = """
    timestamp_window = 12.5
    funding_account = "{funds}"

    [vars]
    funds = "funds{tag}"
    payee = { name = "Demo", account_number = "6226" }

    [create_subaccount]
    model = "CreateSubAccount"
    name = "kit{n:04d}x{seq:04d}"
    label = "sample {n} {{n}}"

    [deposit]
    model = "DepositRequest"
    account_id = "{account}"
    amount = "{n+10}.25"
    currency = "USD"

    [withdrawal]
    model = "WithdrawalRequest"
    account_id = "{account}"
    amount = "{n}"
    currency = "USD"
    payee = "{payee}"

    [place_order]
    model = "PlaceOrder"
    instrument = "BTC-USDT"
    side = "buy"
    order_type = "limit"
    quantity = "0.01"
    price = "{n+100}"
    extra = { tdMode = "cash", note = "n={n-1}" }

    [list_accounts]
    model = "ListAccounts"
    user_ids = ["{funds}", "u2"]

    [create_api_key]
    model = "CreateApiKey"
    owner = "{owner}"
    label = "k1"
    passphrase = "Kit-pass1!"
    permissions = ["read", "trade"]

    [read_call]
    endpoint = "account.list"
    params = { limit = 5 }

    [write_call]
    endpoint = "order.place"
    params = { symbol = "BTC-USDT", qty = { decimal = "{n+1}.10" }, client_id = "w{n}x{seq}" }
"""


def test_request_tables_build_models_with_templates(write: Write) -> None:
    spec = write(REQUESTS)
    cls = load_samples(spec)
    assert issubclass(cls, DataSamples) and load_samples(spec) is cls  # loaded once
    s = _offline(spec)
    assert s.timestamp_window == 12.5
    funds = s.funding_account()
    assert funds.startswith("funds") and len(funds) == len("funds") + 6  # {tag}: 3 random bytes

    sub = s.create_subaccount(7)
    assert sub.name.startswith("kit0007x") and sub.label == "sample 7 {n}"  # {{ }} escape
    assert s.create_subaccount(7).name != sub.name  # {seq}: fresh on every call

    dep = s.deposit("acct1", 1)
    assert dep == m.DepositRequest(account_id="acct1", amount=Decimal("11.25"), currency="USD")
    wd = s.withdrawal("acct1", 3)
    assert wd.amount == Decimal(3) and isinstance(wd.amount, Decimal)  # a lone {n} keeps int
    assert wd.payee == m.Payee(name="Demo", account_number="6226")  # a nested model from a table

    order = s.place_order(0)
    assert order.price == Decimal("100") and order.quantity == Decimal("0.01")
    assert dict(order.extra) == {"tdMode": "cash", "note": "n=-1"}
    assert s.list_accounts().user_ids == (funds, "u2")
    key = s.create_api_key("own1")
    assert key.owner == "own1" and key.permissions == ("read", "trade")
    assert key.passphrase is not None and key.passphrase.reveal() == "Kit-pass1!"

    # tables the file does not have: the base class's default, or NotImplementedError
    assert s.history_query("a1") == m.FundingHistoryQuery(account_id="a1")
    assert s.order_query() == m.OrderQuery()
    with pytest.raises(NotImplementedError):
        s.position_query()

    assert s.read_call() == ("account.list", {"limit": 5})
    assert s.burst_call(4) == s.read_call()  # defaults to the read
    name, params = s.write_call(2)
    assert name == "order.place" and params["qty"] == Decimal("3.10")
    assert params["client_id"] != s.write_call(2)[1]["client_id"]


def test_seq_is_unique_across_samples_objects_of_one_process(write: Write) -> None:
    spec = write(REQUESTS)
    a, b = _offline(spec), _offline(spec)
    names = {x.create_subaccount(1).name for x in (a, b, a, b)}
    assert len(names) == 4
    assert a.funding_account() != b.funding_account()  # {tag} differs per object


def test_module_class_names_still_work(write: Write) -> None:
    spec = write(
        "", hooks_mod="from brokerport.testing.samples import Samples\nclass S(Samples): ..."
    )
    module = spec.split(":")[0]
    cls = load_samples(f"{module}.hooks_mod:S")
    assert cls.__name__ == "S" and issubclass(cls, Samples)


# ------------------------------------------------------------ steps and cases


STEPS = """
    hooks = "PACKAGE.hooks_mod:Hooks"

    [vars]
    fee_types = ["a", "b"]

    [[prepare]]
    operation = "subaccounts.create"
    request = { model = "CreateSubAccount", name = "prep{tag}" }

    [[prepare]]  # a raw call; a Conflict on a second run is fine
    name = "again"
    endpoint = "sub.create"
    params = { name = "prep{tag}" }
    ignore = ["Conflict"]

    [key_owner]
    operation = "subaccounts.create"
    request = { model = "CreateSubAccount", name = "own{seq}" }
    key = "name"

    [[seed]]
    name = "listed"
    operation = "subaccounts.list"
    request = { model = "ListSubAccounts" }
    key = "name"

    [[seed]]
    name = "subs"
    count = 3
    operation = "subaccounts.create"
    request = { model = "CreateSubAccount", name = "page{n}x{seq}", label = "l{n}" }
    key = "name"

    [[seed]]
    name = "made"
    count = 1
    sandbox = "made_by_sandbox"
    args = ["{subs[0]}"]
    kwargs = { at = "{now_ms-100+n}" }

    [[seed]]
    name = "hooked"
    hook = "double"
    args = ["{subs[1]}"]

    [[paged]]
    operation = "subaccounts.list"
    request = { model = "ListSubAccounts", limit = 2 }
    expect = ["{listed}", "{subs}"]
    key = "name"

    [[paged]]
    operation = "subaccounts.list"
    request = { model = "ListSubAccounts", limit = 2 }
    expect = "{subs}:{fee_types}"
    key = "{name}:{label}"

    [[paged]]
    operation = "subaccounts.list"
    request = { model = "ListSubAccounts", limit = 2 }
    expect = ["{made}", "{hooked}"]
    key = "name"

    [[invalid]]
    operation = "subaccounts.create"
    request = { model = "CreateSubAccount", name = "Bad_Name" }
    why = "upper case and underscore"

    [[invalid]]
    endpoint = "order.place"
    params = { symbol = "BTC-USDT", side = "buy", qty = 1.5 }
    why = "float quantity"

    [[errors]]
    name = "duplicate"
    before = [{ same = true }]
    operation = "subaccounts.create"
    request = { model = "CreateSubAccount", name = "dup{tag}" }
    error = "Conflict"
    code = "59000"

    [[errors]]
    name = "duplicate of a step's result"
    endpoint = "sub.create"
    params = { name = "{first.name}" }
    error = "Conflict"
    code = "59000"
    [[errors.before]]
    name = "first"
    operation = "subaccounts.create"
    request = { model = "CreateSubAccount", name = "d2{tag}" }
"""

HOOKS = """
from brokerport.testing.samples import DataSamples

class Hooks(DataSamples):
    def double(self, name):
        return [name + "!", name + "?"]
"""


def _steps(write: Write) -> str:
    return write(STEPS, hooks_mod=HOOKS)


async def test_steps_prepare_seed_and_cases_on_a_sandbox(
    write: Write, sandbox: FakexSandbox, client: Client
) -> None:
    spec = _steps(write)
    calls: list[tuple[str, int]] = []

    def made_by_sandbox(sub: str, at: int) -> str:
        calls.append((sub, at))
        return sub

    sandbox.made_by_sandbox = made_by_sandbox  # type: ignore[attr-defined]
    cls = load_samples(spec)
    assert cls.__name__ == "Hooks"  # the file's hooks class
    s = cls(client, sandbox)
    await s.prepare()
    assert isinstance(s, DataSamples)
    tag = s.values["tag"]
    assert f"prep{tag}" in sandbox.subs
    assert s.values["again"] is None  # the ignored Conflict
    owner = await s.key_owner()
    assert owner.startswith("own") and owner in sandbox.subs

    cases = await s.paged_cases()
    assert [c.operation for c in cases] == ["subaccounts.list"] * 3
    listing, fees, extra = cases
    subs = sorted(n for n in sandbox.subs if n.startswith("page"))
    assert len(subs) == 3 and listing.expected == {*subs, f"prep{tag}", owner}
    assert listing.request == m.ListSubAccounts(limit=2)
    assert fees.expected == {f"{n}:{t}" for n in subs for t in "ab"}
    assert fees.key(m.SubAccount(name="x", label="y")) == "x:y"
    first = next(n for n in subs if n.startswith("page0"))
    second = next(n for n in subs if n.startswith("page1"))
    assert extra.expected == {first, second + "!", second + "?"}
    now = sandbox.clock.now_ms()
    assert [c[0] for c in calls] == [first] and abs(calls[0][1] - (now - 100)) < 5_000

    invalid = s.invalid_cases()
    assert [(c.operation, c.why) for c in invalid] == [
        ("subaccounts.create", "upper case and underscore"),
        ("raw order.place", "float quantity"),
    ]
    before = len(sandbox.journal)
    for case in invalid:
        with pytest.raises(InvalidRequest):
            await case.invoke(client)
    assert len(sandbox.journal) == before

    errors = s.error_cases()
    assert [(e.name, e.operation, e.expected, e.vendor_code) for e in errors] == [
        ("duplicate", "subaccounts.create", Conflict, "59000"),
        ("duplicate of a step's result", "raw sub.create", Conflict, "59000"),
    ]
    for case in errors:
        with pytest.raises(Conflict):
            await case.invoke(client)


async def test_sandbox_and_hook_steps_are_skipped_without_a_sandbox(
    write: Write, client: Client
) -> None:
    s = load_samples(_steps(write))(client, None)
    await s.prepare()
    cases = await s.paged_cases()
    assert len(cases) == 2  # the case expecting {made} and {hooked} is left out


# -------------------------------------------------------------- bad files


@pytest.mark.parametrize(
    ("toml", "where", "problem"),
    [
        ("colour = 1", "colour", "unknown key"),
        ("[deposit]\nmodel = 'Deposit'", "deposit.model", "not a request model"),
        ("[deposit]\nmodel = 'DepositRequest'\nammount = '1'", "deposit.ammount", "no such field"),
        ("[[invalid]]\noperation = 'a.b'\nwhy = 'x'", "invalid[0].request", "must be a table"),
        ("[[invalid]]\nwhy = 'x'", "invalid[0]", "name an operation"),
        (
            "[[errors]]\nname='n'\ncode='1'\nerror='Nope'\nendpoint='x'",
            "errors[0].error",
            "not a brokerport error",
        ),
        ("[[seed]]\nendpoint = 'x'\nsandbox = 'y'", "seed[0]", "exactly one of"),
        ("[[prepare]]\nendpoint = 'x'\nignore = ['Oops']", "prepare[0].ignore[0]", "'Oops'"),
        ("[read_call]\nparams = {}", "read_call", "endpoint is missing"),
        ("[[paged]]\noperation = 'subaccounts.list'", "paged[0]", "request is missing"),
        ("prepare = 3", "prepare", "array of tables"),
        ("hooks = 'no_such_module_xyz:H'", "hooks", "cannot import"),
        ("hooks = 'brokerport.models:Page'", "hooks", "not a DataSamples subclass"),
        ("[deposit\n", "", "not valid TOML"),
    ],
)
def test_a_bad_file_is_a_plugin_error_naming_file_and_key(
    write: Write, toml: str, where: str, problem: str
) -> None:
    spec = write(toml)
    with pytest.raises(PluginError) as info:
        load_samples(spec)
    message = str(info.value)
    assert message.startswith(f"{spec}: {where}") and problem in message, message


def test_a_bad_template_is_a_plugin_error_naming_file_and_key(write: Write) -> None:
    spec = write("[create_subaccount]\nmodel = 'CreateSubAccount'\nname = '{nobody}x'")
    s = _offline(spec)
    with pytest.raises(PluginError, match=rf"^{spec}: create_subaccount: no 'nobody'"):
        s.create_subaccount(1)
    spec = write("[read_call]\nendpoint = 'x'\nparams = { a = '{n.real.x}' }")
    with pytest.raises(PluginError, match=rf"^{spec}: read_call\.params: "):
        _offline(spec).read_call()


def test_missing_file_or_bad_name(write: Write) -> None:
    spec = write("")
    package = spec.split(":")[0]
    with pytest.raises(PluginError, match=rf"{package}:nope\.toml: cannot read"):
        load_samples(f"{package}:nope.toml")
    with pytest.raises(PluginError, match=r"name 'package:file\.toml'"):
        load_samples("samples.toml")
    with pytest.raises(PluginError, match="not a Samples subclass"):
        load_samples("brokerport.models:Page")


# ----------------------------------------------------------- the plugins


@pytest.mark.parametrize("vendor", ["okx", "lwork", "wlink", "acme", "acme-broken"])
def test_the_plugins_name_samples_files(vendor: str) -> None:
    adapter = load_adapter(vendor)
    assert adapter.samples is not None and adapter.samples.endswith(":samples.toml")
    cls = load_samples(adapter.samples)
    assert issubclass(cls, DataSamples)
    assert cls.data["invalid"] and cls.data["errors"] and cls.data["paged"]
    assert cls.source == adapter.samples
    hooks: dict[str, Any] = {"lwork": "LworkSamples", "okx": "OkxSamples", "wlink": "WlinkSamples"}
    assert cls.__name__ == hooks.get(vendor, "DataSamples")


def test_the_plugin_guide_example_is_a_valid_file(write: Write) -> None:
    guide = Path(__file__).resolve().parents[2] / "docs" / "plugin-guide.md"
    text = guide.read_text(encoding="utf-8").split("## 8.", 1)[1]
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    spec = write(example.replace("brokerport_tiny.samples:TinySamples", "PACKAGE.h:H"), h=HOOKS_H)
    s = _offline(spec)
    assert s.create_subaccount(3).name.startswith("sub003x")
    assert s.deposit("a", 1).amount == Decimal("11.25")


HOOKS_H = "from brokerport.testing.samples import DataSamples\nclass H(DataSamples): ...\n"
