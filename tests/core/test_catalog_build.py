"""The catalog builder: overlay (+ OpenAPI spec) -> catalog.json, and `brokerport catalog`."""

from __future__ import annotations

import collections
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from brokerport.catalog import catalog_from_data
from brokerport.catalog_build import build, check, derive_name, render, write
from brokerport.cli import main
from brokerport.errors import PluginError
from brokerport.openapi import Quirks, SpecOperation, load_spec, resolve_ref

ROOT = Path(__file__).resolve().parents[2]
#: the vendor documents (outside the repository): BROKERPORT_VENDOR_DOCS or ../shared/vendor-docs
VENDOR_DOCS = Path(os.environ.get("BROKERPORT_VENDOR_DOCS", ROOT.parent / "shared" / "vendor-docs"))
WHALE = VENDOR_DOCS / "whale-openapi.json"
WLINK = VENDOR_DOCS / "wlink-openapi.json"
needs_whale = pytest.mark.skipif(not WHALE.exists(), reason=f"no {WHALE}")
needs_wlink = pytest.mark.skipif(not WLINK.exists(), reason=f"no {WLINK}")

PLUGINS = {
    "okx": ROOT / "plugins/okx",
    "lwork": ROOT / "plugins/lwork",
    "acme": ROOT / "examples/acme",
}

WHALE_OVERLAY = """\
vendor = "whale"

[spec]
file = "{spec}"
naming = "path"
skip_segments = ["whaleapi"]
base_version = "v1"
signer_headers = ["x-timestamp", "content-type"]

[[endpoint]]
operation = "GET /v1/whaleapi/trade/order"
name = "trade.order_detail"

[[endpoint]]
operation = "POST   /v1/whaleapi/trade/order"
name = "trade.order_submit"
rate_limit = {{ count = 30, per = 1 }}
params = [{{ name = "symbol", rules = [["max_len", 32]] }}]
{extra}"""

WHALE_NAMES = """
[[endpoint]]
operation = "POST /v1/whaleapi/account/accesskeys"
name = "account.accesskeys_create"

[[endpoint]]
operation = "GET /v1/whaleapi/account/accesskeys/{access_key_id}"
name = "account.accesskeys_detail"
"""

WLINK_OVERLAY = """\
vendor = "wlink"

[spec]
file = "{spec}"
naming = "path"
base_version = "v1"
default_service = "client"
tag_services = {{ "IB接口(19)" = "ib" }}
tags = {{ "公共接口(28)" = "public", "Client接口(65)" = "client", "IB接口(19)" = "ib" }}

[services]
client = ""
ib = "ib_base_url"

[defaults]
auth = "bearer"

[[endpoint]]
operation_id = "authAuthAccountLogin"
auth = "public"
"""


def _overlay(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog" / "overlay.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _whale(tmp_path: Path, extra: str = WHALE_NAMES) -> dict[str, Any]:
    return build(_overlay(tmp_path, WHALE_OVERLAY.format(spec=WHALE.as_posix(), extra=extra)))


def _by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ep["name"]: ep for ep in doc["endpoints"]}


# ----------------------------------------------------------------- WhaleAPI


@needs_whale
def test_whale_spec_gives_118_uniquely_named_versioned_endpoints(tmp_path: Path) -> None:
    doc = _whale(tmp_path)
    eps = doc["endpoints"]
    assert len(eps) == 118
    assert len({ep["name"] for ep in eps}) == 118
    assert collections.Counter(ep["version"] for ep in eps) == {"v1": 114, "v2": 3, "v3": 1}
    assert all(ep["path"].startswith("/{version}/") for ep in eps)
    by = _by_name(doc)
    # a path in two versions: two endpoints, the non-base one suffixed
    assert by["account.list"]["version"] == "v1"
    assert by["account.list_v2"]["path"] == "/{version}/whaleapi/account/list"
    assert by["account.list_v2"]["version"] == "v2"
    assert by["trade.execution_all_v3"]["version"] == "v3"
    # the overlay's keys override the spec's; its params merge by name
    submit = by["trade.order_submit"]
    assert submit["rate_limit"] == {"count": 30, "per": 1}
    symbol = next(p for p in submit["params"] if p["name"] == "symbol")
    assert symbol == {"name": "symbol", "required": True, "rules": [["max_len", 32]]} | (
        {"doc": symbol["doc"]} if "doc" in symbol else {}
    )


@needs_whale
def test_whale_delete_with_body_and_path_params(tmp_path: Path) -> None:
    by = _by_name(_whale(tmp_path))
    card = by["portfolio.withdraw_card_delete"]
    assert card["method"] == "DELETE"
    assert [(p["name"], p.get("in", "body"), p.get("required")) for p in card["params"]] == [
        ("id", "body", True),
        ("account_no", "body", True),
    ]
    token = by["account.accesskeys_token_delete"]
    assert [(p["name"], p.get("in", "body")) for p in token["params"]] == [
        ("access_key_id", "path"),
        ("token", "body"),
    ]
    # query DELETE stays query
    assert {p.get("in") for p in by["trade.order_delete"]["params"]} == {"query"}
    # multipart without files is a form; signer headers are dropped
    assert by["message.devices_delete"]["body"] == "form"
    assert "x-timestamp" not in {p["name"] for p in by["account.trade_auth_pwd"]["params"]}


@needs_whale
def test_whale_percent_encoded_ref_is_resolved_and_quirks_recorded(tmp_path: Path) -> None:
    spec = load_spec(WHALE)
    quirks = Quirks()
    order = resolve_ref(spec, "#/components/schemas/Order%20inquiry%20response", quirks)
    assert order is spec["components"]["schemas"]["Order inquiry response"]
    assert quirks.as_list() == [
        "$ref percent-encoded, decoded before lookup: "
        "#/components/schemas/Order%20inquiry%20response"
    ]
    doc = _whale(tmp_path)
    joined = "\n".join(doc["quirks"])
    for text in [
        "$ref percent-encoded, decoded before lookup: "
        "#/components/schemas/Order%20inquiry%20response",
        "no operationIds",
        "security: []",
        "header parameter x-timestamp dropped",
        "request body on GET ignored",
        "request body schema is not an object",
        "multipart/form-data",
        "one path in several versions",
    ]:
        assert text in joined, text
    assert doc["quirks"] == sorted(doc["quirks"])
    # body fields behind a $ref (Body) resolve; an opaque body makes the endpoint lax
    by = _by_name(doc)
    assert [p["name"] for p in by["account.trade_auth_pwd"]["params"]] == [
        "account_no",
        "encrypt_password",
    ]
    assert by["asset.create_account_risk_limit_config"]["strict"] is False


@needs_whale
def test_whale_name_collisions_fail_loudly_and_list_every_one(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="name collision") as info:
        _whale(tmp_path, extra="")
    assert "'account.accesskeys': GET" in str(info.value)
    assert "POST /{version}/whaleapi/account/accesskeys" in str(info.value)


@needs_whale
def test_whale_catalog_loads_and_builds_deterministically(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path, WHALE_OVERLAY.format(spec=WHALE.as_posix(), extra=WHALE_NAMES))
    out = write(overlay, tmp_path / "catalog.json")
    text = out.read_text(encoding="utf-8")
    assert text == render(build(overlay))
    assert text.startswith(
        '{"generated": "GENERATED by `brokerport catalog build whale` '
        'from catalog/overlay.toml; do not edit",\n "vendor": "whale",\n'
    )
    catalog = catalog_from_data(json.loads(text))
    assert len(catalog) == 118
    ep = catalog["account.list_v2"]
    assert ep.render_path({}) == "/v2/whaleapi/account/list"
    assert ep.with_version("v1").route == "/v1/whaleapi/account/list"
    assert catalog["portfolio.withdraw_card_delete"].body_params == ("id", "account_no")


# -------------------------------------------------------------------- wlink


@needs_wlink
def test_wlink_spec_gives_112_endpoints_on_two_services(tmp_path: Path) -> None:
    doc = build(_overlay(tmp_path, WLINK_OVERLAY.format(spec=WLINK.as_posix())))
    eps = doc["endpoints"]
    assert len(eps) == 112 and len({ep["name"] for ep in eps}) == 112
    assert doc["services"] == {"client": "", "ib": "ib_base_url"}
    tags = collections.Counter(tag for ep in eps for tag in ep["tags"])
    assert tags == {"public": 28, "client": 65, "ib": 19}  # the vendor README's split
    assert collections.Counter(ep["service"] for ep in eps) == {"client": 93, "ib": 19}
    assert all(ep.get("auth") == "bearer" for ep in eps if ep["name"] != "auth.account_login")
    assert _by_name(doc)["auth.account_login"]["auth"] == "public"  # matched by operation_id
    assert any("no components" in q for q in doc["quirks"])
    assert any("2 servers" in q for q in doc["quirks"])
    catalog = catalog_from_data(doc)
    assert catalog["auth.account_login"].auth == "public"
    assert catalog["ib.user_get"].service == "ib"
    arrays = [
        (ep.name, p.name, p.location)
        for ep in catalog.values()
        for p in ep.params
        if p.type == "array"
    ]
    assert ("client.account_balance_list", "type", "query") in arrays  # sent as repeated keys
    assert len(arrays) == 3


@needs_wlink
def test_unknown_operation_in_overlay_fails(tmp_path: Path) -> None:
    text = WLINK_OVERLAY.format(spec=WLINK.as_posix()) + '\n[[endpoint]]\noperation_id = "nope"\n'
    with pytest.raises(PluginError, match="no spec operation 'nope'"):
        build(_overlay(tmp_path, text))


# ---------------------------------------------------------------- naming


def _op(method: str, path: str, operation_id: str | None = None) -> SpecOperation:
    return SpecOperation(method, path, operation_id, (), "", (), None, False)


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("POST", "/v1/account/application/submit", "account.application_submit"),
        ("GET", "/v1/whaleapi/account/list", "account.list"),
        ("GET", "/v2/whaleapi/account/list", "account.list_v2"),
        ("PUT", "/v1/whaleapi/portfolio/withdraw/card/{id}", "portfolio.withdraw_card_update"),
        ("DELETE", "/v1/whaleapi/trade/order", "trade.order_delete"),
        ("GET", "/v1/client/message/unread-count", "client.message_unread_count"),
        ("GET", "/v1/whaleapi/account_requests", "account_requests.index"),
        ("GET", "/v1/report/rebateDetail/list", "report.rebate_detail_list"),
    ],
)
def test_path_naming_rule(method: str, path: str, name: str) -> None:
    assert derive_name(
        _op(method, path), "path", skip_segments=["whaleapi"], base_version="v1"
    ) == (name)


def test_operation_id_naming_rule() -> None:
    op = _op("POST", "/v1/auth/account/login", "authAccountLogin")
    assert derive_name(op, "operation_id") == "auth.account_login"
    with pytest.raises(PluginError, match="has none"):
        derive_name(_op("GET", "/x"), "operation_id")
    with pytest.raises(PluginError, match="unknown naming rule"):
        derive_name(op, "guess")


# ------------------------------------------------ committed catalogs, CLI


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_committed_catalogs_are_what_their_overlays_give(name: str) -> None:
    base = PLUGINS[name]
    package = next(p for p in base.iterdir() if p.name == f"brokerport_{name}")
    assert check(base / "catalog" / "overlay.toml", package / "catalog.json") is None


def test_catalog_check_cli_passes_on_committed_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "check"]) == 0
    out = capsys.readouterr().out
    for name in PLUGINS:
        assert f"{name}: " in out and "is up to date" in out
    assert main(["catalog", "check", "okx"]) == 0


def test_catalog_check_cli_detects_a_hand_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = tmp_path / "catalog" / "overlay.toml"
    overlay.parent.mkdir()
    shutil.copy(PLUGINS["okx"] / "catalog" / "overlay.toml", overlay)
    committed = tmp_path / "catalog.json"
    shutil.copy(PLUGINS["okx"] / "brokerport_okx" / "catalog.json", committed)
    args = ["catalog", "check", "--overlay", str(overlay), "--out", str(committed)]
    assert main(args) == 0
    capsys.readouterr()
    text = committed.read_text(encoding="utf-8")
    committed.write_text(text.replace('"count": 40', '"count": 400', 1), encoding="utf-8")
    assert main(args) == 1
    out = capsys.readouterr().out
    assert '-    "count": 400,' in out and '+    "count": 40,' in out
    assert "(committed)" in out and "(regenerated)" in out


def test_catalog_build_cli_writes_any_overlay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = _overlay(
        tmp_path,
        'vendor = "mini"\n\n[[endpoint]]\nname = "mini.ping"\nmethod = "get"\npath = "/ping"\n'
        'auth = "public"\nidempotent = true\n',
    )
    out = tmp_path / "out.json"
    assert main(["catalog", "build", "--overlay", str(overlay), "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["endpoints"] == [
        {"name": "mini.ping", "method": "GET", "path": "/ping", "auth": "public"}
    ]  # defaults (GET is idempotent) are left out
    assert main(["catalog", "build", "--overlay", str(overlay)]) == 2
    assert "give NAME" in capsys.readouterr().err


def test_overlay_sugar_expands(tmp_path: Path) -> None:
    overlay = _overlay(
        tmp_path,
        """\
vendor = "mini"

[defaults]
auth = "bearer"

[rules]
CODE = ["pattern", '[A-Z]{3}', "three capitals"]

[rate_limits]
WRITES = { count = 5, per = 1.0, group = "write" }

[param_sets]
paging = [{ name = "page", in = "query", rules = [["int_range", 1, 9]] }]
filters = [{ name = "code", in = "query", rules = ["CODE"] }, "paging"]

[[endpoint]]
name = "mini.list"
method = "GET"
path = "/things"
params = ["filters"]

[[endpoint]]
name = "mini.set"
method = "POST"
path = "/things/{id}"
auth = "signed"
rate_limit = "WRITES"
tags = ["b", "a", "b"]
params = [{ name = "id", in = "path" }, { name = "flag", rules = [["one_of", [1, true]]] }]
""",
    )
    eps = _by_name(build(overlay))
    assert eps["mini.list"] == {
        "name": "mini.list",
        "method": "GET",
        "path": "/things",
        "auth": "bearer",
        "params": [
            {"name": "code", "in": "query", "rules": [["pattern", "[A-Z]{3}", "three capitals"]]},
            {"name": "page", "in": "query", "rules": [["int_range", 1, 9]]},
        ],
    }
    assert "auth" not in eps["mini.set"]  # "signed" is the default
    assert eps["mini.set"]["rate_limit"] == {"count": 5, "group": "write", "per": 1.0}
    assert eps["mini.set"]["tags"] == ["a", "b"]
    assert eps["mini.set"]["params"][1]["rules"] == [["one_of", ["1", "True"]]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('vendor = "m"\ncolour = 1\n', "unknown key"),
        ('vendor = "m"\n[[endpoint]]\nname = "Bad"\nmethod = "GET"\npath = "/x"\n', "lower_snake"),
        (
            'vendor = "m"\n[[endpoint]]\nname = "m.a"\nmethod = "GET"\npath = "/x/{id}"\n',
            "path placeholders",
        ),
        (
            'vendor = "m"\n[[endpoint]]\nname = "m.a"\nmethod = "GET"\npath = "/x"\n'
            'params = ["nope"]\n',
            "no param set",
        ),
        (
            'vendor = "m"\n[[endpoint]]\nname = "m.a"\nmethod = "GET"\npath = "/x"\n'
            'rate_limit = "nope"\n',
            "no rate limit",
        ),
        ('vendor = "m"\n[spec]\nfile = "nope.json"\n', "cannot read OpenAPI spec"),
    ],
)
def test_bad_overlays_fail_loudly(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PluginError, match=message):
        build(_overlay(tmp_path, text))
