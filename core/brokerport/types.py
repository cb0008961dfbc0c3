"""Small value types shared by the core and plugins: Secret, money, UTC times."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NoReturn

__all__ = [
    "REDACTED",
    "Secret",
    "as_utc",
    "decimal_places",
    "format_money",
    "parse_decimal",
    "redact_payload",
    "utc_from_ms",
    "utcnow",
]

REDACTED: Final = "***"


class Secret:
    """A credential whose value never shows in repr, str, format, pickles or logs.

    Call :meth:`reveal` at the one place the value is needed (a signer, the
    body serializer). ``attrs.asdict`` leaves a Secret as the object itself
    (still redacted), and every brokerport cattrs converter unstructures it to
    ``"***"``.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value._value
        if not isinstance(value, str):
            raise TypeError("Secret takes a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


#: Field names (compared lower-case, without ``_`` and ``-``) whose values are
#: credentials wherever they appear in a vendor payload.
SENSITIVE_FIELDS: Final = frozenset(
    {
        "secret",
        "secretkey",
        "apisecret",
        "clientsecret",
        "passphrase",
        "password",
        "newpassword",
        "oldpassword",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "privatekey",
        "signature",
        "sign",
    }
)


def _norm(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def redact_payload(value: Any, extra: frozenset[str] = frozenset()) -> Any:
    """A copy of decoded vendor data with credential fields replaced by ``"***"``."""
    if isinstance(value, dict):
        names = SENSITIVE_FIELDS | extra if extra else SENSITIVE_FIELDS
        return {
            k: REDACTED
            if (isinstance(k, str) and _norm(k) in names and v not in (None, ""))
            else redact_payload(v, extra)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_payload(v, extra) for v in value]
    return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A timezone-aware UTC datetime; naive values are rejected, not guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: brokerport needs timezone-aware datetimes")
    return value.astimezone(UTC)


def utc_from_ms(ms: int | str | Decimal) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def parse_decimal(value: Any) -> Decimal:
    """Decimal from a wire value (str, int, Decimal). Floats are refused."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or "_" in value:
            raise ValueError(f"not a decimal number: {value!r}") from None
        return number
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str or Decimal")
    raise TypeError(f"cannot read {type(value).__name__} as a decimal amount")


def decimal_places(value: Decimal) -> int:
    exp = value.normalize().as_tuple().exponent
    return -exp if isinstance(exp, int) and exp < 0 else 0


def format_money(value: Decimal, places: int) -> str:
    """Exactly ``places`` decimals; raises ValueError rather than round."""
    if decimal_places(value) > places:
        raise ValueError(f"{value} has more than {places} decimal places")
    return f"{value:.{places}f}"
