"""pluggy hooks: host hooks globally and per client, what they see, validation."""

from __future__ import annotations

from typing import Any

import brokerport
import pluggy
import pytest
from brokerport import models as m
from brokerport.client import Client
from brokerport.types import REDACTED
from fakex_vendor import (
    FAST_RETRY,
    SECRET_KEY,
    Fakex,
    FakexSandbox,
    mock_client,
    never_called,
    signature,
)


class Recorder:
    """A host hook object: tags every request, records everything it sees."""

    def __init__(self, tag: str = "t-1") -> None:
        self.tag = tag
        self.events: list[tuple[str, Any]] = []

    @brokerport.hookimpl
    def brokerport_client_created(self, client: Client) -> None:
        self.events.append(("created", client.vendor))

    @brokerport.hookimpl
    def brokerport_client_closed(self, client: Client) -> None:
        self.events.append(("closed", client.vendor))

    @brokerport.hookimpl
    def brokerport_before_request(self, call: Any) -> None:
        call.headers["X-FX-Meta-Tag"] = self.tag
        self.events.append(("before", call))

    @brokerport.hookimpl
    def brokerport_after_response(self, call: Any, response: Any, result: Any) -> None:
        self.events.append(("after", (call, response, result)))

    @brokerport.hookimpl
    def brokerport_on_error(self, call: Any, error: Any) -> None:
        self.events.append(("error", (call, error)))

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]


def _check_signed_tag(sandbox: FakexSandbox, tag: str) -> None:
    entry = sandbox.journal.for_endpoint("account.get")[-1]
    assert entry.headers["X-FX-Meta-Tag"] == tag
    assert entry.status == 200 and entry.rejected is None
    # the signature covers the header the hook added
    h = entry.headers
    assert h["X-FX-SIGN"] == signature(
        SECRET_KEY, h["X-FX-TS"], entry.method, entry.path, dict(h), entry.body
    )
    assert h["X-FX-SIGN"] != signature(
        SECRET_KEY,
        h["X-FX-TS"],
        entry.method,
        entry.path,
        {k: v for k, v in h.items() if k != "X-FX-Meta-Tag"},
        entry.body,
    )


async def test_global_hooks_via_register_hooks(sandbox: FakexSandbox) -> None:
    rec = Recorder("global-tag")
    brokerport.register_hooks(rec)
    try:
        async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY) as client:
            result = await client.call("account.get", account_id="a1")
            with pytest.raises(brokerport.NotFound):
                await client.call("account.get", account_id="missing")
    finally:
        brokerport.unregister_hooks(rec)
    assert rec.kinds() == ["created", "before", "after", "before", "error", "closed"]
    _check_signed_tag(sandbox, "global-tag")

    before_call = rec.events[1][1]
    call, response, seen_result = rec.events[2][1]
    assert call is before_call
    assert call.vendor == "fakex" and call.endpoint.name == "account.get"
    assert call.params == {"account_id": "a1"}
    assert response.status == 200 and response.attempts == 1 and response.elapsed >= 0
    assert seen_result == result
    err_call, error = rec.events[4][1]
    assert isinstance(error, brokerport.NotFound)
    assert error.endpoint == "account.get" and error.vendor_code == "51603"
    assert err_call.params == {"account_id": "missing"}

    # unregistered: the next client does not call it
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY) as client:
        await client.call("account.get", account_id="a1")
    assert rec.kinds()[-1] == "closed" and len(rec.events) == 6


async def test_per_client_hooks(sandbox: FakexSandbox) -> None:
    rec = Recorder("client-tag")
    other = Recorder("unused")
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[rec]) as client:
        await client.call("account.get", account_id="a1")
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[other]):
        pass
    assert rec.kinds() == ["created", "before", "after", "closed"]
    assert other.kinds() == ["created", "closed"]
    _check_signed_tag(sandbox, "client-tag")


async def test_hooks_see_redacted_credentials(sandbox: FakexSandbox) -> None:
    rec = Recorder()
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[rec]) as client:
        await client.call("sub.create", name="abcd1", trade_password="pw-SECRET-123")
    call = rec.events[1][1]
    assert dict(call.credentials) == {
        "api_key": REDACTED,
        "secret_key": REDACTED,
        "passphrase": REDACTED,
    }
    assert "pw-SECRET-123" not in repr(call)
    assert call.redacted_params()["trade_password"] == REDACTED
    assert not any(k.lower().startswith("x-fx-sign") for k in call.headers)


async def test_before_request_param_changes_are_validated_and_sent(
    sandbox: FakexSandbox,
) -> None:
    class Labeller:
        @brokerport.hookimpl
        def brokerport_before_request(self, call: Any) -> None:
            if call.endpoint.name == "sub.create":
                call.params["label"] = "from-hook"

    class Breaker:
        @brokerport.hookimpl
        def brokerport_before_request(self, call: Any) -> None:
            call.params["label"] = "x" * 40  # breaks the catalog rule

    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[Labeller()]) as client:
        sub = await client.subaccounts.create(m.CreateSubAccount(name="abcd1"))
    assert sub.label == "from-hook"

    client2, transport = mock_client(never_called, hooks=[Breaker()])
    async with client2:
        with pytest.raises(brokerport.InvalidRequest, match="label"):
            await client2.call("sub.create", name="abcd2")
    assert transport.requests == []


async def test_idempotency_key_visible_to_hooks_before_sending() -> None:
    seen: list[Any] = []

    class Watch:
        @brokerport.hookimpl
        def brokerport_before_request(self, call: Any) -> None:
            seen.append((call.idempotency_key, dict(call.params)))

    def handler(request: Any) -> Any:
        from fakex_vendor import body_json, ok_response

        return ok_response({"order_id": "o1", "client_order_id": body_json(request)["client_id"]})

    client, _transport = mock_client(handler, hooks=[Watch()])
    async with client:
        result = await client.call("order.place", symbol="BTC-USD", side="buy", qty="1")
    key, params = seen[0]
    assert key and params["client_id"] == key == result["client_order_id"]


def test_misspelled_hook_is_rejected() -> None:
    class Typo:
        @brokerport.hookimpl
        def brokerport_after_respones(self, call: Any, response: Any, result: Any) -> None:
            pass

    from brokerport.client import Hooks

    hooks = Hooks({})
    with pytest.raises(pluggy.PluginValidationError, match="unknown hook"):
        hooks.register(Typo())


def test_wrong_hook_arguments_are_rejected() -> None:
    class BadArgs:
        @brokerport.hookimpl
        def brokerport_before_request(self, call: Any, extra: Any) -> None:
            pass

    from brokerport.client import Hooks

    with pytest.raises(pluggy.PluginValidationError):
        Hooks({}).register(BadArgs())


async def test_misspelled_global_hook_fails_client_open() -> None:
    class Typo:
        @brokerport.hookimpl
        def brokerport_on_eror(self, call: Any, error: Any) -> None:
            pass

    typo = Typo()
    brokerport.register_hooks(typo)
    try:
        client, _transport = mock_client(never_called)
        with pytest.raises(pluggy.PluginValidationError):
            await client.open()
    finally:
        brokerport.unregister_hooks(typo)
    # and once removed, clients open again
    client, _ = mock_client(never_called)
    async with client:
        pass


def test_hooks_flags_follow_registration() -> None:
    from brokerport.client import Hooks

    def flags(h: Hooks) -> tuple[bool, bool, bool]:
        return h.before_request, h.after_response, h.on_error

    hooks = Hooks({})
    assert flags(hooks) == (False, False, False)
    rec = Recorder()
    hooks.register(rec, name="rec")
    assert flags(hooks) == (True, True, True)
    assert hooks.get("rec") is rec
    hooks.unregister(name="rec")
    assert flags(hooks) == (False, False, False)


async def test_hook_registered_globally_and_per_client_runs_once(sandbox: FakexSandbox) -> None:
    rec = Recorder("both")
    brokerport.register_hooks(rec)
    try:
        async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[rec]) as client:
            sandbox.faults.add("status", "account.get", times=2)
            await client.call("account.get", account_id="a1")
    finally:
        brokerport.unregister_hooks(rec)
    # once per logical call, not per retry, and not twice for a double registration
    assert rec.kinds() == ["created", "before", "after", "closed"]
    _call, response, _result = rec.events[2][1]
    assert response.attempts == 3 and response.status == 200


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "nul\x00"])
async def test_header_injection_from_a_hook_is_refused_before_io(value: str) -> None:
    class Injector:
        @brokerport.hookimpl
        def brokerport_before_request(self, call: Any) -> None:
            call.headers["X-FX-Meta-Tag"] = value

    client, transport = mock_client(never_called, hooks=[Injector()])
    async with client:
        with pytest.raises(brokerport.InvalidRequest, match="control character") as info:
            await client.call("account.get", account_id="a1")
    assert info.value.field == "X-FX-Meta-Tag" and info.value.endpoint == "account.get"
    assert transport.requests == []
