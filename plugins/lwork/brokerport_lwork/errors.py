"""lwork's ``{result, mcode, data, errorMessage}`` envelope and its error codes.

The code table is data, ``errors.toml`` beside this module (documented codes and
the sandbox's assumed ``BW_*`` ones), read by the adapter's error map and by the
sandbox alike. A host whose vendor answers other codes adds them with the
profile option ``error_codes`` (``"CODE=ClassName,CODE2=ClassName"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brokerport.adapter import ErrorMap, VendorFault
from brokerport.errors import BrokerportError, DecodeError
from brokerport.wire import Envelope, ErrorTable

__all__ = [
    "ENVELOPE",
    "ERRORS",
    "ERROR_CLASSES",
    "MCODES",
    "SUCCESS",
    "LworkEnvelope",
    "error_map",
    "parse_envelope",
]

SUCCESS = "m0000000"
#: mcode -> ErrorEntry (class, HTTP status, what the sandbox sends, what it means)
ERRORS = ErrorTable.load("brokerport_lwork")
#: mcode -> (error class, meaning)
MCODES: dict[str, tuple[type[BrokerportError], str]] = {
    code: (e.error, e.doc or e.message) for code, e in ERRORS.items()
}
#: Class names a profile's ``error_codes`` option may name: the table's classes.
ERROR_CLASSES: dict[str, type[BrokerportError]] = {
    e.error.__name__: e.error for e in ERRORS.values()
}


def error_map() -> ErrorMap:
    """The lwork error map (a profile's ``error_codes`` option adds codes: core Adapter)."""
    return ErrorMap({code: e.error for code, e in ERRORS.items()}, default=BrokerportError)


def _message(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value if v not in (None, ""))[:500]
    return "" if value is None else str(value)[:500]


def parse_envelope(doc: Any, *, http_status: int) -> Any:
    """The ``data`` of a success envelope; VendorFault for an error; DecodeError otherwise."""
    result = doc.get("result") if isinstance(doc, Mapping) else None
    mcode = doc.get("mcode") if isinstance(doc, Mapping) else None
    if not isinstance(result, bool) or not isinstance(mcode, (str, int)) or isinstance(mcode, bool):
        if http_status >= 400:
            raise VendorFault(None, f"HTTP {http_status}", http_status=http_status)
        what = "result / mcode missing or mistyped" if isinstance(doc, Mapping) else "not an object"
        raise DecodeError(
            f"the answer is not an lwork envelope ({what})", vendor="lwork", http_status=http_status
        )
    code = str(mcode)
    if result is True and code == SUCCESS:
        return doc.get("data")
    message = _message(doc.get("errorMessage"))
    if not message:  # result false with the success code is still a failure
        known = MCODES.get(code)
        message = f"lwork error {code}" + (f": {known[1]}" if known else "")
    raise VendorFault(code, message, http_status=http_status, data=doc.get("data"))


class LworkEnvelope(Envelope):
    """``{result, mcode, data, errorMessage}``: the adapter's decoder reads it
    (:func:`parse_envelope`), the sandbox writes it."""

    def wrap(self, data: Any) -> Any:
        return ({} if data is None else {"data": data}) | {"mcode": SUCCESS, "result": True}

    def fail(self, code: str, message: str, data: Any = None) -> Any:
        doc = {} if data is None else {"data": data}
        return doc | {"mcode": code, "errorMessage": [message] if message else [], "result": False}

    def unwrap(self, doc: Any, *, http_status: int, vendor: str) -> Any:
        return parse_envelope(doc, http_status=http_status)


ENVELOPE = LworkEnvelope()
