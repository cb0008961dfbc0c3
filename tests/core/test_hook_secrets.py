"""Hooks never see a secret: params, repr, iteration, get, dict(), all three call hooks.

Through a real client on the fake vendor's sandbox. Writes a hook makes still
reach the wire; the redaction marker written back does not replace the secret.
Raw results carry the credentials a vendor returns as ``Secret``.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from types import FunctionType, MethodType, ModuleType
from typing import Any

import brokerport
import pytest
from brokerport import models as m
from brokerport.client import Client
from brokerport.pipeline import Call, HookCall, RedactedParams
from brokerport.types import REDACTED, Secret, redact_payload, wrap_secrets
from fakex_vendor import FAST_RETRY, SECRETS, Fakex, FakexSandbox

PASS = "pw-HOOKS-must-not-see-1"
LABEL = "label-SECRET-obj-2"
TRADE_PW = "trade-PW-hidden-3"
MINTED = "fxsecret-NEWKEY-5ca1ab1e"  # what the fake vendor mints for key.create
HIDDEN = (PASS, LABEL, TRADE_PW, MINTED, *SECRETS)


def _reachable(root: object, limit: int = 20000) -> Iterator[object]:
    """Objects reachable from ``root`` by reference, not through code or modules."""
    seen = {id(root)}
    todo = [root]
    while todo and len(seen) < limit:
        obj = todo.pop()
        yield obj
        for ref in gc.get_referents(obj):
            if isinstance(ref, (type, ModuleType, FunctionType, MethodType)) or id(ref) in seen:
                continue
            seen.add(id(ref))
            todo.append(ref)


def _everything(call: Any) -> list[str]:
    """Every way a hook might try to read the parameters, as text."""
    params = call.params
    seen: list[Any] = [
        call,
        params,
        list(params),
        list(params.items()),
        list(params.values()),
        dict(params),
        params.copy(),
        call.redacted_params(),
        {k: params.get(k) for k in params},
        {k: params[k] for k in params},
        call.credentials,
        call.headers,
        call.idempotency_key,
    ]
    for name in ("passphrase", "label", "trade_password"):
        seen.append(params.get(name))
    texts = [repr(x) + str(x) for x in seen]
    for obj in _reachable(call):
        assert not isinstance(obj, Secret), f"a Secret is reachable from the hook's call: {obj!r}"
        if isinstance(obj, (str, bytes)):
            texts.append(str(obj))
    return texts


def _assert_clean(texts: list[str], hidden: tuple[str, ...] = HIDDEN) -> None:
    blob = "\n".join(texts)
    for value in hidden:
        assert value not in blob, f"{value[:8]}... reached a hook"


class Spy:
    """Records everything it can see in every call hook."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.result_texts: list[str] = []  # the vendor's answer: it may echo a label
        self.calls: list[Any] = []

    @brokerport.hookimpl
    def brokerport_before_request(self, call: Call) -> None:
        self.calls.append(call)
        self.texts += _everything(call)

    @brokerport.hookimpl
    def brokerport_after_response(self, call: Call, response: Any, result: Any) -> None:
        self.texts += _everything(call)
        self.result_texts.append(repr(result) + str(result))
        for obj in _reachable(result):
            if isinstance(obj, Secret):  # a model's Secret field, emptied to the marker
                assert obj.reveal() == REDACTED, "a Secret reached after_response"
            if isinstance(obj, str):
                self.result_texts.append(obj)

    @brokerport.hookimpl
    def brokerport_on_error(self, call: Call, error: Any) -> None:
        self.texts += _everything(call)
        self.texts.append(repr(error) + str(error))


def _body(sandbox: FakexSandbox, endpoint: str, i: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(sandbox.journal.for_endpoint(endpoint)[i].body)
    return body


async def test_hooks_see_no_secret_but_the_wire_gets_it(sandbox: FakexSandbox) -> None:
    spy = Spy()
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[spy]) as client:
        # a sensitive parameter (str) and a Secret in a parameter not marked sensitive
        result = await client.call("key.create", owner="o1", label=Secret(LABEL), passphrase=PASS)
        await client.call("sub.create", name="abcd1", trade_password=TRADE_PW)
        with pytest.raises(brokerport.InvalidRequest):  # on_error, after before_request
            await client.call("sub.create", name="NO", trade_password=TRADE_PW)
        sandbox.faults.add("status", "key.create", times=1)
        with pytest.raises(brokerport.BrokerportError):  # on_error after a vendor failure
            await client.call("key.create", owner="o1", label="l", passphrase=PASS)
    assert len(spy.calls) == 4
    _assert_clean(spy.texts)
    # the fake vendor echoes the label in its answer (its choice); no credential is there
    _assert_clean(spy.result_texts, tuple(v for v in HIDDEN if v != LABEL))
    # the hook saw the marker where the secrets are, the other values in clear
    first = spy.calls[0]
    assert isinstance(first, HookCall) and isinstance(first, Call)
    assert isinstance(first.params, RedactedParams)
    assert dict(first.params) == {"owner": "o1", "label": REDACTED, "passphrase": REDACTED}
    # ...while the vendor received the real values
    assert _body(sandbox, "key.create", 0) == {"owner": "o1", "label": LABEL, "passphrase": PASS}
    assert _body(sandbox, "sub.create", 0)["trade_password"] == TRADE_PW
    # the raw result: the minted secret is a Secret, hidden in repr
    assert isinstance(result["secret_key"], Secret)
    assert result["secret_key"].reveal() == MINTED
    assert MINTED not in repr(result) and MINTED not in str(result)


async def test_marker_written_back_keeps_the_real_secret(sandbox: FakexSandbox) -> None:
    class WritesBack:
        @brokerport.hookimpl
        def brokerport_before_request(self, call: Call) -> None:
            p = call.params
            p["passphrase"] = p["passphrase"]
            p["passphrase"] = REDACTED
            p["label"] = p.get("label")  # a Secret label, read back as the marker
            p.update(dict(p))
            p.setdefault("passphrase", "x")
            call.params = dict(call.params)  # replacing the mapping goes through the view

    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[WritesBack()]) as c:
        await c.call("key.create", owner="o1", label=Secret(LABEL), passphrase=PASS)
    assert _body(sandbox, "key.create") == {"owner": "o1", "label": LABEL, "passphrase": PASS}


async def test_values_a_hook_sets_reach_the_wire(sandbox: FakexSandbox) -> None:
    seen: list[Any] = []

    class Sets:
        @brokerport.hookimpl
        def brokerport_before_request(self, call: Call) -> None:
            if call.endpoint.name == "sub.create":
                call.params["label"] = "from-hook"  # a new key
                call.params["name"] = call.params["name"] + "x"  # a changed key
                call.params["trade_password"] = "new-Hook-pw"  # a new secret: still hidden
                seen.append(dict(call.params))
            if call.endpoint.name == "key.create":
                del call.params["passphrase"]  # a deletion reaches the wire too

    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[Sets()]) as client:
        await client.call("sub.create", name="abcd1", trade_password=TRADE_PW)
        await client.call("key.create", owner="o1", label="l", passphrase=PASS)
    assert _body(sandbox, "sub.create") == {
        "name": "abcd1x",
        "label": "from-hook",
        "trade_password": "new-Hook-pw",
    }
    assert seen == [{"name": "abcd1x", "label": "from-hook", "trade_password": REDACTED}]
    assert "passphrase" not in _body(sandbox, "key.create")


async def test_after_response_hides_secrets_in_structured_results(sandbox: FakexSandbox) -> None:
    spy = Spy()
    results: list[Any] = []

    class Results:
        @brokerport.hookimpl
        def brokerport_after_response(self, call: Call, response: Any, result: Any) -> None:
            results.append(result)

    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[spy, Results()]) as c:
        key = await c.invoke("key.create", {"owner": "o1", "label": "l"}, into=m.ApiKey)
        port_key = await c.keys.create(m.CreateApiKey(owner="o1", label="desk"))
    # the host gets the minted secret, from the pipeline and from the port
    assert key.secret_key is not None and key.secret_key.reveal() == MINTED
    assert port_key.secret_key is not None and port_key.secret_key.reveal() == MINTED
    # hooks get a copy with the Secret emptied to the marker (type kept)
    shown = results[0]
    assert isinstance(shown, m.ApiKey) and shown.api_key == key.api_key
    assert isinstance(shown.secret_key, Secret) and shown.secret_key.reveal() == REDACTED
    # the port is a binding: its hook result is the model, redacted the same way
    port_shown = results[1]
    assert isinstance(port_shown, m.ApiKey) and port_shown.secret_key is not None
    assert port_shown.secret_key.reveal() == REDACTED
    _assert_clean(spy.texts + spy.result_texts)


def test_redacted_params_view_alone() -> None:
    real = {"a": 1, "pw": "p4ss", "s": Secret("tok"), "n": {"x": [Secret("deep")]}, "t": ("t",)}
    view = RedactedParams(real, frozenset({"pw"}))
    shown = {"a": 1, "pw": REDACTED, "s": REDACTED, "n": {"x": [REDACTED]}, "t": ("t",)}
    assert dict(view) == shown and view == shown
    assert "p4ss" not in repr(view) and "tok" not in repr(view) and "deep" not in repr(view)
    view["n"] = view["n"]  # the redacted copy written back: no change
    view["pw"] = REDACTED
    view["a"] = 2
    view["new"] = "v"
    del view["t"]
    view._apply_to(real)
    assert real["a"] == 2 and real["new"] == "v" and "t" not in real
    assert real["pw"] == "p4ss" and real["n"]["x"][0].reveal() == "deep"  # type: ignore[index]


def test_wrap_and_redact_survive_deep_and_cyclic_data() -> None:
    deep: Any = {"secretKey": "leaf"}
    for _ in range(50_000):  # far past the recursion limit
        deep = {"next": [deep]}
    wrap_secrets(deep)
    shown = redact_payload(deep)
    node, copy = deep, shown
    while "next" in node:
        node, copy = node["next"][0], copy["next"][0]
    assert isinstance(node["secretKey"], Secret) and copy["secretKey"] == REDACTED
    loop: dict[str, Any] = {"token": "t0k", "items": []}
    loop["items"].append(loop)
    wrap_secrets(loop)
    assert isinstance(loop["token"], Secret)
    red = redact_payload(loop)
    assert red["token"] == REDACTED and red["items"][0] is red
    # only non-empty strings become Secrets; names compare without case, _ and -
    data = {"Secret_Key": "s", "pass-phrase": "", "signature": 5, "note": "n"}
    wrap_secrets(data, frozenset({"note"}))
    assert isinstance(data["Secret_Key"], Secret) and isinstance(data["note"], Secret)
    assert data["pass-phrase"] == "" and data["signature"] == 5


def test_the_credential_prefilter_covers_every_sensitive_name() -> None:
    from brokerport.pipeline import _MAY_HOLD_CREDENTIAL, CREDENTIAL_STEMS
    from brokerport.types import SENSITIVE_FIELDS

    for name in SENSITIVE_FIELDS:
        assert any(stem in name for stem in CREDENTIAL_STEMS), name
        spelled = "_".join(name).upper()  # s_E_C_R_E_T: still the same name once normalized
        assert _MAY_HOLD_CREDENTIAL(f'{{"{spelled}": "x"}}'.encode()), name
    assert not _MAY_HOLD_CREDENTIAL(b'{"ccy": "BTC", "amt": "1"}')
    for stem in CREDENTIAL_STEMS:  # the unrolled search holds every stem, each on its own
        assert _MAY_HOLD_CREDENTIAL(f'{{"my-{stem.upper()}": 1}}'.encode()), stem
