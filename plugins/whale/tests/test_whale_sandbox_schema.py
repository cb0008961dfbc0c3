"""Every operation of the sandbox, called by a client written to the gateway's public
signing scheme (not brokerport's), answers what the vendor's spec documents.

The answers are validated with jsonschema against the response schemas of
whale-openapi.json itself (every ``$ref`` inlined), with four spec errata
patched, each listed in ERRATA and in the README.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import jsonschema
import pytest
import pytest_asyncio
from brokerport.client import Client
from brokerport.openapi import deref
from brokerport.profile import Profile
from brokerport_whale import WhaleAdapter
from brokerport_whale.sandbox import SEED_ACCOUNT, SEED_MEMBER, WhaleSandbox
from brokerport_whale.sandbox.spec import extract, render
from whale_wire import faithful_headers

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT.parent / "shared" / "vendor-docs" / "whale-openapi.json"
needs_spec = pytest.mark.skipif(not SPEC.exists(), reason=f"no {SPEC}")

#: endpoint -> (property, what the sandbox sends instead, why); the property is
#: patched wherever it appears in the answer's schema ("" is the whole schema)
ERRATA: dict[str, tuple[str, Any, str]] = {
    "portfolio.deposit_notify": ("items", "array", "a list documented as one object"),
    "account.list_v2": ("list", "array", "a list documented as one object"),
    "trade.order_detail": ("remark", {"type": "string"}, "an object here, text everywhere else"),
    **{
        name: ("code", {"type": "integer"}, "the code enum lists only error codes, not 0")
        for name in ("account.trade_set_pwd", "account.trade_reset_pwd", "account.trade_auth_pwd")
    },
    **{
        name: ("", {"type": "object"}, "documented as a bare string; the SDKs read an envelope")
        for name in (
            "account.change_account_state",
            "account.close",
            "account.update_application",
            "asset.create_account_risk_limit_config",
            "asset.update_account_risk_limit_config",
        )
    },
}


def _patch(node: Any, prop: str, replacement: Any) -> None:
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and prop in props:
            old = props[prop]
            props[prop] = {"type": "array", "items": old} if replacement == "array" else replacement
        for value in node.values():
            _patch(value, prop, replacement)
    elif isinstance(node, list):
        for item in node:
            _patch(item, prop, replacement)


_TYPES = {"string": str, "object": dict, "array": list, "boolean": bool}


def _satisfiable(node: dict[str, Any]) -> bool:
    """False for an enum none of whose values has the schema's type (a boolean whose
    enum is ["false", "true"], an object whose enum is ["1", "-1"]): nothing validates."""
    kind = _TYPES.get(node.get("type", ""))
    return kind is None or any(isinstance(v, kind) for v in node.get("enum", ()))


def _inline(spec: Any, node: Any, depth: int = 0) -> Any:
    node = deref(spec, node)
    if depth > 40:
        return node
    if isinstance(node, dict):
        if "enum" in node and not _satisfiable(node):
            node = {k: v for k, v in node.items() if k != "enum"}  # the generic erratum
        return {k: _inline(spec, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(spec, v, depth + 1) for v in node]
    return node


def _schema(spec: Any, name: str, status: str = "200") -> Any:
    ep = WhaleAdapter.catalog()[name]
    op = spec["paths"][ep.route][ep.method.lower()]
    content = op["responses"][status]["content"]
    schema = _inline(spec, next(iter(content.values()))["schema"])
    if name in ERRATA and status == "200":
        prop, replacement, _ = ERRATA[name]
        if not prop:
            return replacement
        _patch(schema, prop, replacement)
    return schema


def _value(kind: str) -> Any:
    return {"integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}.get(kind, "x")


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[WhaleSandbox]:
    sb = WhaleSandbox()
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


class Faithful:
    """A raw HTTP client signing as the vendor documents; no brokerport code on the way."""

    def __init__(self, sb: WhaleSandbox, session: aiohttp.ClientSession) -> None:
        self.sb, self.session = sb, session
        self.creds = sb.credentials()

    async def send(self, name: str, params: dict[str, Any]) -> tuple[int, Any]:
        ep = WhaleAdapter.catalog()[name]
        path = ep.route
        params = dict(params)
        for p in ep.params:
            if p.location == "path":
                path = path.replace("{" + p.name + "}", quote(str(params.pop(p.name)), safe=""))
        query = "&".join(
            f"{p.name}={quote(str(params.pop(p.name)), safe='')}"
            for p in ep.params
            if p.location == "query" and p.name in params
        )
        headers = {p.name: str(params.pop(p.name)) for p in ep.params
                   if p.location == "header" and p.name in params}  # fmt: skip
        body = json.dumps(params).encode() if ep.method != "GET" and params else None
        if ep.body == "form" and params:
            body = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items()).encode()
        signed = faithful_headers(ep.method, path, query, body, self.creds["app_key"],
                                  self.creds["app_secret"], self.creds["access_token"],
                                  int(time.time()))  # fmt: skip
        if ep.body == "form":
            signed["Content-Type"] = "application/x-www-form-urlencoded"
        url = f"{self.sb.base_url}{path}" + (f"?{query}" if query else "")
        async with self.session.request(
            ep.method, aiohttp.client.URL(url, encoded=True), data=body,
            headers={**signed, **headers},
        ) as resp:  # fmt: skip
            raw = await resp.read()
            try:
                return resp.status, json.loads(raw)
            except ValueError:
                return resp.status, {"not json": raw.decode(errors="replace"), "op": name}


@needs_spec
def test_responses_json_is_what_the_spec_gives() -> None:
    committed = (Path(__file__).parents[1] / "brokerport_whale/sandbox/responses.json").read_text()
    assert committed == render(extract(SPEC, WhaleAdapter.catalog())), (
        "regenerate: brokerport_whale.sandbox.spec.write(spec, catalog, path)"
    )


class ViaClient:
    """The same calls through brokerport: ``client.call(name, **params)``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def send(self, name: str, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, {"data": await self.client.call(name, **params)}


@needs_spec
@pytest.mark.parametrize("via", ["faithful", "client.call"])
async def test_every_operation_answers_what_the_spec_documents(
    sandbox: WhaleSandbox, via: str
) -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    catalog = WhaleAdapter.catalog()
    acct, member = SEED_ACCOUNT, SEED_MEMBER
    profile = Profile(vendor="whale", name="walk", base_url=sandbox.base_url,
                      credentials=sandbox.credentials(), options={})  # fmt: skip
    async with aiohttp.ClientSession() as session, Client(WhaleAdapter, profile) as client:
        c: Any = Faithful(sandbox, session) if via == "faithful" else ViaClient(client)

        async def ok(op: str, /, **params: Any) -> Any:
            status, body = await c.send(op, params)
            assert status == 200, (op, body)
            return body

        # state first, so that the reads below read something real
        order = (
            await ok(
                "trade.order",
                symbol="700.HK",
                side="Buy",
                order_type="LO",
                submitted_quantity="200",
                submitted_price="300",
                time_in_force="Day",
                account_no=acct,
                remark="walk-1",
            )
        )["data"]
        sandbox.fill(order["order_id"], __import__("decimal").Decimal("50"),
                     __import__("decimal").Decimal("301"))  # fmt: skip
        app = (await ok("account.submit_application_v2", member_id=str(member), client_type=0,
                        open_info={"base": {"name": "A"}}))["data"]["application_id"]  # fmt: skip
        await ok("portfolio.withdraw_card", bank_id=1, region="hongkong", bank_en="HSBC",
                 name="Chan", name_en="Chan", account="123-456", swift_code="HSBCHKHH",
                 account_type="saving", country="HK", need_certification=False, fps_id="F1",
                 account_no=acct)  # fmt: skip
        card = max(sandbox.cards)
        dep = (await ok("portfolio.deposit_apply", currency="HKD", amount="1000", vouchers=["k"],
                        card_id=card, deposit_type=1, deposit_config_id=1,
                        account_no=acct))["data"]["id"]  # fmt: skip
        wd = (await ok("portfolio.withdraw", currency="HKD", amount="10", card_id=str(card),
                       is_pad_funded="0", account_no=acct))["data"]["id"]  # fmt: skip
        freeze = (await ok("asset.frozen_cash", account_no=acct, currency="HKD",
                           frozen_amount="5", biz_code="B"))["data"]["serial_num"]  # fmt: skip
        ipo = (await ok("ipo.submit", symbol="9999.HK", sub_qty="500", method=2, batch_id="1",
                        account_no=acct))["data"]["id"]  # fmt: skip
        key = (await ok("account.accesskeys_create", account_no=acct))["data"]
        key_id, token = key["access_key"]["access_key_id"], key["token"]["token"]
        reward = (await ok("reward.send_reward", **{"x-member-id": member},
                           request_id="f8b1d802-c4bd-439b-bcde-c81c496af119", type="cash",
                           campaign_code="C1", cash_value={"currency": "HKD", "amount": 7500})
                  )["data"]["ref_no"]  # fmt: skip

        login = await ok("auth.open_id_login", open_id="walk-second-member")
        second = login["data"]["member_info"]["member"]["member_id"]
        known: dict[str, Any] = {
            "account_no": acct, "member_id": str(member), "order_id": order["order_id"],
            "application_id": app, "access_key_id": key_id, "token": token,
            "serial_num": freeze, "symbol": "700.HK", "currency": "HKD", "side": "Buy",
            "order_type": "LO", "to_state": "active", "amount": "10", "quantity": "1",
            "price": "1", "direction": 2,
        }  # fmt: skip
        special: dict[str, dict[str, Any]] = {
            "portfolio.withdraw_card_detail": {"id": str(card)},
            "portfolio.withdraw_card_update": {"id": str(card), "bank_en": 1},
            "portfolio.withdraw_card_delete": {"id": str(card)},
            "portfolio.deposit_detail": {"id": str(dep)},
            "portfolio.withdraw": {"card_id": str(card)},
            "portfolio.deposit_apply": {"card_id": card},
            "portfolio.deposit_cancel": {"id": dep},
            "portfolio.withdraw_detail": {"id": wd},
            "portfolio.withdraw_cancel": {"order_id": wd},
            "ipo.order": {"order_id": ipo}, "ipo.withdraw": {"order_id": int(ipo)},
            "ipo.amend": {"order_id": ipo, "symbol": "9999.HK", "sub_qty": "1000",
                          "method": "2", "batch_id": "1"},
            "ipo.submit": {"symbol": "9999.HK", "sub_qty": "500", "method": 2, "batch_id": "1"},
            "trade.order": {"remark": "walk-2", "submitted_quantity": "1", "side": "Buy",
                            "order_type": "LO", "submitted_price": "1", "time_in_force": "Day"},
            "trade.order_update": {"quantity": "150", "price": "299"},
            "asset.unfrozen_cash": {"unfrozen_amount": "5"},
            "asset.unfrozen_debit": {"serial_num": "F-w"},
            "asset.adjust_cash": {"direction": 2, "amount": "1", "biz_code": "B"},
            "asset.adjust_stock": {"direction": 2, "quantity": "1", "market": "HK",
                                   "biz_code": "B"},
            "asset.frozen_cash": {"frozen_amount": "1", "biz_code": "B", "serial_num": "F-w"},
            "account.update_account_trade_permission":
                {"changes": [{"permission_type": "stock.SG", "permission_status": "open"}]},
            "account.update_application_v2": {"client_type": 0, "open_info": {"base": {}}},
            "account.update_application": {"open_info": {"base": {}}},
            "account.trade_set_pwd": {"encrypt_password": "enc"},
            "account.trade_reset_pwd": {"encrypt_password": "enc2"},
            "account.trade_auth_pwd": {"encrypt_password": "enc2"},
            "account.list_v2": {"account_id": "0", "page_size": "10"},
            "account.accesskeys_update": {"ip_whitelist": ["127.0.0.0/8"]},
            "account.accesskeys_token": {"expired_at": "2099-01-01T00:00:00Z"},
            "account.append_account": {"additional_account": {"additional_type": "1"}},
            "auth.open_id_login": {"open_id": "walk-open-id"},
            "member.get_member_by_phone": {"phone": sandbox.members[member]["phone"]},
            "member.change_mobile": {"phone": sandbox.members[member]["phone"],
                                     "new_phone": {"country_code": "852", "mobile": "91234567"}},
            "member.get_member_by_email": {"email": sandbox.members[member]["email"]},
            "member.change_email": {"new_email": "walk@example.test"},
            "member.update_pi_status": {"member_id": member, "pi_status": "1"},
            "message.devices_delete": {"member_id": member},
            "reward.send_reward": {"x-member-id": member, "type": "cash", "campaign_code": "C",
                                   "request_id": "a8b1d802-c4bd-439b-bcde-c81c496af119",
                                   "cash_value": {"currency": "HKD", "amount": 1}},
            "reward.reward_info": {"ref_nos": [reward]},
            "trade.withdraw_user_orders": {"market": "US"},
            "ipo.order_list": {"page": "1", "limit": "10"},
            "portfolio.deposit_notify": {"page": "1", "size": "10"},
            "account.submit_application_v2": {"member_id": str(second), "client_type": 0,
                                              "open_info": {"base": {}}},
        }  # fmt: skip
        last = (
            "member.change_mobile", "member.change_email", "portfolio.withdraw_card_delete",
            "ipo.withdraw", "account.accesskeys_token", "account.accesskeys_token_delete",
            "account.accesskeys_disable", "account.close",
        )  # fmt: skip
        first = ("account.trade_set_pwd", "account.trade_reset_pwd")
        names = [*first, *(n for n in catalog if n not in last + first), *last]
        seen = 0
        for name in names:
            ep = catalog[name]
            params: dict[str, Any] = {}
            for p in ep.params:
                if p.required or p.name in known or p.name in special.get(name, {}):
                    params[p.name] = known.get(p.name, _value(p.type))
            params.update(special.get(name, {}))
            if name == "account.accesskeys_token_delete":
                params["token"] = sandbox.keys[key_id]["tokens"][-1]["token"]
            if name == "account.close":
                params["account_no"] = sandbox.approve(app)
            status, body = await c.send(name, params)
            assert status == 200, (name, params, body)
            seen += 1
            if via != "faithful":
                continue  # read and typed by brokerport: nothing raised is the check
            problem = jsonschema.exceptions.best_match(
                jsonschema.Draft202012Validator(_schema(spec, name)).iter_errors(body)
            )
            assert problem is None, f"{name}: {problem and problem.message}"
    assert seen == len(catalog) == 118


@needs_spec
async def test_error_answers_follow_the_documented_error_schemas(sandbox: WhaleSandbox) -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    async with aiohttp.ClientSession() as session:
        c = Faithful(sandbox, session)
        for name, params in {
            "account.close": {"account_no": SEED_ACCOUNT},  # assets not zero: 404092
            "trade.order_today": {"account_no": "nobody", "page": "x"},
            "member.update_pi_status": {"member_id": SEED_MEMBER, "pi_status": "9"},
            "asset.adjust_cash": {"account_no": SEED_ACCOUNT, "direction": 1, "currency": "HKD",
                                  "amount": "99999999", "biz_code": "B"},
        }.items():  # fmt: skip
            status, body = await c.send(name, params)
            assert status == 400 and body["code"] not in (0, "0"), (name, body)
            ep = WhaleAdapter.catalog()[name]
            documented = spec["paths"][ep.route][ep.method.lower()]["responses"]
            schema = copy.deepcopy(
                _schema(spec, name, "400") if "400" in documented else {"type": "object"}
            )
            jsonschema.validate(body, schema)


async def test_a_client_given_only_what_the_cli_prints_works_unchanged() -> None:
    """``brokerport sandbox whale --json`` in another process: its base URL and
    credentials are all the vendor-style client needs (sign, place, read back)."""
    import asyncio
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "brokerport", "sandbox", "whale", "--json",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        info = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
        base, creds = info["base_url"], info["credentials"]
        acct = info["profile_options"]["account_no"]

        async def send(method: str, path: str, query: str = "", body: Any = None) -> Any:
            data = None if body is None else json.dumps(body).encode()
            headers = faithful_headers(method, path, query, data, creds["app_key"],
                                       creds["app_secret"], creds["access_token"],
                                       int(time.time()))  # fmt: skip
            url = aiohttp.client.URL(base + path + (f"?{query}" if query else ""), encoded=True)
            async with session.request(method, url, data=data, headers=headers) as resp:
                return resp.status, json.loads(await resp.read())

        async with aiohttp.ClientSession() as session:
            status, placed = await send("POST", "/v1/whaleapi/trade/order", body={
                "symbol": "700.HK", "side": "Buy", "order_type": "LO", "submitted_price": "320",
                "submitted_quantity": "100", "time_in_force": "Day", "account_no": acct,
            })  # fmt: skip
            assert status == 200 and placed["code"] == 0
            order_id = placed["data"]["order_id"]
            status, got = await send(
                "GET", "/v1/whaleapi/trade/order", f"order_id={order_id}&account_no={acct}"
            )
            assert status == 200 and got["data"]["status"] == "NewStatus"
    finally:
        proc.terminate()
        await proc.wait()
