"""Every answer of every one of the 112 operations conforms to wlink-openapi.json.

Requests are generated from the spec's own parameter and body schemas
(hypothesis-jsonschema), sent by :class:`SpecClient` (written from the vendor
documents, not brokerport) to the sandbox in both auth modes, and each answer
is checked: HTTP 200 against the operation's response schema, an error against
the error body the plugin assumes (README). A few examples per operation keep
the run short; ``test_every_operation_answers_200_per_its_schema`` makes sure
each operation's success schema is exercised at least once.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_client import SpecClient
from spec_tools import FIXTURES, SPEC, example, render, spec_operations

pytestmark = pytest.mark.skipif(not SPEC.resolve().exists(), reason=f"no {SPEC}")

ERROR = {
    "type": "object",
    "required": ["code", "reason", "message"],
    "properties": {
        "code": {"type": "integer"},
        "reason": {"type": "string"},
        "message": {"type": "string"},
        "metadata": {"type": "object"},
    },
}
OPS = spec_operations() if SPEC.resolve().exists() else {}
HEADER_TEXT = {"type": "string", "pattern": "^[A-Za-z0-9-]{0,16}$"}


class Live:
    """The sandbox and the spec client on one event loop, for the whole module."""

    def __init__(self) -> None:
        from brokerport_wlink.sandbox import WlinkSandbox

        self.loop = asyncio.new_event_loop()
        self.box = WlinkSandbox(enforce_rate_limits=False)
        self.run(self.box.start())
        urls = {"client": self.box.base_url or "", "ib": self.box.ib_base_url or ""}
        self.client = SpecClient(urls, self.box.credentials())
        self.run(self.client.__aenter__())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        self.run(self.client.__aexit__())
        self.run(self.box.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    env = Live()
    try:
        yield env
    finally:
        env.close()


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the (small) JSON Schema subset the wlink spec uses."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        need = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: from_schema(v) for k, v in props.items() if k in need},
            optional={k: from_schema(v) for k, v in props.items() if k not in need},
        )
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {})), max_size=3)
    if kind == "integer":
        return st.integers(-(2**31), 2**31)
    if kind == "number":
        return st.decimals(allow_nan=False, allow_infinity=False, places=4).map(float)
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(max_size=24)
    return st.one_of(st.text(max_size=8), st.integers(), st.booleans())


def request_schema(op: dict[str, Any]) -> dict[str, Any]:
    """One object schema for an operation's query, headers and body."""
    parts: dict[str, Any] = {}
    required = []
    for where in ("query", "header"):
        props = {
            p["name"]: HEADER_TEXT if where == "header" else p.get("schema", {})
            for p in op["params"]
            if p["in"] == where
        }
        need = [p["name"] for p in op["params"] if p["in"] == where and p.get("required")]
        parts[where] = {"type": "object", "properties": props, "required": need}
        parts[where]["additionalProperties"] = False
        required.append(where)
    if op["body"] is not None:
        body = copy.deepcopy(op["body"])
        body["additionalProperties"] = False
        parts["body"] = body
        required.append("body")
    return {"type": "object", "properties": parts, "required": required}


async def send(live: Live, name: str, req: dict[str, Any], mode: str) -> tuple[int, Any]:
    op, endpoint = OPS[name], live.box.catalog[name]
    query = []
    for key, value in req.get("query", {}).items():
        for item in value if isinstance(value, list) else [value]:
            query.append((key, item))
    auth = "public" if endpoint.auth == "public" else mode
    if endpoint.auth == "bearer":
        auth = "bearer"
    if auth == "bearer":
        live.client.token = None  # a fresh session: an earlier case may have logged out
    return await live.client.call(
        endpoint.service,
        op["method"],
        op["path"],
        query=query,
        body=req.get("body"),
        headers=req.get("header"),
        auth=auth,
    )


def conforms(name: str, status: int, answer: Any) -> None:
    assert status < 500, f"{name}: HTTP {status} {answer}"
    schema = OPS[name]["response"] if status == 200 else ERROR
    try:
        jsonschema.validate(answer, schema)
    except jsonschema.ValidationError as exc:
        pytest.fail(
            f"{name}: HTTP {status} answer breaks the spec at {list(exc.path)}: {exc.message}"
        )


@pytest.mark.parametrize("name", sorted(OPS))
@settings(
    max_examples=5,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_requests_get_answers_that_conform(live: Live, name: str, data: Any) -> None:
    req = data.draw(from_schema(request_schema(OPS[name])), label="request")
    mode = data.draw(st.sampled_from(["signed", "bearer"]), label="mode")
    status, answer = live.run(send(live, name, req, mode))
    conforms(name, status, answer)


def state_for(live: Live) -> dict[str, dict[str, Any]]:
    """Per operation, values the sandbox's state makes valid (made before the calls)."""
    from brokerport_wlink.sandbox import EMAIL, PASSWORD

    box, acct = live.box, live.box.account_id
    client_msgs, ib_msgs = list(box.messages["client"]), list(box.messages["ib"])
    drafts = [box.add_deposit_draft(acct, "50.00") for _ in range(3)]
    payees = [box.add_payee(box.user_id, "bank_transfer", {"bank_name": "B"}) for _ in range(3)]
    box.reset_tokens["reset-token-1"] = box.user_id
    amount = "20.00"
    from decimal import Decimal

    quote = box.quote(1, Decimal(amount), "USD")
    return {
        "auth.account_login": {"email": EMAIL, "password": PASSWORD},
        "auth.account_change_password": {
            "old_password": PASSWORD,
            "new_password": PASSWORD,
            "email_code": box.issue_email_code("password_change"),
        },
        "auth.account_reset_password": {"token": "reset-token-1", "password": PASSWORD},
        "client.application_transfer_create": {
            "amount": "1.00",
            "email_code": box.issue_email_code("transfer"),
        },
        "client.message_get": {"id": client_msgs[0]},
        "client.message_hide": {"id": client_msgs[1]},
        "client.message_mark_read": {"id": client_msgs[2]},
        "ib.message_get": {"id": ib_msgs[0]},
        "ib.message_hide": {"id": ib_msgs[1]},
        "ib.message_mark_read": {"id": ib_msgs[2]},
        "client.trading_currency_exchange_rate_get": {"from_currency": "USD", "to_currency": "EUR"},
        "client.trading_demo_account_update_balance": {
            "trading_account_id": acct + 1,
            "amount": "10.00",
        },
        "client.trading_deposit_cancel": {"order_number": drafts[0]},
        "client.trading_deposit_draft_get": {"order_number": drafts[1]},
        "client.trading_deposit_submit": {"order_number": drafts[2]},
        "client.trading_deposit_draft_create": {"deposit_amount": "100.00"},
        "client.trading_withdrawal_create": {
            "withdrawal_amount": amount,
            "currency": "USD",
            "method": "bank_transfer",
            "email_code": box.issue_email_code("withdrawal"),
            **quote,
        },
        "client.withdrawal_account_book_create": {"payment_method": "bank_transfer"},
        "client.withdrawal_account_book_delete": {"id": payees[0]},
        "client.withdrawal_account_book_get": {"id": payees[1]},
        "client.withdrawal_account_book_update": {"id": payees[2]},
        "ib.rebate_account_update_permission": {"id": 1},
        "trading.account_update_leverage": {"leverage": 200},
    }


def valid_request(live: Live, name: str, state: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The spec's example of the request, with ids the sandbox knows."""
    box, op = live.box, OPS[name]
    known = {
        "id": box.account_id,
        "trading_account_id": box.account_id,
        "source_trading_account_id": box.account_id,
        "target_trading_account_id": box.account_id + 1,
        "client_user_id": next(iter(box.ib_clients)),
        "remittance_id": 1,
        "column_id": 1,
        "email": "new@sandbox.wlink.invalid",
    }
    req = example(request_schema(op))
    for part in req.values():
        for key in part:
            if key in known:
                part[key] = known[key]
            if key in state.get(name, {}):
                part[key] = state[name][key]
        if part is req.get("body"):
            part.update({k: v for k, v in state.get(name, {}).items() if k not in part})
    return req


def test_every_operation_answers_200_per_its_schema(live: Live) -> None:
    """Each of the 112 operations, called with valid input, answers 200 and its schema."""
    failures = []
    state = state_for(live)
    for name in sorted(OPS):
        req = valid_request(live, name, state)
        status, answer = live.run(send(live, name, req, "signed"))
        if status != 200:
            failures.append(f"{name}: HTTP {status} {answer}")
            continue
        conforms(name, status, answer)
    assert len(OPS) == 112
    assert not failures, "\n".join(failures)


def test_fixtures_are_generated_from_the_spec() -> None:
    """brokerport_wlink/fixtures.json is what `python plugins/wlink/tests/spec_tools.py` writes."""
    assert FIXTURES.read_text(encoding="utf-8") == render()
