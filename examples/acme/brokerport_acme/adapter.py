"""The Acme Prime adapter: signer, envelope decoder, error map and converter.

An adapter holds only what is vendor-specific. Sessions, retries, rate
limiting, hooks and structuring are the core pipeline's job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from brokerport import models as m
from brokerport.adapter import Adapter, ErrorMap, VendorFault, parse_json
from brokerport.catalog import Catalog, Endpoint
from brokerport.errors import (
    AuthenticationError,
    Conflict,
    DecodeError,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    VendorUnavailable,
)
from brokerport.ports import Port
from brokerport.signing import PreparedRequest, Signer, hmac_sha256_hex
from brokerport.types import REDACTED, Secret

from .catalog import build_catalog
from .ports import AcmeFunding, AcmeSubAccounts

if TYPE_CHECKING:
    import cattrs
    from brokerport.transport import RawResponse

__all__ = ["ACME_ERRORS", "AcmeAdapter", "AcmeSigner", "string_to_sign"]


def string_to_sign(timestamp: str, request: PreparedRequest) -> bytes:
    """``timestamp \\n METHOD \\n path?query \\n body`` over the exact bytes sent.

    The body is appended as bytes, not re-serialized: the signature covers
    precisely what goes on the wire (the pipeline fixes these bytes once,
    before any retry, and only the headers change between attempts).
    """
    head = f"{timestamp}\n{request.method}\n{request.path_with_query}\n".encode()
    return head + (request.body or b"")


class AcmeSigner(Signer):
    """HMAC-SHA256 request signing (README, "Authentication"). No I/O."""

    # Header names hooks and debug logs must never see in clear.
    sensitive_headers = frozenset({"x-acme-key", "x-acme-signature"})

    def __init__(self, api_key: Secret, secret_key: Secret) -> None:
        # Both stay Secrets (repr/str/logs show "***") until sign() needs them.
        self._key, self._secret = api_key, secret_key

    def sign(self, request: PreparedRequest, now: float) -> None:
        # ``now`` is epoch seconds already corrected by client.clock_offset.
        timestamp = str(int(now * 1000))
        request.headers["X-Acme-Key"] = self._key.reveal()
        request.headers["X-Acme-Timestamp"] = timestamp
        request.headers["X-Acme-Signature"] = hmac_sha256_hex(
            self._secret, string_to_sign(timestamp, request)
        )

    def redacted(self) -> Mapping[str, str]:
        # What hooks see. "scope" keys the client-side rate limiter: Acme counts per
        # API key, so clients sharing a key (and a LimiterRegistry) share its limits.
        # A digest names the key without showing it.
        scope = hashlib.sha256(self._key.reveal().encode()).hexdigest()[:12]
        return {"api_key": REDACTED, "secret_key": REDACTED, "scope": scope}


# Vendor code -> brokerport error. The vendor code and message stay on the error.
ACME_ERRORS = ErrorMap(
    {
        "ACME-1001": InvalidRequest,  # bad parameter
        "ACME-2001": AuthenticationError,  # bad signature
        "ACME-2002": AuthenticationError,  # unknown API key
        "ACME-2003": AuthenticationError,  # stale timestamp (more than 10 s off)
        "ACME-2100": PermissionDenied,  # the key may not do this (read-only key)
        "ACME-4040": NotFound,
        "ACME-4090": Conflict,  # duplicate, or state forbids it
        "ACME-4220": InsufficientFunds,
        "ACME-4290": RateLimited,
        "ACME-5000": VendorUnavailable,  # internal error: retryable
    },
    # Anything unlisted falls back on the HTTP status (400/401/403/404/429, 5xx).
)


class AcmeAdapter(Adapter):
    """Acme Prime: sub-accounts and their funding."""

    name = "acme"  # the entry-point name: brokerport.connect("acme")
    version = "0.1.0"
    description = "Acme Prime (example plugin): sub-accounts and funding"
    # Exactly what the ports below implement; anything else raises NotSupported
    # before any I/O. Adapter.check_definition verifies this at import time.
    operations = frozenset(
        {
            "subaccounts.create",
            "subaccounts.delete",
            "subaccounts.list",
            "funding.balances",
            "funding.request_deposit",
            "funding.request_withdrawal",
            "funding.deposit_history",
            "funding.withdrawal_history",
        }
    )
    ports: ClassVar[Mapping[str, type[Port]]] = {
        "subaccounts": AcmeSubAccounts,
        "funding": AcmeFunding,
    }
    error_map = ACME_ERRORS
    sandbox = "acme"  # our entry in brokerport.sandboxes
    samples = "brokerport_acme.testing:AcmeSamples"  # sample data for the conformance kit

    @classmethod
    def build_catalog(cls) -> Catalog:
        return build_catalog()

    def create_signer(self) -> Signer:
        # Profile.credential raises InvalidRequest naming the missing key (never its value).
        return AcmeSigner(self.profile.credential("api_key"), self.profile.credential("secret_key"))

    def decode(self, endpoint: Endpoint, response: RawResponse) -> Any:
        """``{"ok": true, "result": ...}`` -> result; ``{"ok": false, ...}`` -> VendorFault."""
        envelope = parse_json(response, vendor=self.name)  # numbers parse as Decimal
        if not isinstance(envelope, dict) or not isinstance(envelope.get("ok"), bool):
            raise DecodeError("not an Acme envelope", vendor=self.name, http_status=response.status)
        if envelope["ok"]:
            return envelope.get("result")
        error = envelope.get("error")
        if not isinstance(error, dict):
            error = {}
        retry_after = response.headers.get("Retry-After")
        raise VendorFault(
            error.get("code"),
            str(error.get("message", "")),
            http_status=response.status,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )

    def create_converter(self) -> cattrs.Converter:
        # The core converter (Decimal never via float, epoch-ms times UTC-aware) plus
        # Acme's wire names; bindings put the vendor's object in ``raw``. Imported
        # here, not at the top: `brokerport plugins` imports this module, never cattrs.
        from brokerport.convert import make_converter, renamed

        conv = make_converter()
        renamed(conv, m.SubAccount, account_id="id")
        renamed(conv, m.Balance, account_id="account")
        renamed(conv, m.DepositTicket, deposit_id="id", account_id="account")
        renamed(conv, m.WithdrawalTicket, withdrawal_id="id", account_id="account")
        renamed(conv, m.FundingRecord, record_id="id", kind="type", account_id="account")
        return conv
