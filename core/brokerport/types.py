"""Small value types shared by the core and plugins: Secret, the prepared request,
money, UTC times."""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NoReturn

__all__ = [
    "REDACTED",
    "PreparedRequest",
    "Secret",
    "as_utc",
    "canonical_money",
    "decimal_places",
    "format_money",
    "is_sensitive_name",
    "parse_decimal",
    "parse_money",
    "redact_payload",
    "utc_from_ms",
    "utcnow",
    "wrap_secrets",
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


class PreparedRequest:
    """The request as it goes on the wire: signers see exactly these bytes.

    Defined here, not in :mod:`brokerport.signing` (which re-exports it), so that
    :mod:`brokerport.adapter` builds one without importing the signing module.
    """

    __slots__ = ("base_url", "body", "endpoint", "headers", "method", "path", "query")

    def __init__(
        self,
        method: str,
        base_url: str,
        path: str,
        query: str = "",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        endpoint: str = "",
    ) -> None:
        self.method = method
        self.base_url = base_url
        self.path = path
        self.query = query
        self.headers: dict[str, str] = headers if headers is not None else {}
        self.body = body
        self.endpoint = endpoint

    @property
    def path_with_query(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def url(self) -> str:
        return self.base_url + self.path_with_query

    def __repr__(self) -> str:
        return f"PreparedRequest({self.method} {self.path_with_query})"


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


#: Vendor keys seen so far -> normalized form (keys repeat on every item of a
#: listing; bounded so vendor-chosen keys cannot grow it without limit).
_NORM_CACHE: dict[str, str] = {}
_NORM_CACHE_MAX = 4096


def _norm_key(name: str) -> str:
    norm = _NORM_CACHE.get(name)
    if norm is None:
        norm = _norm(name)
        if len(_NORM_CACHE) < _NORM_CACHE_MAX:
            _NORM_CACHE[name] = norm
    return norm


def _names(extra: frozenset[str]) -> frozenset[str]:
    return SENSITIVE_FIELDS | {_norm(e) for e in extra} if extra else SENSITIVE_FIELDS


def is_sensitive_name(name: object, extra: frozenset[str] = frozenset()) -> bool:
    """Whether a payload field called ``name`` holds a credential.

    Names are compared lower-case without ``_`` and ``-``, against
    :data:`SENSITIVE_FIELDS` and ``extra`` (an endpoint's ``sensitive_response``).
    """
    return isinstance(name, str) and _norm_key(name) in _names(extra)


#: Key tuples of flat vendor objects seen so far -> whether none names a credential
#: (items of a listing share their keys; bounded like _NORM_CACHE).
_SAFE_KEYS: dict[tuple[Any, ...], bool] = {}
_PLAIN = frozenset({str, int, float, bool, type(None), Decimal})


def _flat_copy(value: dict[Any, Any]) -> dict[Any, Any] | None:
    """A plain copy of a flat object none of whose keys names a credential, else None
    (the common vendor item: the full walk of :func:`redact_payload` is not needed)."""
    keys = tuple(value)
    safe = _SAFE_KEYS.get(keys)
    if safe is None:
        safe = all(isinstance(k, str) and _norm_key(k) not in SENSITIVE_FIELDS for k in keys)
        if len(_SAFE_KEYS) < _NORM_CACHE_MAX and len(keys) <= 64:
            _SAFE_KEYS[keys] = safe
    if not safe:
        return None
    plain = _PLAIN
    for v in value.values():
        # an empty list or dict holds no credential either
        if type(v) not in plain and (v or type(v) not in (list, dict)):
            return None
    return dict(value)


def redact_payload(value: Any, extra: frozenset[str] = frozenset()) -> Any:
    """A copy of decoded vendor data with credential fields replaced by ``"***"``.

    A field named as a credential (:func:`is_sensitive_name`) and every
    :class:`Secret` anywhere in the data show as ``"***"``. Dicts and lists
    are copied; the walk is iterative, so deep data cannot exhaust the stack,
    and a container reached twice (shared, or a cycle) is copied once.
    """
    if isinstance(value, Secret):
        return REDACTED
    if not isinstance(value, (dict, list)):
        return value
    if not extra and type(value) is dict:
        flat = _flat_copy(value)
        if flat is not None:
            return flat
    names = _names(extra)
    root: dict[Any, Any] | list[Any] = {} if isinstance(value, dict) else []
    copies: dict[int, Any] = {id(value): root}
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        src, dst = stack.pop()
        items = src.items() if isinstance(src, dict) else enumerate(src)
        for k, v in items:
            if (
                isinstance(src, dict)
                and v is not None
                and v != ""
                and isinstance(k, str)
                and _norm_key(k) in names
            ):
                out: Any = REDACTED
            elif isinstance(v, Secret):
                out = REDACTED
            elif isinstance(v, (dict, list)):
                out = copies.get(id(v))
                if out is None:
                    out = copies[id(v)] = {} if isinstance(v, dict) else []
                    stack.append((v, out))
            else:
                out = v
            if isinstance(dst, dict):
                dst[k] = out
            else:
                dst.append(out)
    return root


#: Key -> whether it names a credential (:data:`SENSITIVE_FIELDS` only); bounded.
_KEY_FLAGS: dict[Any, bool] = {}


def wrap_secrets(value: Any, extra: frozenset[str] = frozenset()) -> Any:
    """Decoded vendor data with each credential string made a :class:`Secret`, in place.

    A non-empty ``str`` under a field named as a credential
    (:func:`is_sensitive_name`: the core's list plus ``extra``) becomes a
    Secret, at any depth; the data is changed in place and returned. The walk
    is iterative and visits each container once.
    """
    if not isinstance(value, (dict, list)):
        return value
    names = _names(extra)
    flags = _KEY_FLAGS if not extra else {}
    seen = {id(value)}
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if type(v) is str:
                    if v:
                        flag = flags.get(k)
                        if flag is None:
                            flag = isinstance(k, str) and _norm(k) in names
                            if len(flags) < _NORM_CACHE_MAX:
                                flags[k] = flag
                        if flag:
                            node[k] = Secret(v)  # same key: the dict does not change size
                elif isinstance(v, (dict, list)) and id(v) not in seen:
                    seen.add(id(v))
                    stack.append(v)
        else:
            for v in node:
                if isinstance(v, (dict, list)) and id(v) not in seen:
                    seen.add(id(v))
                    stack.append(v)
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


#: Money text: ASCII digits, an optional sign and at most one point; nothing else
#: (no spaces, "_", exponent or non-ASCII digits, which Decimal() would accept).
_MONEY_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)").fullmatch
#: Longest money text read (digits a bound can refuse, not a Decimal built first).
_MONEY_MAX_CHARS = 64
#: The bound of an amount whose field names none (exclusive).
DEFAULT_MONEY_MAX: Final = Decimal("1E+18")


def parse_money(
    value: Any,
    *,
    places: int | None = None,
    positive: bool = True,
    max_value: Decimal | None = DEFAULT_MONEY_MAX,
) -> Decimal:
    """The one money parser: a Decimal from ``value``, or ValueError / TypeError.

    Text must be ASCII digits with an optional sign and at most one point
    (``"1e2"``, ``" 100 "``, ``"1_000"`` and non-ASCII digits are refused); an
    int or a finite Decimal is taken as it is; a float or bool never. The
    amount must have at most ``places`` decimals (never rounded), be greater
    than zero when ``positive``, and be below ``max_value`` in size.
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str or Decimal")
    if isinstance(value, str):
        if len(value) > _MONEY_MAX_CHARS or not _MONEY_TEXT(value):
            raise ValueError("must be ASCII digits with an optional sign and one point")
        amount = Decimal(value)
    elif isinstance(value, int):
        if value.bit_length() > 256:
            raise ValueError("too large")
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        amount = value
    else:
        raise TypeError(f"cannot read {type(value).__name__} as an amount")
    if max_value is not None and (amount.adjusted() > 100 or abs(amount) >= max_value):
        raise ValueError(f"must be less than {max_value:f}")
    if positive and amount <= 0:
        raise ValueError("must be greater than zero")
    if places is not None and decimal_places(amount) > places:
        raise ValueError(f"at most {places} decimal places (it would have to be rounded)")
    if amount.as_tuple().exponent < -100:  # type: ignore[operator]
        raise ValueError("too many decimal places")
    return amount


def canonical_money(amount: Decimal) -> str:
    """The wire text of a parsed amount: plain digits, no exponent, no trailing zeros."""
    if not amount:
        return "0"
    text = format(amount, "f")  # exact: no context precision, no rounding
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
