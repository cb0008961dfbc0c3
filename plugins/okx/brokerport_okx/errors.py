"""OKX error codes and envelope: the code table is data, ``errors.toml`` beside
this module, read by the adapter's error map and by the sandbox alike."""

from __future__ import annotations

from typing import Final

from brokerport.wire import CodeEnvelope, ErrorTable

__all__ = ["CODES", "ENVELOPE", "ERRORS", "TIMESTAMP_EXPIRED", "TOKEN_REFRESHABLE", "message_for"]

#: code -> ErrorEntry (error class, HTTP status, message); unlisted 51/58xxx are
#: InvalidRequest, 53xxx AuthenticationError (the table's ``families``)
ERRORS: Final = ErrorTable.load("brokerport_okx")
#: the same table as (error class, HTTP status, message) tuples
CODES: Final = {code: (e.error, e.status, e.message) for code, e in ERRORS.items()}
#: Codes after which a fresh OAuth access token may succeed.
TOKEN_REFRESHABLE: Final = frozenset({"53000", "53002"})
TIMESTAMP_EXPIRED: Final = "50102"
#: OKX's ``{code, msg, data}`` envelope: read by the adapter, written by the sandbox.
ENVELOPE: Final = CodeEnvelope()


def message_for(code: str, *args: str) -> str:
    return ERRORS.message(code, *args)
