"""Vendor-neutral request and response models for every port operation.

Frozen, slotted attrs classes. Validators enforce the vendor-neutral rules
(money is a finite Decimal, never a float; required identifiers are
non-empty; datetimes are timezone-aware); vendor rules live in each plugin's
catalog and run before any I/O.

Response models keep the vendor's decoded object in ``raw`` (excluded from
equality and repr) for fields no port names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

import attrs

from .types import Secret, redact_payload

T = TypeVar("T")


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
    return redact_payload(dict(value or {}))  # type: ignore[no-any-return]


def raw_field() -> Any:
    return attrs.field(factory=dict, eq=False, repr=False, converter=_raw_map)


def extra_field() -> Any:
    """Vendor-specific request fields a port does not name (passed through)."""
    return attrs.field(factory=dict, converter=_frozen_map)


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


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class ListAccounts:
    user_ids: tuple[str, ...] = attrs.field(converter=_to_tuple, validator=_ids)
    is_demo: bool | None = None
    cursor: str | None = None
    limit: int | None = attrs.field(default=None, validator=_limit)


@attrs.frozen(kw_only=True)
class GetAccount:
    account_id: str = attrs.field(validator=_nonempty)
    server_id: str | None = None
    platform: str | None = None


@attrs.frozen(kw_only=True)
class OpenAccount:
    user_id: str = attrs.field(validator=_nonempty)
    server_id: str | None = None
    platform: str | None = None
    currency: str | None = None
    leverage: int | None = None
    group: str | None = None
    password: Secret | None = attrs.field(default=None, converter=_to_secret, validator=_secret)
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class UpdateProfile:
    user_id: str = attrs.field(validator=_nonempty)
    #: Which part of the owner's profile: "base", "finance", "certificate", ...
    section: str = attrs.field(default="base", validator=_nonempty)
    fields: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class GetLeverage:
    account_id: str = attrs.field(validator=_nonempty)


@attrs.frozen(kw_only=True)
class Leverage:
    account_id: str
    current: int | None = None
    available: tuple[int, ...] = ()
    status: str | None = None
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class SetLeverage:
    account_id: str = attrs.field(validator=_nonempty)
    leverage: int = attrs.field(validator=_limit)


@attrs.frozen(kw_only=True)
class SetTradePassword:
    account_id: str = attrs.field(validator=_nonempty)
    new_password: Secret = attrs.field(converter=_to_secret, validator=_secret)
    old_password: Secret | None = attrs.field(default=None, converter=_to_secret, validator=_secret)
    #: "trade" or "observe" (read-only investor password)
    kind: Literal["trade", "observe"] = "trade"


@attrs.frozen(kw_only=True)
class GetTradePermissions:
    account_id: str = attrs.field(validator=_nonempty)


@attrs.frozen(kw_only=True)
class TradePermissions:
    account_id: str
    permissions: Mapping[str, bool] = attrs.field(factory=dict, converter=_frozen_map)
    raw: Mapping[str, Any] = raw_field()


@attrs.frozen(kw_only=True)
class UpdateTradePermissions:
    account_id: str = attrs.field(validator=_nonempty)
    #: Applied atomically: all or none.
    changes: Mapping[str, bool] = attrs.field(factory=dict, converter=_frozen_map)


@attrs.frozen(kw_only=True)
class SetAccountState:
    account_id: str = attrs.field(validator=_nonempty)
    state: Literal["active", "disabled", "frozen"] = "disabled"
    reason: str | None = None


@attrs.frozen(kw_only=True)
class CloseAccount:
    account_id: str = attrs.field(validator=_nonempty)
    reason: str | None = None


# ----------------------------------------------------------------- funding


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class DepositConfirmation:
    deposit_id: str = attrs.field(validator=_nonempty)
    #: The payment processor's order / receipt reference.
    payment_reference: str = attrs.field(validator=_nonempty)
    pay_amount: Decimal = attrs.field(validator=_positive_money)
    pay_currency: str = attrs.field(validator=_nonempty)
    platform: str | None = None
    receipt_url: str | None = None


@attrs.frozen(kw_only=True)
class CancelDeposit:
    deposit_id: str = attrs.field(validator=_nonempty)
    reason: str | None = None


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class CancelWithdrawal:
    withdrawal_id: str = attrs.field(validator=_nonempty)


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class CreateDepositAddress:
    account_id: str = attrs.field(validator=_nonempty)
    currency: str = attrs.field(validator=_nonempty)
    chain: str | None = None
    #: Where deposits land (vendor-specific account type).
    destination: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class UpdateDepositAddress:
    account_id: str = attrs.field(validator=_nonempty)
    currency: str = attrs.field(validator=_nonempty)
    address: str = attrs.field(validator=_nonempty)
    chain: str | None = None
    destination: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class ListPayees:
    user_id: str | None = None
    account_id: str | None = None


@attrs.frozen(kw_only=True)
class AddPayee:
    payee: Payee
    user_id: str | None = None


@attrs.frozen(kw_only=True)
class UpdatePayee:
    payee: Payee
    user_id: str | None = None


@attrs.frozen(kw_only=True)
class DeletePayee:
    payee_id: str = attrs.field(validator=_nonempty)
    user_id: str | None = None


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class AmendOrder:
    instrument: str = attrs.field(validator=_nonempty)
    order_id: str | None = None
    client_order_id: str | None = None
    new_quantity: Decimal | None = attrs.field(default=None, validator=_positive_money)
    new_price: Decimal | None = attrs.field(default=None, validator=_positive_money)
    extra: Mapping[str, Any] = extra_field()

    def __attrs_post_init__(self) -> None:
        if not (self.order_id or self.client_order_id):
            raise ValueError("order_id or client_order_id is required")
        if self.new_quantity is None and self.new_price is None:
            raise ValueError("nothing to amend: give new_quantity or new_price")


@attrs.frozen(kw_only=True)
class OrderRef:
    """Names one order: by the vendor's id or the client's."""

    instrument: str = attrs.field(validator=_nonempty)
    order_id: str | None = None
    client_order_id: str | None = None
    account_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if not (self.order_id or self.client_order_id):
            raise ValueError("order_id or client_order_id is required")


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


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class CreateSubAccount:
    name: str = attrs.field(validator=_nonempty)
    label: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class SubAccountRef:
    name: str = attrs.field(validator=_nonempty)


DeleteSubAccount = SubAccountRef


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class SetSubAccountLevel:
    name: str = attrs.field(validator=_nonempty)
    level: int


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class ReportLoginIp:
    name: str = attrs.field(validator=_nonempty)
    ip: str = attrs.field(validator=_nonempty)
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class SetDemoAssets:
    name: str = attrs.field(validator=_nonempty)
    currencies: tuple[str, ...] = attrs.field(converter=_to_tuple)


# -------------------------------------------------------------------- keys

Permission = Literal["read", "trade", "withdraw"]


@attrs.frozen(kw_only=True)
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


@attrs.frozen(kw_only=True)
class ListApiKeys:
    owner: str = attrs.field(validator=_nonempty)
    api_key: str | None = None


@attrs.frozen(kw_only=True)
class UpdateApiKey:
    owner: str = attrs.field(validator=_nonempty)
    api_key: str = attrs.field(validator=_nonempty)
    label: str | None = None
    permissions: tuple[str, ...] | None = attrs.field(default=None, converter=_opt_tuple)
    ips: tuple[str, ...] | None = attrs.field(default=None, converter=_opt_tuple)


@attrs.frozen(kw_only=True)
class ApiKeyRef:
    owner: str = attrs.field(validator=_nonempty)
    api_key: str = attrs.field(validator=_nonempty)


DeleteApiKey = ApiKeyRef


@attrs.frozen(kw_only=True)
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
