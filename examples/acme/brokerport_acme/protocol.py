"""Acme's protocol (README): the HMAC signature, the ``{ok, result, error}`` envelope and
the error table, shared by the adapter (when a client is made) and the sandbox."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from brokerport.adapter import VendorFault
from brokerport.errors import DecodeError
from brokerport.signing import PreparedRequest, Signer, hmac_sha256_hex
from brokerport.types import REDACTED, Secret
from brokerport.wire import Envelope, ErrorTable

__all__ = ["ACME_ERRORS", "ENVELOPE", "ERRORS", "AcmeEnvelope", "AcmeSigner", "string_to_sign"]


def string_to_sign(timestamp: str, request: PreparedRequest) -> bytes:
    """``timestamp \\n METHOD \\n path?query \\n body`` over the exact bytes sent (the
    pipeline fixes them once, before any retry; the body is never re-serialized)."""
    head = f"{timestamp}\n{request.method}\n{request.path_with_query}\n"
    return head.encode() + (request.body or b"")


class AcmeSigner(Signer):
    """HMAC-SHA256 headers (README, "Authentication"). No I/O, no sub-requests."""

    sensitive_headers = frozenset({"x-acme-key", "x-acme-signature"})  # never shown in clear

    def __init__(self, api_key: Secret, secret_key: Secret) -> None:
        self._key, self._secret = api_key, secret_key  # Secrets: repr shows "***"

    def sign(self, request: PreparedRequest, now: float) -> None:
        timestamp = str(int(now * 1000))  # ``now`` already carries client.clock_offset
        request.headers["X-Acme-Key"] = self._key.reveal()
        request.headers["X-Acme-Timestamp"] = timestamp
        request.headers["X-Acme-Signature"] = hmac_sha256_hex(
            self._secret, string_to_sign(timestamp, request)
        )

    def redacted(self) -> Mapping[str, str]:
        # What hooks see. "scope" keys the client-side rate limiter: Acme counts per
        # API key, so clients sharing a key (and a LimiterRegistry) share its limits.
        scope = hashlib.sha256(self._key.reveal().encode()).hexdigest()[:12]
        return {"api_key": REDACTED, "secret_key": REDACTED, "scope": scope}


class AcmeEnvelope(Envelope):
    """``{"ok": true, "result": ...}`` / ``{"ok": false, "error": {"code", "message"}}``
    (README, "Envelope"): the adapter's decoder reads it, the sandbox writes it."""

    def wrap(self, data: Any) -> Any:
        return {"ok": True, "result": data}

    def fail(self, code: str, message: str, data: Any = None) -> Any:
        return {"ok": False, "error": {"code": code, "message": message}}

    def unwrap(self, doc: Any, *, http_status: int, vendor: str) -> Any:
        if not isinstance(doc, dict) or not isinstance(doc.get("ok"), bool):
            raise DecodeError("not an Acme envelope", vendor=vendor)
        if doc["ok"]:
            return doc.get("result")
        error = doc["error"] if isinstance(doc.get("error"), dict) else {}
        raise VendorFault(error.get("code"), str(error.get("message", "")))


ENVELOPE = AcmeEnvelope()
# The README's error table (errors.toml): the adapter's error map reads it, the sandbox
# answers with it. Unlisted codes: by HTTP status.
ERRORS = ErrorTable.load("brokerport_acme")
ACME_ERRORS = ERRORS.error_map()
