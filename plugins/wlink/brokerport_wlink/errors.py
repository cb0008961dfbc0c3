"""wlink's answer format: bare objects, and the error body with its reasons.

The spec documents only 200 answers, each the bare object of its schema. For
failures see "Assumptions" in the README: the go-kratos error encoder answers the
HTTP status with ``{"code": <status>, "reason": "UPPER_SNAKE", "message": "...",
"metadata": {}}``. The adapter's decoder and the sandbox share these objects, so
what the sandbox sends and what the client reads cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from brokerport import errors as e
from brokerport.adapter import ErrorMap, VendorFault
from brokerport.errors import DecodeError
from brokerport.wire import Envelope, ErrorTable

__all__ = ["ENVELOPE", "ERRORS", "WlinkEnvelope", "error_map"]

_AUTH = e.AuthenticationError
#: reason -> (brokerport error, HTTP status, message); ``{0}`` is filled in
ERRORS = ErrorTable(
    {
        "UNAUTHORIZED": (_AUTH, 401, "log in first"),
        "TOKEN_INVALID": (_AUTH, 401, "the token is not valid"),
        "TOKEN_EXPIRED": (_AUTH, 401, "the token has expired"),
        "API_KEY_INVALID": (_AUTH, 401, "unknown API key"),
        "SIGNATURE_INVALID": (_AUTH, 401, "the signature does not match"),
        "TIMESTAMP_EXPIRED": (_AUTH, 401, "the timestamp is outside the 30 s window"),
        "NONCE_REUSED": (_AUTH, 401, "the nonce was used before"),
        "LOGIN_FAILED": (_AUTH, 401, "wrong email or password"),
        "CAPTCHA_REQUIRED": (_AUTH, 401, "a captcha is required"),
        "PERMISSION_DENIED": (e.PermissionDenied, 403, "permission denied"),
        "INVALID_ARGUMENT": (e.InvalidRequest, 400, "invalid argument"),
        "EMAIL_CODE_INVALID": (e.InvalidRequest, 400, "a valid {0} email code is required"),
        "NOT_FOUND": (e.NotFound, 404, "{0} not found"),
        "METHOD_NOT_ALLOWED": (e.BrokerportError, 405, "{0}: method not allowed"),
        "QUOTE_CHANGED": (e.Conflict, 409, "the quote changed"),
        "CONFLICT": (e.Conflict, 409, "{0} is {1}"),
        "ALREADY_EXISTS": (e.Conflict, 409, "{0} is registered already"),
        "INSUFFICIENT_BALANCE": (e.InsufficientFunds, 400, "the balance is too low"),
        "TOO_MANY_REQUESTS": (e.RateLimited, 429, "more than 50 requests per second for this key"),
        "INTERNAL": (e.VendorUnavailable, 500, "internal error"),
    }
)


@attrs.frozen(slots=True)
class WlinkEnvelope(Envelope):
    """Success: the bare object. Failure: the error body, the vendor code at ``code``
    (``reason``), the text at ``message`` (profile options ``error_code_field`` /
    ``error_message_field``)."""

    code: str = "reason"
    message: str = "message"

    def wrap(self, data: Any) -> Any:
        return data

    def fail(self, code: str, message: str, data: Any = None, status: int | None = None) -> Any:
        status = status or ERRORS.status(code)
        return {"code": status, self.code: code, self.message: message, "metadata": data or {}}

    def unwrap(self, doc: Any, *, http_status: int, vendor: str) -> Any:
        if http_status < 400:
            if not isinstance(doc, Mapping):
                raise DecodeError("wlink answers are JSON objects", vendor=vendor)
            return doc
        doc = doc if isinstance(doc, Mapping) else {}
        code = doc.get(self.code) or doc.get("code")
        raise VendorFault(
            None if code is None else str(code),
            str(doc.get(self.message) or f"HTTP {http_status}"),
            http_status=http_status,
            data=doc.get("metadata"),
        )


ENVELOPE = WlinkEnvelope()


def error_map() -> ErrorMap:
    """The table's map (profile option ``error_codes``, ``REASON=ClassName,...``, adds
    codes on top: the core Adapter reads it)."""
    codes = {code: entry.error for code, entry in ERRORS.items()}
    return ErrorMap(codes, by_status={409: e.Conflict, 422: e.InvalidRequest})
