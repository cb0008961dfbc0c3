"""OKX: hooks see no API-key passphrase or minted secret; hook-set tags reach the wire."""

from __future__ import annotations

import json
from typing import Any

from brokerport import hookimpl
from brokerport.pipeline import Call
from brokerport.types import REDACTED, Secret
from brokerport_okx.hooks import BROKER_CODE_HOOK
from brokerport_okx.sandbox import OkxSandbox

PASSPHRASE = "Hidden-pass9"


class Spy:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def _record(self, call: Call) -> None:
        p = call.params
        self.seen += [
            repr(call),
            repr(p),
            repr(dict(p)),
            repr(list(p.items())),
            repr([p.get(k) for k in p]),
            repr(call.redacted_params()),
            repr(call.credentials),
        ]
        assert not any(isinstance(v, Secret) for v in p.values())

    @hookimpl
    def brokerport_before_request(self, call: Call) -> None:
        self._record(call)
        if call.endpoint.name == "trade.place_order":
            call.params["tag"] = "DESK42"  # a value a hook sets reaches the wire

    @hookimpl
    def brokerport_after_response(self, call: Call, response: Any, result: Any) -> None:
        self._record(call)
        self.seen.append(repr(result) + str(result))

    @hookimpl
    def brokerport_on_error(self, call: Call, error: Any) -> None:
        self._record(call)


async def test_okx_hooks_never_see_key_secrets(make_client: Any, sandbox: OkxSandbox) -> None:
    creds = sandbox.live_credentials()
    spy = Spy()
    async with make_client(creds, broker_code="BRK1") as c:
        c.hooks.unregister(name=BROKER_CODE_HOOK)
        c.hooks.register(spy)
        await c.call("broker.dma.create_subaccount", subAcct="hookSub1")
        data = await c.call(
            "broker.dma.create_apikey",
            subAcct="hookSub1",
            label="k1",
            passphrase=PASSPHRASE,
            perm="read_only,trade",
        )
        order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market"}
        await c.call("trade.place_order", **order, sz="1")
    # the raw answer carries the minted credentials as Secrets, hidden in repr
    item = data[0]
    minted = item["secretKey"]
    assert isinstance(minted, Secret) and minted.reveal() and minted.reveal() != REDACTED
    assert isinstance(item["passphrase"], Secret) and item["passphrase"].reveal() == PASSPHRASE
    assert minted.reveal() not in repr(data) and PASSPHRASE not in repr(data)
    # the vendor got the real passphrase; the hooks saw none of it
    body = json.loads(sandbox.journal.for_endpoint("broker.dma.create_apikey")[-1].body)
    assert body["passphrase"] == PASSPHRASE
    seen = "\n".join(spy.seen)
    for value in (PASSPHRASE, minted.reveal(), creds["secret_key"], creds["passphrase"]):
        assert value not in seen
    assert f"'passphrase': '{REDACTED}'" in seen
    # the tag the hook set reached the sandbox
    sent = json.loads(sandbox.journal.for_endpoint("trade.place_order")[-1].body)
    assert sent["tag"] == "DESK42"
