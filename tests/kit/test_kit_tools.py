"""The kit's instruments: tampering keeps a value's shape and always changes its bytes,
failures and journal entries never print a credential, the signing declaration loads."""

from __future__ import annotations

import base64
import json

import pytest
from brokerport.catalog import Signing, catalog_from_data
from brokerport.errors import PluginError
from brokerport.sandbox import JournalEntry
from brokerport.signing import PreparedRequest
from brokerport.testing.tools import (
    VirtualClock,
    expand_parts,
    flip,
    redact,
    remove_part,
    tamper_part,
)


def test_flip_changes_one_character_and_keeps_the_shape() -> None:
    assert flip("1700000000123") == "1700000000124"
    assert flip("315.19") == "315.10"
    assert flip("abcZ") == "abcA"
    assert flip("") == "0"


def test_flip_of_padded_base64_always_changes_the_bytes() -> None:
    for n in range(1, 40):
        text = base64.b64encode(bytes(range(n))).decode()
        if text.endswith("="):
            assert base64.b64decode(flip(text)) != bytes(range(n))


def _request() -> PreparedRequest:
    return PreparedRequest(
        "POST",
        "http://x",
        "/v2/api/account/u1/428/2090001253/deposit",
        "limit=5&cursor=ab",
        {"X-Key": "k-123", "X-Ts": "1700"},
        b'{"amount":"10.25","currency":"USD","n":3}',
        "account.deposit",
    )


def test_tamper_parts_of_every_kind() -> None:
    route = "/v2/api/account/{userId}/{serverId}/{login}/deposit"
    r = _request()
    assert expand_parts(r, ["query", "body", "header:X-Ts", "body:nope", "path:login"], route) == [
        "query:limit",
        "query:cursor",
        "body:amount",
        "body:currency",
        "body:n",
        "header:X-Ts",
        "path:login",
    ]
    assert tamper_part(r, "path:login", route) == ["path:login"]
    assert r.path.endswith("/2090001254/deposit")
    assert tamper_part(r, "body:amount") == ["body:amount"]
    assert json.loads(r.body or b"")["amount"] == "10.26"
    assert tamper_part(r, "query:cursor") == ["query:cursor"] and r.query == "limit=5&cursor=ac"
    assert tamper_part(r, "header:X-Ts") == ["header:X-Ts"] and r.headers["X-Ts"] == "1701"
    assert tamper_part(r, "body:nope") == []
    assert remove_part(r, "header:x-key") and "X-Key" not in r.headers
    assert remove_part(r, "query:limit") and r.query == "cursor=ac"
    assert not remove_part(r, "body:nope")


def test_journal_entries_and_failures_never_show_credentials() -> None:
    entry = JournalEntry(1, 0.0, "GET", "/x", "", {"X-Key": "very-secret"}, b"secret-body", "e")
    text = repr(entry)
    assert "very-secret" not in text and "secret-body" not in text and "X-Key" in text
    assert redact("a very-secret b very%2Dsecret", ["very-secret"]) == "a *** b very%2Dsecret"


async def test_virtual_clock_sleeps_without_waiting() -> None:
    clock = VirtualClock()
    await clock.sleep(60.0)
    assert clock() == 1060.0 and clock.slept == 60.0


def _doc(signing: object) -> dict[str, object]:
    return {
        "vendor": "v",
        "signing": signing,
        "endpoints": [{"name": "a.b", "method": "GET", "path": "/a"}],
    }


def test_signing_declaration_loads_and_refuses_nonsense() -> None:
    catalog = catalog_from_data(
        _doc(
            {
                "credentials": ["api_key"],
                "carriers": ["header:K"],
                "signed": ["query"],
                "timestamp": "header:T",
                "window": 5,
                "endpoints": {"a.b": ["body:x", "path:id"]},
            }
        )
    )
    assert isinstance(catalog.signing, Signing)
    assert catalog.signing.signed_for("a.b") == ("body:x", "path:id")
    assert catalog.signing.signed_for("other") == ("query",)
    assert catalog.evolve({"a.b": {"doc": "x"}}).signing == catalog.signing
    for bad in (
        {"signed": ["cookie:x"]},
        {"timestamp": "header:T"},
        {"endpoints": {"nope.x": []}},
        {"extra": 1},
        {"credentials": "api_key"},
    ):
        with pytest.raises(PluginError):
            catalog_from_data(_doc(bad))
