"""Bad input to any request model is an InvalidRequest naming the field, at construction.

Parametrized over every class in ``brokerport.models.REQUEST_MODELS``: each
field gets values of the wrong kind for its annotation (a float where a
Decimal goes, a wrong type, a non-finite amount, a naive datetime, ...).
"""

from __future__ import annotations

import inspect
import pickle
import types
import typing
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import attrs
import pytest
from brokerport import InvalidRequest, Secret
from brokerport import models as m
from brokerport import ports as p
from brokerport.errors import BrokerportError

AWARE = datetime(2024, 1, 1, tzinfo=UTC)
NAIVE = datetime(2024, 1, 1)


def _non_none(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _valid(tp: Any) -> Any:
    tp = _non_none(tp)
    origin = typing.get_origin(tp)
    if origin is Literal:
        return typing.get_args(tp)[0]
    if origin is tuple:
        return ("a1",)
    if origin is not None and issubclass(origin, Mapping):
        return {}
    if tp is str:
        return "a1"
    if tp is int:
        return 2
    if tp is bool:
        return True
    if tp is Decimal:
        return Decimal("1.5")
    if tp is datetime:
        return AWARE
    if tp is Secret:
        return Secret("s3cret")
    if tp is m.Payee:
        return m.Payee(name="n", account_number="1")
    raise AssertionError(f"no valid value for {tp!r}")


def _bad(tp: Any, positive: bool = False) -> list[Any]:
    """Values the annotation ``tp`` must refuse (``positive``: an int that must be >= 1)."""
    tp = _non_none(tp)
    origin = typing.get_origin(tp)
    if origin is Literal:
        return ["not-one-of-them", 1]
    if origin is tuple:
        return [5, [1, 2], ("a", None)]
    if origin is not None and issubclass(origin, Mapping):
        return [5, "ab", {1: True}]
    if tp is str:
        return [5, 1.5, b"bytes", object()]
    if tp is int:
        bad: list[Any] = ["1", 1.5, True, Decimal("1")]
        return [*bad, 0, -1] if positive else bad
    if tp is bool:
        return ["yes", 2]
    if tp is Decimal:
        return [1.5, 10.0, 1, "1.5", True, Decimal("NaN"), Decimal("Infinity"), Decimal("-Inf")]
    if tp is datetime:
        return [NAIVE, "2024-01-01T00:00:00Z", 1704067200]
    if tp is Secret:
        return [12345, b"bytes"]
    if tp is m.Payee:
        return ["payee", {"name": "n"}]
    raise AssertionError(f"no bad values for {tp!r}")


def _baseline(cls: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {a.alias: _valid(hints[a.name]) for a in attrs.fields(cls) if a.init}


def _cases() -> Iterator[Any]:
    for cls in m.REQUEST_MODELS:
        hints = typing.get_type_hints(cls)
        for a in attrs.fields(cls):
            positive = a.name == "limit" or (cls is m.SetLeverage and a.name == "leverage")
            for value in _bad(hints[a.name], positive):
                yield pytest.param(cls, a.alias, value, id=f"{cls.__name__}.{a.name}={value!r}")


def test_every_port_input_is_a_request_model() -> None:
    inputs = set()
    for _, port in inspect.getmembers(p, inspect.isclass):
        for _, fn in inspect.getmembers(port, inspect.iscoroutinefunction):
            # ports.py imports the models for type checking only (lean start-up)
            hint = typing.get_type_hints(fn, globalns={**vars(p), "m": m}).get("request")
            if hint is not None:
                inputs.add(hint)
    assert inputs, "found the ports' request types"
    assert inputs <= set(m.REQUEST_MODELS), inputs - set(m.REQUEST_MODELS)
    assert m.Payee in m.REQUEST_MODELS and m.PageQuery in m.REQUEST_MODELS
    assert not any(attrs.has(c) and "raw" in attrs.fields_dict(c) for c in inputs)


@pytest.mark.parametrize("cls", m.REQUEST_MODELS, ids=lambda c: c.__name__)
def test_every_request_model_accepts_valid_input(cls: type[Any]) -> None:
    obj = cls(**_baseline(cls))
    assert attrs.evolve(obj) == obj


@pytest.mark.parametrize(("cls", "field", "value"), list(_cases()))
def test_bad_field_is_invalid_request(cls: type[Any], field: str, value: Any) -> None:
    kwargs = {**_baseline(cls), field: value}
    with pytest.raises(InvalidRequest) as info:
        cls(**kwargs)
    err = info.value
    assert err.field == field
    assert field in str(err)
    assert isinstance(err, BrokerportError) and isinstance(err, ValueError)
    assert not isinstance(err, TypeError)


@pytest.mark.parametrize("cls", m.REQUEST_MODELS, ids=lambda c: c.__name__)
def test_wrong_call_is_invalid_request(cls: type[Any]) -> None:
    base = _baseline(cls)
    with pytest.raises(InvalidRequest) as unknown:
        cls(**base, no_such_field=1)
    assert unknown.value.field == "no_such_field"
    required = [a.alias for a in attrs.fields(cls) if a.init and a.default is attrs.NOTHING]
    for name in required:
        with pytest.raises(InvalidRequest) as missing:
            cls(**{k: v for k, v in base.items() if k != name})
        assert missing.value.field == name
    with pytest.raises(InvalidRequest):
        cls("positional", **base)


def test_empty_required_strings_and_cross_field_rules() -> None:
    with pytest.raises(InvalidRequest) as e1:
        m.GetAccount(account_id="  ")
    assert e1.value.field == "account_id"
    with pytest.raises(InvalidRequest) as e2:
        m.ListAccounts(user_ids=())
    assert e2.value.field == "user_ids"
    with pytest.raises(InvalidRequest) as e3:
        m.OrderRef(instrument="BTC-USD")
    assert e3.value.field == "order_id"
    with pytest.raises(InvalidRequest) as e4:
        m.AmendOrder(instrument="BTC-USD", order_id="1")
    assert e4.value.field == "new_quantity"
    with pytest.raises(InvalidRequest) as e5:
        m.DepositRequest(account_id="a", amount=Decimal("0"))
    assert e5.value.field == "amount" and "greater than zero" in str(e5.value)
    with pytest.raises(InvalidRequest) as e6:
        m.WithdrawalRequest(account_id="a", amount=Decimal("1"), currency="USD", payee="x")  # type: ignore[arg-type]
    assert e6.value.field == "payee"


def test_refusal_pickles_and_never_shows_a_secret_value() -> None:
    with pytest.raises(InvalidRequest) as info:
        m.SetTradePassword(account_id="a", new_password=b"hunter2-bytes")
    err = info.value
    assert err.field == "new_password" and "hunter2" not in str(err) + repr(err)
    again = pickle.loads(pickle.dumps(err))
    assert isinstance(again, InvalidRequest) and again.field == "new_password"


def test_response_models_keep_plain_errors() -> None:
    # a vendor answer a model refuses is a decode failure, not the host's mistake
    with pytest.raises(TypeError) as e1:
        m.Balance(currency="USD", total=1.5)  # type: ignore[arg-type]
    assert not isinstance(e1.value, InvalidRequest)
    with pytest.raises(ValueError) as e2:
        m.Account(account_id="a", created_at=NAIVE)
    assert not isinstance(e2.value, InvalidRequest)
