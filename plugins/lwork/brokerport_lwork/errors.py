"""lwork's ``{result, mcode, data, errorMessage}`` envelope and its error codes.

Documented (002 §2 and the examples of 002 §1):

======================  ==============================  =====================
mcode                   meaning                         brokerport error
======================  ==============================  =====================
``m0000000``            success (with ``result: true``)  —
``BW_INVALID_PARAM``    参数错误 (bad parameter)          InvalidRequest
``-1``                  服务异常 (service error)          VendorUnavailable
``m0000001``            the document's failure example  BrokerportError
======================  ==============================  =====================

The documents name no code for a bad token, a bad signature, an unknown
account, insufficient balance or a repeated callback. The sandbox answers
those with the ``BW_*`` codes below (an assumption, written down in the
README); a host whose vendor answers other codes adds them with the profile
option ``error_codes`` (``"CODE=ClassName,CODE2=ClassName"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brokerport.adapter import ErrorMap, VendorFault
from brokerport.errors import (
    AuthenticationError,
    BrokerportError,
    Conflict,
    DecodeError,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    PluginError,
    RateLimited,
    VendorUnavailable,
)
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

#: mcode -> (error class, meaning). The first three are documented.
MCODES: dict[str, tuple[type[BrokerportError], str]] = {
    "BW_INVALID_PARAM": (InvalidRequest, "invalid parameter (documented)"),
    "-1": (VendorUnavailable, "service error, try again later (documented)"),
    "m0000001": (BrokerportError, "request failed (the document's failure example)"),
    # sandbox codes (assumed; see the README)
    "BW_INVALID_TOKEN": (AuthenticationError, "missing or wrong x-api-tenantId / x-api-token"),
    "BW_INVALID_SIGNATURE": (AuthenticationError, "SHA1withRSA signature does not verify"),
    "BW_FORBIDDEN": (PermissionDenied, "the account belongs to another user or tenant"),
    "BW_NOT_FOUND": (NotFound, "unknown user, account or deposit job"),
    "BW_INSUFFICIENT_BALANCE": (InsufficientFunds, "balance too low"),
    "BW_DUPLICATE": (Conflict, "already done (e.g. a deposit job paid by another order)"),
    "BW_RATE_LIMITED": (RateLimited, "too many requests"),
}

#: Class names a profile's ``error_codes`` option may name.
ERROR_CLASSES: dict[str, type[BrokerportError]] = {
    cls.__name__: cls
    for cls in (
        AuthenticationError,
        BrokerportError,
        Conflict,
        InsufficientFunds,
        InvalidRequest,
        NotFound,
        PermissionDenied,
        RateLimited,
        VendorUnavailable,
    )
}


def error_map(extra: str | None = None) -> ErrorMap:
    """The lwork error map, plus ``extra`` codes (``"CODE=Class,CODE2=Class"``)."""
    codes: dict[str, type[BrokerportError]] = {k: v[0] for k, v in MCODES.items()}
    for item in (extra or "").split(","):
        if not item.strip():
            continue
        code, sep, cls_name = item.partition("=")
        cls = ERROR_CLASSES.get(cls_name.strip())
        if not sep or not code.strip() or cls is None:
            raise PluginError(
                f"lwork option error_codes: cannot read {item.strip()!r} "
                f"(want CODE=Class with Class one of {', '.join(sorted(ERROR_CLASSES))})",
                vendor="lwork",
            )
        codes[code.strip()] = cls
    return ErrorMap(codes, default=BrokerportError)


def _message(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        text = "; ".join(str(v) for v in value if v not in (None, ""))
    else:
        text = str(value)
    return text[:500]


def parse_envelope(doc: Any, *, http_status: int) -> Any:
    """The ``data`` of a success envelope; VendorFault for an error; DecodeError otherwise."""
    if not isinstance(doc, Mapping):
        if http_status >= 400:
            raise VendorFault(None, f"HTTP {http_status}", http_status=http_status)
        raise DecodeError(
            f"expected an lwork envelope object, got {type(doc).__name__}",
            vendor="lwork",
            http_status=http_status,
        )
    result = doc.get("result")
    mcode = doc.get("mcode")
    if not isinstance(result, bool) or not isinstance(mcode, (str, int)) or isinstance(mcode, bool):
        if http_status >= 400:
            raise VendorFault(None, f"HTTP {http_status}", http_status=http_status)
        raise DecodeError(
            "the answer is not an lwork envelope (result / mcode missing or mistyped)",
            vendor="lwork",
            http_status=http_status,
        )
    code = str(mcode)
    if result is True and code == SUCCESS:
        return doc.get("data")
    message = _message(doc.get("errorMessage"))
    if not message:
        known = MCODES.get(code)
        message = f"lwork error {code}" + (f": {known[1]}" if known else "")
    if code == SUCCESS:  # result false with the success code: still a failure
        raise VendorFault(
            code, message or "request failed", http_status=http_status, data=doc.get("data")
        )
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
#: What the sandbox answers each code with (HTTP 200 with the envelope, an assumption
#: the README lists); the documented ones in the documents' words.
_SENT = {"BW_INVALID_PARAM": "参数错误", "-1": "服务异常,请稍后再试"}  # the documents' words
ERRORS = ErrorTable({c: (cls, 200, _SENT.get(c, meaning)) for c, (cls, meaning) in MCODES.items()})
