"""Vendor-neutral request and response models for every port operation.

Frozen, slotted attrs classes. Validators enforce the vendor-neutral rules
(money is a finite Decimal, never a float; required identifiers are
non-empty; datetimes are timezone-aware); vendor rules live in each plugin's
catalog and run before any I/O.

Request models (``REQUEST_MODELS``: what a host builds and passes to a
port) refuse bad input at construction, before any I/O, always with
:class:`~brokerport.errors.InvalidRequest` naming the field (``field=``): a
float or non-finite amount, a wrong type (checked against the annotation
where no validator says more), a missing or unknown argument. Response
models keep plain ``TypeError`` / ``ValueError``: a vendor answer they
refuse is a decode failure, not the host's mistake.

Response models keep the vendor's decoded object in ``raw`` (excluded from
equality and repr) for fields no port names.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

import attrs

from .errors import InvalidRequest
from .types import Secret, redact_payload

T = TypeVar("T")

#: Every request model (what a host builds and passes to a port), in definition order.
REQUEST_MODELS: list[type[Any]] = []


# ------------------------------------------------------------- validators


def _money(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise TypeError(
            f"{attribute.name} must be a Decimal (got {type(value).__name__}); "
            "money is never a float"
        )
    if not value.is_finite():
        raise ValueError(f"{attribute.name} must be a finite amount")


def _positive_money(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    _money(instance, attribute, value)
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be greater than zero")


def _nonempty(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be a non-empty string")


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise ValueError(f"{attribute.name} must be a timezone-aware datetime")


def _limit(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{attribute.name} must be a positive integer")


def _secret(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Secret):
        raise TypeError(f"{attribute.name} must be a brokerport.Secret")


def _ids(instance: Any, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    if not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{attribute.name} must hold at least one non-empty id")


def _to_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _opt_tuple(value: Any) -> tuple[Any, ...] | None:
    return None if value is None else _to_tuple(value)


def _to_secret(value: Any) -> Any:
    return Secret(value) if isinstance(value, str) else value


def _frozen_map(value: Any) -> Mapping[str, Any]:
    return dict(value or {})


def _raw_map(value: Any) -> Mapping[str, Any]:
    # the vendor's object, with credential fields (a minted secret key) redacted
    # (redact_payload copies a dict itself: no second copy of the common case)
    return redact_payload(value if type(value) is dict else dict(value or {}))  # type: ignore[no-any-return]


def raw_field() -> Any:
    return attrs.field(factory=dict, eq=False, repr=False, converter=_raw_map)


def extra_field() -> Any:
    """Vendor-specific request fields a port does not name (passed through)."""
    return attrs.field(factory=dict, converter=_frozen_map)


# ---------------------------------------------------- request model guard


def _type_test(tp: Any) -> Callable[[Any], bool] | None:
    """A test for values of the annotation ``tp``; None when anything goes."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any or isinstance(tp, TypeVar):
        return None
    if origin in (typing.Union, types.UnionType):
        tests = [_type_test(a) for a in args]
        if any(t is None for t in tests):
            return None
        return lambda v: any(t(v) for t in tests if t is not None)
    if tp is None or tp is type(None):
        return lambda v: v is None
    if origin is Literal:
        return lambda v: any(v == a and type(v) is type(a) for a in args)
    if tp is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _type_test(args[0])
            return lambda v: isinstance(v, tuple) and (item is None or all(item(x) for x in v))
        return lambda v: isinstance(v, tuple)
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        key, value = (_type_test(a) for a in args) if len(args) == 2 else (None, None)
        return lambda v: (
            isinstance(v, Mapping)
            and all((key is None or key(k)) and (value is None or value(x)) for k, x in v.items())
        )
    if isinstance(tp, type):
        return lambda v: isinstance(v, tp)
    return None


def _refusal(name: str, exc: Exception) -> InvalidRequest:
    text = str(exc)
    return InvalidRequest(text if name in text else f"{name}: {text}", field=name)


_UNSET: Any = object()


def _guarded_validator(cls: type, a: attrs.Attribute[Any]) -> Callable[..., None]:
    name, validator, annotation = a.name, a.validator, a.type
    test: Callable[[Any], bool] | None = _UNSET  # resolved on first use: names defined later

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        nonlocal test
        try:
            if validator is not None:
                validator(instance, attribute, value)
                return
            if test is _UNSET:
                test = _type_test(typing.get_type_hints(cls).get(name, Any))
            if test is not None and not test(value):
                raise TypeError(f"{name} must be {annotation} (got {type(value).__name__})")
        except InvalidRequest:
            raise
        except (TypeError, ValueError) as exc:
            raise _refusal(name, exc) from None

    check.guarded = True  # type: ignore[attr-defined]
    return check


def _guarded_converter(name: str, converter: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        try:
            return converter(value)
        except (TypeError, ValueError) as exc:
            raise _refusal(name, exc) from None

    return convert


def _guard(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """attrs field transformer of request models: every refusal is an InvalidRequest.

    Wraps each field's converter and validator so a TypeError / ValueError
    becomes InvalidRequest naming the field; a field without a validator is
    checked against its annotation.
    """
    out = []
    for a in fields:
        changes: dict[str, Any] = {"validator": _guarded_validator(cls, a)}
        converter: Any = a.converter
        if converter is not None:
            changes["converter"] = _guarded_converter(a.name, converter)
        out.append(a.evolve(**changes))
    return out


def _request(cls: type[T]) -> type[T]:
    """Register a request model; a wrong call (missing / unknown argument) is an InvalidRequest.

    Stacked on ``@attrs.frozen(kw_only=True, field_transformer=_guard)``.
    """
    fields = attrs.fields(typing.cast(Any, cls))
    if not all(getattr(a.validator, "guarded", False) for a in fields):
        raise TypeError(f"{cls.__name__}: a request model needs field_transformer=_guard")
    known = {a.alias for a in fields if a.init}
    required = [a.alias for a in fields if a.init and a.default is attrs.NOTHING]
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except TypeError as exc:  # fields raise InvalidRequest: this is the call itself
            field = next((k for k in kwargs if k not in known), None) or next(
                (r for r in required if r not in kwargs), None
            )
            raise InvalidRequest(f"{cls.__name__}: {exc}", field=field) from None

    cls.__init__ = __init__  # type: ignore[method-assign]
    REQUEST_MODELS.append(cls)
    return cls


# ----------------------------------------------------------------- common


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a listing. ``next_cursor`` is None on the last page."""

    items: tuple[T, ...] = attrs.field(converter=tuple)
    next_cursor: str | None = None
    total: int | None = None

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@attrs.frozen(kw_only=True)
class Ack:
    """The vendor accepted the operation; it returns nothing more."""

    ok: bool = True
    reference: str | None = None
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class PageQuery:
    cursor: str | None = None
    limit: int | None = attrs.field(default=None, validator=_limit)


# ---------------------------------------------------------------- accounts

Platform = Literal["MT4", "MT5", "cTrader", "securities", "other"]


@attrs.frozen(kw_only=True)
class Account:
    account_id: str
    user_id: str | None = None
    name: str | None = None
    currency: str | None = None
    platform: str | None = None
    server_id: str | None = None
    group: str | None = None
    leverage: int | None = None
    status: str | None = None
    is_demo: bool | None = None
    balance: Decimal | None = attrs.field(default=None, validator=_money)
    created_at: datetime | None = attrs.field(default=None, validator=_aware)
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class ListAccounts:
    user_ids: tuple[str, ...] = attrs.field(converter=_to_tuple, validator=_ids)
    is_demo: bool | None = None
    cursor: str | None = None
    limit: int | None = attrs.field(default=None, validator=_limit)


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class GetAccount:
    account_id: str = attrs.field(validator=_nonempty)
    server_id: str | None = None
    platform: str | None = None


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class OpenAccount:
    user_id: str = attrs.field(validator=_nonempty)
    server_id: str | None = None
    platform: str | None = None
    currency: str | None = None
    leverage: int | None = None
    group: str | None = None
    password: Secret | None = attrs.field(default=None, converter=_to_secret, validator=_secret)
    extra: Mapping[str, Any] = extra_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class OpenDemoAccount:
    user_id: str = attrs.field(validator=_nonempty)
    server_id: str | None = None
    platform: str | None = None
    currency: str | None = None
    leverage: int | None = None
    phone: str | None = None
    verification_code: str | None = None
    balance: Decimal | None = attrs.field(default=None, validator=_money)
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class AccountApplication:
    application_id: str | None = None
    account_id: str | None = None
    status: str | None = None
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class UpdateProfile:
    user_id: str = attrs.field(validator=_nonempty)
    #: Which part of the owner's profile: "base", "finance", "certificate", ...
    section: str = attrs.field(default="base", validator=_nonempty)
    fields: Mapping[str, Any] = extra_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class GetLeverage:
    account_id: str = attrs.field(validator=_nonempty)


@attrs.frozen(kw_only=True)
class Leverage:
    account_id: str
    current: int | None = None
    available: tuple[int, ...] = ()
    status: str | None = None
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class SetLeverage:
    account_id: str = attrs.field(validator=_nonempty)
    leverage: int = attrs.field(validator=_limit)


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class SetTradePassword:
    account_id: str = attrs.field(validator=_nonempty)
    new_password: Secret = attrs.field(converter=_to_secret, validator=_secret)
    old_password: Secret | None = attrs.field(default=None, converter=_to_secret, validator=_secret)
    #: "trade" or "observe" (read-only investor password)
    kind: Literal["trade", "observe"] = "trade"


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class GetTradePermissions:
    account_id: str = attrs.field(validator=_nonempty)


@attrs.frozen(kw_only=True)
class TradePermissions:
    account_id: str
    permissions: Mapping[str, bool] = attrs.field(factory=dict, converter=_frozen_map)
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class UpdateTradePermissions:
    account_id: str = attrs.field(validator=_nonempty)
    #: Applied atomically: all or none.
    changes: Mapping[str, bool] = attrs.field(factory=dict, converter=_frozen_map)


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class SetAccountState:
    account_id: str = attrs.field(validator=_nonempty)
    state: Literal["active", "disabled", "frozen"] = "disabled"
    reason: str | None = None


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class CloseAccount:
    account_id: str = attrs.field(validator=_nonempty)
    reason: str | None = None


# ----------------------------------------------------------------- funding


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class GetBalances:
    account_id: str = attrs.field(validator=_nonempty)
    currency: str | None = None
    server_id: str | None = None
    platform: str | None = None


@attrs.frozen(kw_only=True)
class Balance:
    currency: str
    total: Decimal = attrs.field(validator=_money)
    available: Decimal | None = attrs.field(default=None, validator=_money)
    credit: Decimal | None = attrs.field(default=None, validator=_money)
    equity: Decimal | None = attrs.field(default=None, validator=_money)
    margin_free: Decimal | None = attrs.field(default=None, validator=_money)
    floating_pnl: Decimal | None = attrs.field(default=None, validator=_money)
    account_id: str | None = None
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class DepositRequest:
    account_id: str = attrs.field(validator=_nonempty)
    amount: Decimal = attrs.field(validator=_positive_money)
    #: The account's currency (the amount is in it).
    currency: str | None = None
    #: The currency the payer pays in, when the vendor converts.
    pay_currency: str | None = None
    user_id: str | None = None
    server_id: str | None = None
    platform: str | None = None
    comment: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class DepositTicket:
    deposit_id: str
    account_id: str | None = None
    status: str | None = None
    amount: Decimal | None = attrs.field(default=None, validator=_money)
    currency: str | None = None
    pay_amount: Decimal | None = attrs.field(default=None, validator=_money)
    pay_currency: str | None = None
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class DepositConfirmation:
    deposit_id: str = attrs.field(validator=_nonempty)
    #: The payment processor's order / receipt reference.
    payment_reference: str = attrs.field(validator=_nonempty)
    pay_amount: Decimal = attrs.field(validator=_positive_money)
    pay_currency: str = attrs.field(validator=_nonempty)
    platform: str | None = None
    receipt_url: str | None = None


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class CancelDeposit:
    deposit_id: str = attrs.field(validator=_nonempty)
    reason: str | None = None


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class Payee:
    """Where a withdrawal goes: a bank account, card or wallet."""

    name: str = attrs.field(validator=_nonempty)
    account_number: str = attrs.field(validator=_nonempty)
    bank_name: str | None = None
    branch: str | None = None
    swift: str | None = None
    payee_id: str | None = None
    currency: str | None = None
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class WithdrawalRequest:
    account_id: str = attrs.field(validator=_nonempty)
    amount: Decimal = attrs.field(validator=_positive_money)
    currency: str = attrs.field(validator=_nonempty)
    pay_currency: str | None = None
    payee: Payee | None = None
    user_id: str | None = None
    server_id: str | None = None
    comment: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class WithdrawalTicket:
    withdrawal_id: str | None = None
    account_id: str | None = None
    status: str | None = None
    amount: Decimal | None = attrs.field(default=None, validator=_money)
    currency: str | None = None
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class CancelWithdrawal:
    withdrawal_id: str = attrs.field(validator=_nonempty)


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class TransferRequest:
    from_account: str = attrs.field(validator=_nonempty)
    to_account: str = attrs.field(validator=_nonempty)
    amount: Decimal = attrs.field(validator=_positive_money)
    currency: str | None = None
    user_id: str | None = None
    comment: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class TransferResult:
    transfer_id: str | None = None
    status: str | None = None
    amount: Decimal | None = attrs.field(default=None, validator=_money)
    currency: str | None = None
    raw: Mapping[str, Any] = raw_field()


FundingKind = Literal["deposit", "withdrawal", "transfer_in", "transfer_out", "adjustment", "other"]


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class FundingHistoryQuery:
    account_id: str | None = None
    user_id: str | None = None
    currency: str | None = None
    status: str | None = None
    start: datetime | None = attrs.field(default=None, validator=_aware)
    end: datetime | None = attrs.field(default=None, validator=_aware)
    cursor: str | None = None
    limit: int | None = attrs.field(default=None, validator=_limit)
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class FundingRecord:
    record_id: str
    kind: str
    amount: Decimal = attrs.field(validator=_money)
    currency: str | None = None
    status: str | None = None
    account_id: str | None = None
    created_at: datetime | None = attrs.field(default=None, validator=_aware)
    tx_id: str | None = None
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class CreateDepositAddress:
    account_id: str = attrs.field(validator=_nonempty)
    currency: str = attrs.field(validator=_nonempty)
    chain: str | None = None
    #: Where deposits land (vendor-specific account type).
    destination: str | None = None
    extra: Mapping[str, Any] = extra_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class UpdateDepositAddress:
    account_id: str = attrs.field(validator=_nonempty)
    currency: str = attrs.field(validator=_nonempty)
    address: str = attrs.field(validator=_nonempty)
    chain: str | None = None
    destination: str | None = None
    extra: Mapping[str, Any] = extra_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class ListDepositAddresses:
    account_id: str = attrs.field(validator=_nonempty)
    currency: str = attrs.field(validator=_nonempty)


@attrs.frozen(kw_only=True)
class DepositAddress:
    address: str
    currency: str
    chain: str | None = None
    tag: str | None = None
    destination: str | None = None
    account_id: str | None = None
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class ListPayees:
    user_id: str | None = None
    account_id: str | None = None


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class AddPayee:
    payee: Payee
    user_id: str | None = None


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class UpdatePayee:
    payee: Payee
    user_id: str | None = None


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class DeletePayee:
    payee_id: str = attrs.field(validator=_nonempty)
    user_id: str | None = None


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class ExchangeRateQuery:
    base: str = attrs.field(validator=_nonempty)
    quote: str = attrs.field(validator=_nonempty)


@attrs.frozen(kw_only=True)
class ExchangeRate:
    base: str
    quote: str
    rate: Decimal = attrs.field(validator=_money)
    as_of: datetime | None = attrs.field(default=None, validator=_aware)
    raw: Mapping[str, Any] = raw_field()


# ----------------------------------------------------------------- trading

Side = Literal["buy", "sell"]


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class PlaceOrder:
    instrument: str = attrs.field(validator=_nonempty)
    side: Side = attrs.field(validator=attrs.validators.in_(("buy", "sell")))
    order_type: str = attrs.field(validator=_nonempty)
    quantity: Decimal = attrs.field(validator=_positive_money)
    price: Decimal | None = attrs.field(default=None, validator=_positive_money)
    client_order_id: str | None = None
    account_id: str | None = None
    time_in_force: str | None = None
    #: Vendor fields without a port name (OKX tdMode, Whale market, ...).
    extra: Mapping[str, Any] = extra_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class AmendOrder:
    instrument: str = attrs.field(validator=_nonempty)
    order_id: str | None = None
    client_order_id: str | None = None
    new_quantity: Decimal | None = attrs.field(default=None, validator=_positive_money)
    new_price: Decimal | None = attrs.field(default=None, validator=_positive_money)
    extra: Mapping[str, Any] = extra_field()

    def __attrs_post_init__(self) -> None:
        if not (self.order_id or self.client_order_id):
            raise InvalidRequest("order_id or client_order_id is required", field="order_id")
        if self.new_quantity is None and self.new_price is None:
            raise InvalidRequest(
                "nothing to amend: give new_quantity or new_price", field="new_quantity"
            )


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class OrderRef:
    """Names one order: by the vendor's id or the client's."""

    instrument: str = attrs.field(validator=_nonempty)
    order_id: str | None = None
    client_order_id: str | None = None
    account_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if not (self.order_id or self.client_order_id):
            raise InvalidRequest("order_id or client_order_id is required", field="order_id")


CancelOrder = OrderRef
GetOrder = OrderRef


@attrs.frozen(kw_only=True)
class OrderAck:
    order_id: str | None = None
    client_order_id: str | None = None
    tag: str | None = None
    status: str | None = None
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class Order:
    order_id: str
    instrument: str | None = None
    side: str | None = None
    order_type: str | None = None
    quantity: Decimal | None = attrs.field(default=None, validator=_money)
    price: Decimal | None = attrs.field(default=None, validator=_money)
    filled_quantity: Decimal | None = attrs.field(default=None, validator=_money)
    average_price: Decimal | None = attrs.field(default=None, validator=_money)
    status: str | None = None
    client_order_id: str | None = None
    tag: str | None = None
    account_id: str | None = None
    profit: Decimal | None = attrs.field(default=None, validator=_money)
    created_at: datetime | None = attrs.field(default=None, validator=_aware)
    updated_at: datetime | None = attrs.field(default=None, validator=_aware)
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class OrderQuery:
    account_id: str | None = None
    instrument: str | None = None
    start: datetime | None = attrs.field(default=None, validator=_aware)
    end: datetime | None = attrs.field(default=None, validator=_aware)
    cursor: str | None = None
    limit: int | None = attrs.field(default=None, validator=_limit)
    server_id: str | None = None
    platform: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Fill:
    fill_id: str
    order_id: str | None = None
    instrument: str | None = None
    side: str | None = None
    quantity: Decimal = attrs.field(default=Decimal(0), validator=_money)
    price: Decimal = attrs.field(default=Decimal(0), validator=_money)
    fee: Decimal | None = attrs.field(default=None, validator=_money)
    fee_currency: str | None = None
    filled_at: datetime | None = attrs.field(default=None, validator=_aware)
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class PositionQuery:
    account_id: str = attrs.field(validator=_nonempty)
    instrument: str | None = None
    cursor: str | None = None
    limit: int | None = attrs.field(default=None, validator=_limit)
    server_id: str | None = None
    platform: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Position:
    instrument: str
    quantity: Decimal = attrs.field(validator=_money)
    side: str | None = None
    position_id: str | None = None
    account_id: str | None = None
    average_price: Decimal | None = attrs.field(default=None, validator=_money)
    market_value: Decimal | None = attrs.field(default=None, validator=_money)
    unrealized_pnl: Decimal | None = attrs.field(default=None, validator=_money)
    opened_at: datetime | None = attrs.field(default=None, validator=_aware)
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class BuyingPowerQuery:
    account_id: str = attrs.field(validator=_nonempty)
    instrument: str | None = None
    price: Decimal | None = attrs.field(default=None, validator=_positive_money)
    side: Side | None = None


@attrs.frozen(kw_only=True)
class BuyingPower:
    account_id: str
    currency: str | None = None
    buying_power: Decimal | None = attrs.field(default=None, validator=_money)
    max_quantity: Decimal | None = attrs.field(default=None, validator=_money)
    raw: Mapping[str, Any] = raw_field()


# ------------------------------------------------------------- sub-accounts


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class CreateSubAccount:
    name: str = attrs.field(validator=_nonempty)
    label: str | None = None
    extra: Mapping[str, Any] = extra_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class SubAccountRef:
    name: str = attrs.field(validator=_nonempty)


DeleteSubAccount = SubAccountRef


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class ListSubAccounts:
    name: str | None = None
    cursor: str | None = None
    limit: int | None = attrs.field(default=None, validator=_limit)


@attrs.frozen(kw_only=True)
class SubAccount:
    name: str
    label: str | None = None
    account_id: str | None = None
    level: str | None = None
    status: str | None = None
    created_at: datetime | None = attrs.field(default=None, validator=_aware)
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class SetSubAccountLevel:
    name: str = attrs.field(validator=_nonempty)
    level: int


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class FeeRateQuery:
    instrument_type: str = attrs.field(validator=_nonempty)
    name: str | None = None
    instrument: str | None = None
    cursor: str | None = None
    limit: int | None = attrs.field(default=None, validator=_limit)
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class FeeRate:
    name: str | None
    instrument_type: str
    maker: Decimal | None = attrs.field(default=None, validator=_money)
    taker: Decimal | None = attrs.field(default=None, validator=_money)
    level: str | None = None
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class ReportLoginIp:
    name: str = attrs.field(validator=_nonempty)
    ip: str = attrs.field(validator=_nonempty)
    extra: Mapping[str, Any] = extra_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class SetDemoAssets:
    name: str = attrs.field(validator=_nonempty)
    currencies: tuple[str, ...] = attrs.field(converter=_to_tuple)


# -------------------------------------------------------------------- keys

Permission = Literal["read", "trade", "withdraw"]


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class CreateApiKey:
    owner: str = attrs.field(validator=_nonempty)
    label: str = attrs.field(validator=_nonempty)
    passphrase: Secret | None = attrs.field(default=None, converter=_to_secret, validator=_secret)
    permissions: tuple[str, ...] = attrs.field(default=("read",), converter=_to_tuple)
    ips: tuple[str, ...] = attrs.field(default=(), converter=_to_tuple)


@attrs.frozen(kw_only=True)
class ApiKey:
    api_key: str
    owner: str | None = None
    label: str | None = None
    permissions: tuple[str, ...] = attrs.field(default=(), converter=_to_tuple)
    ips: tuple[str, ...] = attrs.field(default=(), converter=_to_tuple)
    enabled: bool | None = None
    created_at: datetime | None = attrs.field(default=None, validator=_aware)
    #: Only present when the key is created; never shown in repr.
    secret_key: Secret | None = attrs.field(
        default=None, converter=_to_secret, validator=_secret, eq=False
    )
    raw: Mapping[str, Any] = raw_field()


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class ListApiKeys:
    owner: str = attrs.field(validator=_nonempty)
    api_key: str | None = None


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class UpdateApiKey:
    owner: str = attrs.field(validator=_nonempty)
    api_key: str = attrs.field(validator=_nonempty)
    label: str | None = None
    permissions: tuple[str, ...] | None = attrs.field(default=None, converter=_opt_tuple)
    ips: tuple[str, ...] | None = attrs.field(default=None, converter=_opt_tuple)


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class ApiKeyRef:
    owner: str = attrs.field(validator=_nonempty)
    api_key: str = attrs.field(validator=_nonempty)


DeleteApiKey = ApiKeyRef


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class RenewToken:
    refresh_token: Secret | None = attrs.field(
        default=None, converter=_to_secret, validator=_secret
    )


@attrs.frozen(kw_only=True)
class SessionToken:
    access_token: Secret = attrs.field(converter=_to_secret, validator=_secret)
    refresh_token: Secret | None = attrs.field(
        default=None, converter=_to_secret, validator=_secret
    )
    expires_at: datetime | None = attrs.field(default=None, validator=_aware)
    raw: Mapping[str, Any] = raw_field()


# ----------------------------------------------------------------- streams

#: The vendor-neutral order statuses an :class:`OrderEvent` carries.
ORDER_STATUSES = (
    "pending",
    "live",
    "partially_filled",
    "filled",
    "cancelled",
    "rejected",
    "expired",
)
#: Statuses after which an order never changes again.
FINAL_ORDER_STATUSES = frozenset({"filled", "cancelled", "rejected", "expired"})


@_request
@attrs.frozen(kw_only=True, field_transformer=_guard)
class OrderStreamQuery:
    """Which orders ``client.streams.orders(...)`` follows: every order of the
    account (the default), or one instrument type / instrument where the vendor
    filters (OKX ``instType`` / ``instId``)."""

    instrument_type: str | None = attrs.field(default=None, validator=_nonempty)
    instrument: str | None = attrs.field(default=None, validator=_nonempty)
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class OrderEvent:
    """An order's state as the vendor pushed it (or as a resync read it).

    ``version`` orders the states of one order (the stream yields each
    ``(order_id, version)`` once, never an older one after a newer);
    ``source`` is ``"push"`` or ``"resync"`` (read over REST after a reconnect).
    """

    order_id: str
    status: str = attrs.field(validator=attrs.validators.in_(ORDER_STATUSES))
    at: datetime = attrs.field(validator=_aware)
    client_order_id: str | None = None
    filled_quantity: Decimal = attrs.field(default=Decimal(0), validator=_money)
    remaining_quantity: Decimal | None = attrs.field(default=None, validator=_money)
    average_price: Decimal | None = attrs.field(default=None, validator=_money)
    instrument: str | None = None
    side: str | None = None
    quantity: Decimal | None = attrs.field(default=None, validator=_money)
    price: Decimal | None = attrs.field(default=None, validator=_money)
    version: tuple[Any, ...] = ()
    source: str = "push"
    vendor_status: str | None = None
    raw: Mapping[str, Any] = raw_field()

    @property
    def final(self) -> bool:
        return self.status in FINAL_ORDER_STATUSES


@typing.runtime_checkable
class OrderEvents(typing.Protocol):
    """What ``client.streams.orders(...)`` returns (a
    :class:`brokerport.streams.OrderStream`): ``async for event in stream``; ``await
    stream.ready()`` waits until it is subscribed; ``async with`` / ``aclose()``."""

    def __aiter__(self) -> OrderEvents: ...

    async def __anext__(self) -> OrderEvent: ...

    async def ready(self) -> OrderEvents: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> OrderEvents: ...

    async def __aexit__(
        self,
        et: type[BaseException] | None,
        e: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None: ...
