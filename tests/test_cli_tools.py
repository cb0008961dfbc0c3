"""`brokerport call`, `brokerport catalog show`, examples in --help, progress."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from brokerport import cli_tools
from brokerport.cli import build_parser, main
from brokerport.errors import InvalidRequest


def test_call_runs_an_operation_on_the_embedded_sandbox(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["call", "acme", "subaccount.create", "name=clitest01", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True and doc["result"]["name"] == "clitest01"
    # human form: indented JSON of the result
    assert main(["call", "acme", "subaccount.list"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), (list, dict))


def test_call_prints_the_typed_error_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "okx", "broker.dma.create_subaccount", "subAcct=x", "--json"]) == 1
    err = json.loads(capsys.readouterr().out)["error"]
    assert err["type"] == "InvalidRequest" and err["field"] == "subAcct"
    assert main(["call", "okx", "broker.dma.no_such"]) == 1
    assert "InvalidRequest: okx has no endpoint named 'broker.dma.no_such'" in (
        capsys.readouterr().err
    )


def test_values_are_typed_from_the_catalog() -> None:
    assert cli_tools.parse_value("12", "integer") == 12
    assert cli_tools.parse_value("1.50", "number") == Decimal("1.50")
    assert cli_tools.parse_value("false", "boolean") is False
    assert cli_tools.parse_value("a,b", "array") == ["a", "b"]
    assert cli_tools.parse_value('["a"]', "array") == ["a"]
    assert cli_tools.parse_value('{"k": 1}', "object") == {"k": 1}
    assert cli_tools.parse_value("007", "string") == "007"
    with pytest.raises(InvalidRequest):
        cli_tools.parse_value("many", "integer")


def test_catalog_show_lists_and_details(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "show", "okx"]) == 0
    listing = capsys.readouterr().out
    assert "broker.dma.create_subaccount" in listing and "[40/s; write]" in listing
    # a first word that is not build/check/show is a vendor
    assert main(["catalog", "okx", "broker.dma.create_subaccount"]) == 0
    detail = capsys.readouterr().out
    assert "subAcct  (body, string, required)" in detail
    assert 'rules: pattern("(?!\\\\d+$)[A-Za-z0-9]{6,20}"' in detail
    assert "rate limit: 40/s" in detail and "not idempotent" in detail
    assert main(["catalog", "acme", "funding.deposit", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "funding.deposit"


def test_every_command_help_has_an_example() -> None:
    parser = build_parser()
    seen = []
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():
            seen.append(name)
            assert "example:\n  brokerport " in sub.format_help(), name
            for inner in sub._subparsers._group_actions if sub._subparsers else ():
                for sub_name, subsub in inner.choices.items():
                    assert "example:\n  brokerport " in subsub.format_help(), sub_name
    assert {"plugins", "demo", "sandbox", "conformance", "catalog", "call"} <= set(seen)


def test_demo_and_conformance_over_many_plugins_show_progress(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import brokerport.demo as demo
    import brokerport.testing.report as report

    async def fake_demo_one(name: str, *args: object) -> bool:
        return True

    monkeypatch.setattr(demo, "demo_one", fake_demo_one)
    assert main(["demo", "acme", "okx"]) == 0
    err = capsys.readouterr().err
    assert "[1/2] demo acme ..." in err and "[2/2] demo okx ..." in err

    monkeypatch.setattr(report, "run_conformance", lambda name, **kw: 0)
    assert main(["conformance", "acme", "okx", "lwork"]) == 0
    err = capsys.readouterr().err
    assert "[3/3] conformance lwork ..." in err and "[3/3] lwork: ok" in err
