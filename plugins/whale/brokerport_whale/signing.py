"""The WhaleAPI gateway signature (vendor-docs README, WhaleAPI): :class:`WhaleSigner`.

Imported when a client is made (``WhaleAdapter.create_signer``), not when plugins
are listed; ``brokerport_whale.adapter`` still exports both names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from brokerport.signing import PreparedRequest, Signer, hmac_sha256_hex
from brokerport.types import REDACTED, Secret

__all__ = ["WhaleSigner", "string_to_sign"]


def string_to_sign(
    method: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    """The vendor's canonical request (vendor-docs README, WhaleAPI), hashed as it says:
    ``"HMAC-SHA256|" + hex(sha1(METHOD|path|query|values|names|[sha1(body)]))``.

    ``headers``: the signed ones, lower-case names in order (authorization only
    when there is a token)."""
    names = ";".join(headers)
    values = "".join(f"{k}:{v}\n" for k, v in headers.items())
    canonical = f"{method}|{path}|{query}|{values}|{names}|"
    if body is not None:
        canonical += hashlib.sha1(body).hexdigest()
    return ("HMAC-SHA256|" + hashlib.sha1(canonical.encode()).hexdigest()).encode()


class WhaleSigner(Signer):
    """``X-Api-Key``, raw ``Authorization`` token, ``X-Timestamp`` (whole seconds) and
    ``X-Api-Signature`` over the exact query text and body bytes sent."""

    sensitive_headers = frozenset({"authorization", "x-api-signature"})

    def __init__(self, key: Secret, secret: Secret, token: Secret | None, prefix: str) -> None:
        self.key = key
        self._secret = secret
        #: the token signed with; ``keys.renew_token`` swaps it (the old one dies at once)
        self.token = token
        self._prefix = prefix  # the base URL's own path, part of the signed path

    def sign(self, request: PreparedRequest, now: float) -> None:
        ts = str(int(now))
        signed = {"x-api-key": self.key.reveal(), "x-timestamp": ts}
        if self.token:
            signed = {"authorization": self.token.reveal(), **signed}
        path = self._prefix + request.path
        message = string_to_sign(request.method, path, request.query, signed, request.body)
        headers = request.headers
        headers["X-Api-Key"] = signed["x-api-key"]
        if self.token:
            headers["Authorization"] = signed["authorization"]
        headers["X-Timestamp"] = ts
        if headers.get("Content-Type", "").startswith("application/json"):
            headers["Content-Type"] = "application/json; charset=utf-8"
        headers["X-Api-Signature"] = (
            f"HMAC-SHA256 SignedHeaders={';'.join(signed)}, "
            f"Signature={hmac_sha256_hex(self._secret, message)}"
        )

    def redacted(self) -> Mapping[str, str]:
        """The rate-limit scope is the key's fingerprint (the key is a credential too)."""
        scope = "whale:" + hashlib.sha256(self.key.reveal().encode()).hexdigest()[:12]
        return {"scope": scope, "app_key": REDACTED, "token": REDACTED}

    def __repr__(self) -> str:
        return "WhaleSigner(key=***, token=***)"
