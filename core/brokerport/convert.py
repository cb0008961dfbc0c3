"""cattrs converters: one per vendor, built from :func:`make_converter`.

The base converter has explicit hooks for the types money and time travel in:

* ``Decimal`` from str/int/Decimal only; a float is refused (JSON is parsed
  with ``parse_float=Decimal`` so a wire number never becomes a float);
* ``datetime`` from ISO-8601 text or epoch milliseconds, always UTC-aware;
* ``Secret`` from str, and unstructured to ``"***"`` so it never leaks;
* ``str``, ``bool`` and ``int`` strictly: no ``str(list)``, ``bool("false")``
  or ``int(Decimal("1.5"))`` — a wrong type is an error, not a silent value.

A vendor converter adds rename overrides for its wire names with
:func:`renamed`::

    conv = make_converter()
    renamed(conv, SubAccount, name="subAcct", created_at="ts")
"""

from __future__ import annotations

import collections.abc
import re
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .types import REDACTED, Secret, parse_decimal

__all__ = [
    "make_converter",
    "parse_datetime",
    "read_wall_clock",
    "renamed",
    "renamed_keeping_raw",
    "vendor_timezone",
    "wall_clock_converter",
]


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, (int, Decimal)) or (isinstance(value, str) and value.isdigit()):
        n = int(value)
        # epoch seconds or milliseconds
        return datetime.fromtimestamp(n / 1000 if n > 10**11 else n, tz=UTC)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        dt = datetime.fromisoformat(text)
        if dt.tzinfo is None:
            # vendor wall-clock text without a zone is read as UTC; plugins
            # whose vendor uses another zone register their own hook
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(UTC)
    raise TypeError(f"cannot read {type(value).__name__} as a time")


def _text(value: Any, _: Any) -> str:
    # cattrs' default is str(value): a list, dict or null would become "['x']" / "None"
    if type(value) is str or isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    raise TypeError(f"expected text, got {type(value).__name__}")


def _flag(value: Any, _: Any) -> bool:
    # cattrs' default is bool(value): the string "false" would become True
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, str)) and str(value).strip().lower() in ("0", "1", "true", "false"):
        return str(value).strip().lower() in ("1", "true")
    raise ValueError(f"not a boolean: {value!r}")


def _whole(value: Any, _: Any) -> int:
    # cattrs' default is int(value): Decimal("1.5") would become 1
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (str, Decimal)):
        number = parse_decimal(value)
        if number == number.to_integral_value():
            return int(number)
    raise ValueError(f"not a whole number: {value!r}")


def _is_homogeneous_sequence(t: Any) -> bool:
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    if origin is tuple:
        return len(args) == 2 and args[1] is Ellipsis
    return origin in (list, collections.abc.Sequence) and len(args) == 1


def _sequence_hook(conv: cattrs.Converter) -> Any:
    def factory(t: Any) -> Any:
        elem = typing.get_args(t)[0]
        as_tuple = typing.get_origin(t) is tuple
        handler: Any = None

        def structure(value: Any, _: Any) -> Any:
            nonlocal handler
            # cattrs would iterate a str: "read" -> ("r", "e", "a", "d")
            if not isinstance(value, (list, tuple)):
                if isinstance(value, (str, bytes, Mapping)) or not isinstance(
                    value, collections.abc.Iterable
                ):
                    raise TypeError(f"expected a list, got {type(value).__name__}")
                value = list(value)
            if handler is None:  # resolved once, on first use (hooks may register late)
                handler = conv.get_structure_hook(elem)
            items = [handler(e, elem) for e in value]
            return tuple(items) if as_tuple else items

        return structure

    return factory


def _decimal(value: Any, _: Any) -> Decimal:
    if type(value) is str:  # the common case on the wire, without the generic checks
        try:
            number = Decimal(value)
        except ArithmeticError:
            number = None
        if number is not None and number.is_finite() and "_" not in value:
            return number
    return parse_decimal(value)


def _is_optional(t: Any) -> bool:
    args = typing.get_args(t)
    return (
        typing.get_origin(t) in (typing.Union, types.UnionType)
        and len(args) == 2
        and type(None) in args
    )


def _optional_hook(conv: cattrs.Converter) -> Any:
    """``X | None``: the hook of X resolved once, not dispatched on every value
    (cattrs' own looks it up per call: ~1 µs per optional field)."""

    def factory(t: Any) -> Any:
        inner = next(a for a in typing.get_args(t) if a is not type(None))
        handler: Any = None

        def structure(value: Any, _: Any) -> Any:
            nonlocal handler
            if value is None:
                return None
            if handler is None:  # resolved on first use (hooks may register late)
                handler = conv.get_structure_hook(inner)
            return handler(value, inner)

        # a reader that never passes None (a binding's compiled model maker) calls
        # the inner hook itself: one call less per field
        structure.brokerport_inner = inner  # type: ignore[attr-defined]
        return structure

    return factory


def make_converter() -> cattrs.Converter:
    # detailed_validation off: the pipeline turns any failure into DecodeError /
    # UnknownOutcome anyway, and the per-field bookkeeping costs ~5 µs a call
    conv = cattrs.Converter(forbid_extra_keys=False, detailed_validation=False)
    conv.register_structure_hook_factory(_is_homogeneous_sequence, _sequence_hook(conv))
    conv.register_structure_hook_factory(_is_optional, _optional_hook(conv))
    conv.register_structure_hook(str, _text)
    conv.register_structure_hook(bool, _flag)
    conv.register_structure_hook(int, _whole)
    conv.register_structure_hook(Decimal, _decimal)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(datetime, lambda v, _: parse_datetime(v))
    conv.register_unstructure_hook(datetime, lambda v: v.isoformat())
    conv.register_structure_hook(Secret, lambda v, _: Secret(v))
    conv.register_unstructure_hook(Secret, lambda v: REDACTED)
    conv.register_structure_hook_func(
        lambda t: t == Mapping[str, Any], lambda v, _: dict(v) if isinstance(v, Mapping) else {}
    )
    return conv


def renamed(conv: cattrs.Converter, cls: type[Any], **wire_names: str) -> None:
    """Structure/unstructure ``cls`` with field -> wire-name renames."""
    overrides: dict[str, Any] = {name: override(rename=wire) for name, wire in wire_names.items()}
    conv.register_structure_hook(cls, make_dict_structure_fn(cls, conv, **overrides))
    conv.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, conv, **overrides))


def renamed_keeping_raw(conv: cattrs.Converter, cls: type[Any], **wire_names: str) -> None:
    """Like :func:`renamed`, and store the vendor's whole object in the model's ``raw``
    (response models have one: out of repr and equality, credential fields redacted)."""
    renamed(conv, cls, **wire_names)
    overrides: dict[str, Any] = {name: override(rename=wire) for name, wire in wire_names.items()}
    overrides["raw"] = override(omit=True)
    plain = make_dict_structure_fn(cls, conv, **overrides)

    def with_raw(value: Any, t: Any) -> Any:
        return attrs.evolve(plain(value, t), raw=value)

    conv.register_structure_hook(cls, with_raw)


# ------------------------------------------------- vendors that write local times

_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2}):?(\d{2})?$")


def vendor_timezone(text: str | None, *, default: str = "+08:00", vendor: str = "") -> tzinfo:
    """A profile's ``timezone`` option: ``+08:00`` / ``UTC+8`` / ``UTC`` / an IANA
    name -> tzinfo; an unknown zone is InvalidRequest."""
    text = (text or default).strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return UTC
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return timezone(-delta if sign == "-" else delta)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        from .errors import InvalidRequest

        raise InvalidRequest(
            f"{vendor} option timezone: unknown zone {text!r}", vendor=vendor or None
        ) from None


def read_wall_clock(value: Any, tz: tzinfo) -> datetime:
    """A wire time: zone-less text is wall-clock time in ``tz``; epoch numbers and
    zoned text as :func:`parse_datetime` reads them. Always UTC-aware."""
    if isinstance(value, str) and not value.strip().isdigit():
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=tz)).astimezone(UTC)
    return parse_datetime(value)


def wall_clock_converter(tz: tzinfo) -> cattrs.Converter:
    """The core converter, with zone-less wire times read in ``tz`` (lwork, wlink)."""
    conv = make_converter()
    conv.register_structure_hook(datetime, lambda value, _: read_wall_clock(value, tz))
    return conv
