"""lwork's converter: the core's, with times read in the vendor's wall-clock zone.

lwork renders times without a zone (``openTime`` ``2026-03-01T20:00:00.000``,
``regdate`` ``2026-03-01 20:00:00``) in its own zone — the document's epoch-0
``executionTime`` is ``1970-01-01T08:00:00.000``, so +08:00 — and some times as
epoch milliseconds (``createTime``). Profile option ``timezone`` overrides the zone.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from brokerport.convert import read_wall_clock as read_time
from brokerport.convert import vendor_timezone as _zone
from brokerport.convert import wall_clock_converter

if TYPE_CHECKING:
    import cattrs

__all__ = ["DEFAULT_TIMEZONE", "create_converter", "read_time", "vendor_timezone"]

DEFAULT_TIMEZONE = "+08:00"


def vendor_timezone(text: str | None) -> tzinfo:
    """Profile option ``timezone`` (default +08:00) -> tzinfo."""
    return _zone(text, default=DEFAULT_TIMEZONE, vendor="lwork")


def create_converter(timezone_option: str | None) -> cattrs.Converter:
    """The core converter with lwork's zone for zone-less times."""
    return wall_clock_converter(vendor_timezone(timezone_option))
