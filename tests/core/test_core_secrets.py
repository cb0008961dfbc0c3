"""Secrets never leak: repr/str/format, attrs, cattrs, logs, errors, hooks, pickles, profiles."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import traceback
from typing import Any

import attrs
import brokerport
import pytest
from brokerport import Secret
from brokerport import models as m
from brokerport.client import Client
from brokerport.convert import make_converter
from brokerport.profile import Profile
from brokerport.types import REDACTED
from fakex_vendor import (
    API_KEY,
    FAST_RETRY,
    PASSPHRASE,
    SECRET_KEY,
    SECRETS,
    Fakex,
    FakexSandbox,
)

VALUE = "s3cr3t-VALUE-do-not-print"


def assert_clean(text: str, *extra: str) -> None:
    for s in (*SECRETS, VALUE, *extra):
        assert s not in text, f"secret {s[:6]}... leaked into: {text[:300]}"


# ------------------------------------------------------------ the Secret type


def test_secret_repr_str_format() -> None:
    s = Secret(VALUE)
    assert repr(s) == "Secret('***')"
    assert str(s) == REDACTED
    assert f"{s}" == REDACTED
    assert f"{s!r}" == "Secret('***')"
    assert f"{s:>40}" == REDACTED
    assert f"{s}" == REDACTED
    assert "%s" % s == REDACTED  # noqa: UP031
    assert "%r" % (s,) == "Secret('***')"  # noqa: UP031
    assert s.reveal() == VALUE
    assert repr([s, {"k": s}]) == "[Secret('***'), {'k': Secret('***')}]"


def test_secret_value_semantics() -> None:
    s = Secret(VALUE)
    assert s == Secret(VALUE)
    assert s != Secret("other")
    assert (s == VALUE) is False  # never equal to the bare string
    assert Secret(s).reveal() == VALUE
    assert bool(Secret("")) is False and len(s) == len(VALUE)
    assert copy.copy(s) is s and copy.deepcopy(s) is s
    with pytest.raises(AttributeError):
        s._value = "x"
    with pytest.raises(TypeError):
        Secret(123)  # type: ignore[arg-type]
    assert not hasattr(s, "__dict__")  # vars() cannot expose it either


def test_secret_refuses_pickling() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(VALUE))
    # ...also when nested in a model or profile
    with pytest.raises(TypeError):
        pickle.dumps(m.CreateApiKey(owner="o", label="l", passphrase=VALUE))
    with pytest.raises(TypeError):
        pickle.dumps(Profile(vendor="x", credentials={"k": VALUE}))


def test_secret_not_json_serializable() -> None:
    with pytest.raises(TypeError):
        json.dumps({"k": Secret(VALUE)})


# -------------------------------------------------------------- models


def test_model_repr_and_asdict_keep_secret_redacted() -> None:
    req = m.CreateApiKey(owner="o1", label="l1", passphrase=VALUE)
    assert isinstance(req.passphrase, Secret)
    assert_clean(repr(req))
    assert_clean(str(req))
    assert_clean(f"{req}")
    d = attrs.asdict(req)
    assert isinstance(d["passphrase"], Secret)
    assert d["passphrase"].reveal() == VALUE
    assert_clean(repr(d))
    t = attrs.astuple(req)
    assert_clean(repr(t))

    key = m.ApiKey(api_key="k1", secret_key=VALUE)
    assert_clean(repr(key))
    assert isinstance(attrs.asdict(key)["secret_key"], Secret)

    token = m.SessionToken(access_token=VALUE, refresh_token="r-" + VALUE)
    assert_clean(repr(token))
    assert_clean(repr(attrs.asdict(token)))

    pw = m.SetTradePassword(account_id="a", new_password=VALUE, old_password="o" + VALUE)
    assert_clean(repr(pw))


def test_model_refuses_plain_non_string_secret() -> None:
    with pytest.raises(brokerport.InvalidRequest):  # a request model: no longer TypeError
        m.CreateApiKey(owner="o", label="l", passphrase=12345)


def test_cattrs_unstructure_redacts() -> None:
    conv = make_converter()
    out = conv.unstructure(m.CreateApiKey(owner="o", label="l", passphrase=VALUE))
    assert out["passphrase"] == REDACTED
    assert_clean(json.dumps(out))
    out = conv.unstructure(m.SessionToken(access_token=VALUE))
    assert out["access_token"] == REDACTED
    assert conv.unstructure(Secret(VALUE)) == REDACTED
    # structure turns wire text into a Secret
    key = conv.structure({"api_key": "k", "secret_key": VALUE}, m.ApiKey)
    assert isinstance(key.secret_key, Secret) and key.secret_key.reveal() == VALUE
    assert_clean(repr(key))


# -------------------------------------------------------------- profiles


def test_profile_repr_and_redacted() -> None:
    p = Profile(
        vendor="fakex",
        base_url="https://x",
        credentials={"secret_key": VALUE},
        options={"region": "eu"},
    )
    assert isinstance(p.credentials["secret_key"], Secret)
    for text in (repr(p), str(p), f"{p}", repr(p.redacted()), json.dumps(p.redacted())):
        assert_clean(text)
    assert "secret_key" in repr(p)
    assert p.redacted()["credentials"] == {"secret_key": REDACTED}
    assert isinstance(attrs.asdict(p)["credentials"]["secret_key"], Secret)
    assert_clean(repr(attrs.asdict(p)))
    assert_clean(repr(p.with_sandbox("http://127.0.0.1:1", {"other": "o-" + VALUE})))


# ----------------------------------------------- the full pipeline, end to end


class Capture:
    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.errors: list[Any] = []
        self.results: list[Any] = []

    @brokerport.hookimpl
    def brokerport_before_request(self, call: Any) -> None:
        self.calls.append(call)

    @brokerport.hookimpl
    def brokerport_after_response(self, call: Any, response: Any, result: Any) -> None:
        self.results.append((call, response, result))

    @brokerport.hookimpl
    def brokerport_on_error(self, call: Any, error: Any) -> None:
        self.errors.append((call, error))


async def test_debug_logs_hooks_and_errors_never_show_secrets(
    sandbox: FakexSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cap = Capture()
    errors: list[BaseException] = []
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[cap]) as client:
        # a successful signed write carrying sensitive params
        key = await client.keys.create(m.CreateApiKey(owner="o1", label="desk", passphrase=VALUE))
        assert isinstance(key.secret_key, Secret)
        await client.call("sub.create", name="abcd1", trade_password=VALUE)
        await client.call("account.get", account_id="acct1")
        # typed vendor errors
        with pytest.raises(brokerport.NotFound) as e1:
            await client.call("account.get", account_id="missing")
        errors.append(e1.value)
        with pytest.raises(brokerport.Conflict) as e2:
            await client.call("sub.create", name="abcd1", trade_password=VALUE)
        errors.append(e2.value)
        # an unknown outcome carrying reconcile data
        sandbox.faults.add("lost", "sub.create")
        with pytest.raises(brokerport.UnknownOutcome) as e3:
            await client.call("sub.create", name="abcd2", trade_password=VALUE)
        errors.append(e3.value)
        # request-side validation
        with pytest.raises(brokerport.InvalidRequest) as e4:
            await client.call("sub.create", name="NO", trade_password=VALUE)
        errors.append(e4.value)
        # a retried read that ends unavailable
        sandbox.faults.add("status", "account.get", times=-1)
        with pytest.raises(brokerport.VendorUnavailable) as e5:
            await client.call("account.get", account_id="acct1")
        errors.append(e5.value)
        sandbox.faults.clear()
        assert repr(client) and repr(client.signer) and repr(client.capabilities)
        for text in (repr(client), repr(client.signer), repr(client.profile)):
            assert_clean(text)

    signatures = {e.headers["X-FX-SIGN"] for e in sandbox.journal if "X-FX-SIGN" in e.headers}
    assert signatures, "the sandbox saw signed requests"
    # every signed request did carry the real credentials on the wire
    assert all(
        e.headers.get("X-FX-PASSPHRASE") == PASSPHRASE
        for e in sandbox.journal
        if e.endpoint != "ping"
    )

    # logs at DEBUG
    assert any(r.name == "brokerport.pipeline" for r in caplog.records), "pipeline logged"
    log_text = caplog.text + "\n".join(repr(r.args) + r.getMessage() for r in caplog.records)
    assert_clean(log_text, *signatures)

    # errors: message, str, repr, fields, reconcile data, traceback, pickle
    for err in errors:
        assert isinstance(err, brokerport.BrokerportError)
        text = " ".join(
            [
                str(err),
                repr(err),
                repr(vars(err)),
                "".join(traceback.format_exception(err)),
                repr(pickle.loads(pickle.dumps(err)).__dict__),
            ]
        )
        assert_clean(text, *signatures)
    unknown = errors[2]
    assert isinstance(unknown, brokerport.UnknownOutcome)
    assert unknown.reconcile_with["trade_password"] == REDACTED
    assert unknown.reconcile_with["name"] == "abcd2"

    # hook payloads
    assert cap.calls and cap.errors and cap.results
    for call in cap.calls:
        assert_clean(repr(call), *signatures)
        assert_clean(repr(call.redacted_params()))
        assert dict(call.credentials) == {
            "api_key": REDACTED,
            "secret_key": REDACTED,
            "passphrase": REDACTED,
        }
        assert_clean(repr(call.credentials))
        assert_clean(repr(call.headers), *signatures)
    key_calls = [c for c in cap.calls if c.endpoint.name == "key.create"]
    # hooks see a sensitive parameter as the redaction marker, not the Secret object
    assert key_calls[0].params["passphrase"] == REDACTED
    for call, response, result in cap.results:
        assert_clean(repr(call) + repr(response) + repr(result), *signatures)
    for call, error in cap.errors:
        assert_clean(repr(call) + repr(error) + str(error), *signatures)

    # the secrets never even reach the request line / query in logs
    assert SECRET_KEY not in caplog.text and API_KEY not in caplog.text


async def test_after_response_result_hides_minted_secret(sandbox: FakexSandbox) -> None:
    cap = Capture()
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY, hooks=[cap]) as client:
        key = await client.keys.create(m.CreateApiKey(owner="o1", label="desk"))
    assert key.secret_key is not None
    minted = key.secret_key.reveal()
    # the host itself still gets the real secret the vendor minted...
    assert minted == "fxsecret-NEWKEY-5ca1ab1e"
    # ...hooks do not
    ((_call, _response, result),) = cap.results
    assert minted not in repr(result)


async def test_sensitive_query_and_path_values_stay_out_of_debug_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from brokerport.catalog import Catalog, Endpoint, Param
    from brokerport.transport import MockTransport
    from fakex_vendor import ok_response

    class QueryToken(Fakex):
        name = "fakex"

        @classmethod
        def build_catalog(cls) -> Catalog:
            return Catalog(
                "fakex",
                [
                    Endpoint(
                        "t",
                        "GET",
                        "/t/{key_id}",
                        (
                            Param("key_id", "path", sensitive=True),
                            Param("token", "query", sensitive=True),
                            Param("page", "query"),
                        ),
                    ),
                ],
            )

    caplog.set_level(logging.DEBUG)
    transport = MockTransport(lambda r: ok_response({}))
    async with Client(QueryToken, fakex_profile(), transport=transport) as client:
        await client.call("t", key_id="KEYID-" + VALUE, token=Secret("TOK-" + VALUE), page=2)
    # the wire carries the values...
    sent = transport.requests[0].path_with_query
    assert "TOK-" + VALUE in sent and "KEYID-" in sent
    # ...the logs never do
    assert any("attempt=1" in r.getMessage() for r in caplog.records)
    assert_clean(caplog.text)
    assert "page" in caplog.text


def fakex_profile() -> Profile:
    from fakex_vendor import profile

    return profile()
