"""Fuzzed answers: every port operation of every plugin, fed malformed, huge, deep,
non-UTF-8, HTML and wrong-typed answers, lets nothing but BrokerportError escape.

Requests are built from each operation's request model (field types, with a
few field-name hints); answers come from hypothesis. The transport is a
MockTransport, so no network is used and nothing depends on timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from brokerport import BrokerportError, NotSupported
from brokerport import models as m
from brokerport.catalog import Endpoint
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.ports import PORTS
from brokerport.profile import Profile
from brokerport.ratelimit import Limiter, LimiterRegistry
from brokerport.signing import PreparedRequest
from brokerport.transport import MockTransport, RawResponse, TransportSettings
from brokerport.types import Secret

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

MAX_ANSWER = 64 * 1024

# ------------------------------------------------------------ the requests

HINTS: dict[str, Any] = {
    "instrument": "BTC-USDT",
    "side": "buy",
    "order_type": "limit",
    "currency": "USD",
    "pay_currency": "CNY",
    "ccy": "USDT",
    "chain": "USDT-ERC20",
    "destination": "6",
    "platform": "MT4",
    "permissions": ("read",),
    "ips": ("1.2.3.4",),
    "ip": "1.2.3.4",
    "level": 2,
    "leverage": 100,
    "begin": "20240101",
    "end": "20240102",
    "instrument_type": "1",
    "name": "fuzzname1",
    "currencies": ("BTC",),
    "price": Decimal("100"),
    "group": "default",
    "fields": {"nickname": "x"},
    "payee": m.Payee(name="D", account_number="6226", bank_name="ICBC", branch="", swift="S"),
    "email": "a@example.com",
    "phone": "13800000000",
    "passphrase": "Passw0rd!x",
    "password": "Passw0rd!x",
    "limit": 10,
    "order_id": "123",
    "user_ids": ("u1",),
    "account_ids": ("a1",),
}


def _base(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if args and (typing.get_origin(tp) is typing.Union or type(tp).__name__ == "UnionType"):
        return _base(args[0])
    return typing.get_origin(tp) or tp


def _value(name: str, tp: Any) -> Any:
    hint = HINTS.get(name)
    if hint is not None and (
        not isinstance(_base(tp), type)
        or isinstance(hint, _base(tp))
        or _base(tp) is typing.Literal
    ):
        return hint
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or type(tp).__name__ == "UnionType":
        non_none = [a for a in args if a is not type(None)]
        return _value(name, non_none[0]) if non_none else None
    if origin is typing.Literal:
        return args[0]
    if origin in (tuple, list):
        return ()
    if origin in (dict, typing.Mapping) or tp is dict:
        return {}
    if tp is str:
        return f"{name.replace('_', '')[:12]}1"
    if tp is Decimal:
        return Decimal("1")
    if tp is int:
        return 1
    if tp is bool:
        return False
    if tp is datetime:
        return datetime(2024, 1, 1, tzinfo=UTC)
    if tp is Secret:
        return Secret("Passw0rd!x")
    if attrs.has(tp):
        return build(tp)
    return None


def build(cls: type, optional: bool = True) -> Any:
    hints = typing.get_type_hints(cls, vars(m))
    kwargs = {}
    for f in attrs.fields(cls):
        if f.default is attrs.NOTHING or (optional and f.name in HINTS):
            kwargs[f.name] = _value(f.name, hints.get(f.name, str))
    try:
        return cls(**kwargs)
    except Exception:
        return None


def requests_for(port_cls: type, op: str) -> list[Any]:
    """Candidate requests: with every hinted field, then the required ones only."""
    fn = getattr(port_cls, op)
    hints = typing.get_type_hints(fn, {**vars(m), "m": m})
    tp = hints.get("request")
    if tp is None or not attrs.has(tp):
        return []
    return [r for r in (build(tp), build(tp, optional=False)) if r is not None]


# ------------------------------------------------------------- the answers


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)

ENVELOPES = {
    "okx": lambda data: {"code": "0", "msg": "", "data": data},
    "lwork": lambda data: {"result": True, "mcode": "m0000000", "data": data},
    "acme": lambda data: {"ok": True, "result": data},
}


def answers(vendor: str) -> Any:
    wrap = ENVELOPES[vendor]
    as_json = st.builds(lambda d: json.dumps(wrap(d)).encode(), json_values)
    deep = st.integers(65, 3000).map(
        lambda n: json.dumps(wrap(None)).encode().replace(b"null", b"[" * n + b"]" * n)
    )
    return st.tuples(
        st.sampled_from([200, 200, 200, 400, 404, 429, 500, 502, 503]),
        st.one_of(
            as_json,
            as_json,
            deep,
            st.just(b""),
            st.just(b"<html><body>502 Bad Gateway</body></html>"),
            st.binary(max_size=64),  # non-UTF-8, truncated, garbage
            st.builds(lambda b: b"\xff\xfe" + b, st.binary(max_size=16)),
            st.just(b'{"code":"0","data":' + b"1" * (MAX_ANSWER + 10) + b"}"),  # huge
            st.builds(lambda d: json.dumps(d).encode(), json_values),  # no envelope
            st.just(b'{"code":0,"data":{"a":1e99999}}'),
            st.just(b'{"code": "0", "data": NaN}'),
        ),
    )


# ---------------------------------------------------------------- clients


class NoLimits(LimiterRegistry):
    def for_endpoint(self, endpoint: Endpoint, scope: str = "") -> Limiter | None:
        return None


@functools.cache
def profile_for(vendor: str) -> Profile:
    if vendor == "okx":
        creds = {"api_key": "k", "secret_key": "s", "passphrase": "p"}
        return Profile(vendor="okx", name="f", base_url="http://x.invalid", credentials=creds)
    if vendor == "lwork":
        from brokerport_lwork.sandbox import SEED_USER, LworkSandbox

        sandbox = LworkSandbox(key_bits=1024)
        options = {
            "user_id": SEED_USER,
            "server_id": "428",
            "platform": "MT4",
            "account_id": "2090001252",
            "demo_account_type": "1",
            "account_name": "Fuzz",
        }
        return Profile(
            vendor="lwork",
            name="f",
            base_url="http://x.invalid",
            credentials=sandbox.credentials(),
            options={**options, "pay_currency": "CNY"},
        )
    from brokerport_acme.sandbox import AcmeSandbox

    return Profile(
        vendor="acme",
        name="f",
        base_url="http://x.invalid",
        credentials=AcmeSandbox().credentials(),
    )


class Replay:
    """The transport's answer for the next requests (set per example)."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        self.sent = 0

    def __call__(self, request: PreparedRequest) -> RawResponse:
        self.sent += 1
        return RawResponse(self.status, {"Content-Type": "application/json"}, self.body)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    lp = asyncio.new_event_loop()
    yield lp
    lp.close()


def operations(vendor: str) -> list[str]:
    from brokerport.registry import load_adapter

    return sorted(load_adapter(vendor).operations)


CASES = [(v, op) for v in ("okx", "lwork", "acme") for op in operations(v)]


@pytest.mark.parametrize(("vendor", "operation"), CASES)
def test_only_brokerport_errors_escape(
    loop: asyncio.AbstractEventLoop, vendor: str, operation: str
) -> None:
    from brokerport.registry import load_adapter

    replay = Replay()
    transport = MockTransport(replay)
    transport.settings = TransportSettings(max_answer_bytes=MAX_ANSWER)  # type: ignore[attr-defined]
    client = Client(
        load_adapter(vendor),
        profile_for(vendor),
        transport=transport,
        retry=RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0),
        limiters=NoLimits(),
    )
    loop.run_until_complete(client.open())
    port_name, op = operation.split(".", 1)
    method = getattr(getattr(client, port_name), op)
    request = None
    for candidate in requests_for(PORTS[port_name], op):
        # the first candidate the plugin sends (an answer it cannot read is fine)
        replay.status, replay.body = 200, b"{}"
        with contextlib.suppress(BrokerportError):
            loop.run_until_complete(method(candidate))
        if replay.sent:
            request = candidate
            break
    if request is None:
        loop.run_until_complete(client.aclose())
        pytest.skip(f"no generic request for {operation} reaches the wire")

    @hypothesis.settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(answer=answers(vendor))
    def run(answer: tuple[int, bytes]) -> None:
        replay.status, replay.body = answer
        try:
            loop.run_until_complete(method(request))
        except BrokerportError as exc:
            errors.append(exc)

    errors: list[BrokerportError] = []

    try:
        run()
    finally:
        loop.run_until_complete(client.aclose())
    if not replay.sent and errors and all(isinstance(e, NotSupported) for e in errors):
        pytest.skip(f"{operation}: not supported in this mode ({errors[0]})")
    assert replay.sent, f"{operation}: never reached the wire: {errors[:1]!r}"
