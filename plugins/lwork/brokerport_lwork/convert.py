"""lwork's converter: the core's, with times read in the vendor's wall-clock zone.

lwork renders times without a zone (``openTime`` ``2026-03-01T20:00:00.000``,
``regdate`` ``2026-03-01 20:00:00``) in its own zone — the document's epoch-0
``executionTime`` is ``1970-01-01T08:00:00.000``, so +08:00 — and some times as
epoch milliseconds (``createTime``). Profile option ``timezone`` overrides the zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from brokerport.convert import make_converter, parse_datetime
from brokerport.errors import InvalidRequest

if TYPE_CHECKING:
    import cattrs

__all__ = ["DEFAULT_TIMEZONE", "create_converter", "read_time", "vendor_timezone"]

DEFAULT_TIMEZONE = "+08:00"

_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2}):?(\d{2})?$")


def vendor_timezone(text: str | None) -> tzinfo:
    """``+08:00`` / ``UTC+8`` / ``UTC`` / an IANA name -> tzinfo."""
    text = (text or DEFAULT_TIMEZONE).strip()
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
        raise InvalidRequest(
            f"lwork option timezone: unknown zone {text!r}", vendor="lwork"
        ) from None


def read_time(value: Any, tz: tzinfo) -> datetime:
    """A wire time: zone-less text is wall-clock time in ``tz``; epoch numbers and
    zoned text as the core reads them. Always UTC-aware."""
    if isinstance(value, str) and not value.strip().isdigit():
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=tz)).astimezone(UTC)
    return parse_datetime(value)


def create_converter(timezone_option: str | None) -> cattrs.Converter:
    """The core converter with lwork's ``datetime`` hook (zone from the profile option)."""
    conv = make_converter()
    tz = vendor_timezone(timezone_option)
    conv.register_structure_hook(datetime, lambda value, _: read_time(value, tz))
    return conv
