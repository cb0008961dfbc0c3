"""lwork authentication: tenant headers and SHA1withRSA body signatures.

Two things authenticate an lwork call:

* the tenant headers ``x-api-tenantId`` and ``x-api-token`` on every request
  (issued in the vendor's Support Center; there is no token endpoint), set by
  :class:`LworkSigner`;
* for money movement (3.2 deposit, 3.3 deposit callback, 3.11 transfer) a
  ``signature`` body field: base64(SHA1withRSA(tenant private key, the
  documented concatenation of fields)). The same signer adds it: it sees the
  prepared request, reads the signed fields from the exact strings of its JSON
  body and path (amounts already two-decimal text, see :func:`format_amounts`),
  and rewrites the body with ``signature`` — those bytes are what is sent.

The private key is loaded once, from a PEM credential, a PEM file, or an
environment variable (PKCS#1 or PKCS#8, optionally encrypted), and is never
logged, printed or put into an error.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from brokerport.adapter import dumps
from brokerport.errors import AuthenticationError, PluginError
from brokerport.signing import (
    HeaderSigner,
    PreparedRequest,
    load_rsa_private_key,
    rsa_sha1_sign,
)
from brokerport.types import Secret

from .catalog import SIGNED_ENDPOINTS, format_amounts

if TYPE_CHECKING:
    from brokerport.catalog import Endpoint
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

__all__ = [
    "TENANT_HEADER",
    "TOKEN_HEADER",
    "LworkSigner",
    "RsaKeyHolder",
    "format_amounts",
    "signing_string",
]

TENANT_HEADER = "x-api-tenantId"
TOKEN_HEADER = "x-api-token"


class LworkSigner(HeaderSigner):
    """``x-api-tenantId`` and ``x-api-token`` on every request, and the RSA
    ``signature`` body field of the signed endpoints (3.2, 3.3, 3.11).

    Both headers are redacted from what hooks and logs see: the token is the
    secret, and the tenant id is half of the credential pair. The body signature
    is computed over the strings in the prepared request (JSON body fields and
    path placeholders), so what is signed is exactly what is sent; a
    ``signature`` the host passed is replaced when a key is configured, sent as
    is without one (external signing), and missing altogether it is
    AuthenticationError before any I/O.
    """

    def __init__(
        self,
        tenant_id: Secret,
        token: Secret,
        key: RsaKeyHolder | None = None,
        endpoint: Callable[[str], Endpoint] | None = None,
    ) -> None:
        super().__init__(
            {TENANT_HEADER: tenant_id, TOKEN_HEADER: token},
            sensitive=frozenset({TOKEN_HEADER, TENANT_HEADER}),
        )
        self._rsa = key or RsaKeyHolder()
        self._endpoint = endpoint
        self._routes: dict[str, tuple[re.Pattern[str], tuple[str, ...]]] = {}

    def sign(self, request: PreparedRequest, now: float) -> None:
        super().sign(request, now)
        if request.endpoint in SIGNED_ENDPOINTS:
            self.sign_body(request)

    def sign_body(self, request: PreparedRequest) -> None:
        """Add ``signature`` to the JSON body, over the strings the request carries."""
        body = json.loads(request.body or b"{}")
        if not self._rsa.loaded:
            if not body.get("signature"):
                self._rsa.sign("")  # raises AuthenticationError: no key configured
            return
        fields = {**self._path_values(request), **body}
        body["signature"] = self._rsa.sign(signing_string(request.endpoint, fields))
        request.body = dumps(body)

    def _path_values(self, request: PreparedRequest) -> dict[str, str]:
        """The path placeholders' values, as sent (``{userId}`` -> the user id)."""
        found = self._routes.get(request.endpoint)
        if found is None:
            if self._endpoint is None:
                raise PluginError("lwork signer: no catalog to read signed paths with")
            parts = _PLACEHOLDER.split(self._endpoint(request.endpoint).route)
            pattern = "".join(
                re.escape(p) if i % 2 == 0 else "([^/]*)" for i, p in enumerate(parts)
            )
            found = self._routes[request.endpoint] = (re.compile(pattern), tuple(parts[1::2]))
        match = found[0].fullmatch(request.path)
        if match is None:
            raise PluginError(f"lwork signer: {request.path!r} is not {request.endpoint}'s path")
        return {name: unquote(value) for name, value in zip(found[1], match.groups(), strict=True)}

    def __repr__(self) -> str:
        return "LworkSigner(...)"


_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


def signing_string(endpoint: str, params: Mapping[str, Any]) -> str:
    """The documented concatenation for ``endpoint`` (amounts already formatted).

    3.2 ``userId+login+payCurrency+depositAmount``;
    3.3 ``jobId+orderId+status+payCurrency+payAmount``;
    3.11 ``accountId+currency+pubUserId+receiptAccount+receiptAccountName+
    receiptServerId+receiptVendor+transferAmount``. Plain concatenation, no
    separators; a missing optional value contributes the empty string.
    """
    fields = SIGNED_ENDPOINTS[endpoint]
    return "".join("" if params.get(f) is None else str(params[f]) for f in fields)


class RsaKeyHolder:
    """The tenant's RSA private key, loaded once, never shown.

    Sources, first found wins: ``pem`` (PEM text), ``path`` (a PEM file),
    ``env`` (the name of an environment variable holding the PEM). With none
    of them the holder is empty and :meth:`sign` raises
    :class:`AuthenticationError` before any I/O.
    """

    __slots__ = ("_key", "source")

    def __init__(
        self,
        *,
        pem: Secret | str | None = None,
        path: str | None = None,
        env: str | None = None,
        passphrase: Secret | str | None = None,
    ) -> None:
        self._key: RSAPrivateKey | None = None
        self.source = "none"
        data: Secret | None = None
        if pem:
            data, self.source = Secret(pem), "credential"
        elif path:
            try:
                data = Secret(Path(path).expanduser().read_text(encoding="ascii"))
            except (OSError, UnicodeDecodeError):
                raise AuthenticationError("cannot read the RSA private key file") from None
            self.source = "file"
        elif env:
            value = os.environ.get(env)
            if not value:
                raise AuthenticationError(f"environment variable {env} holds no RSA private key")
            data, self.source = Secret(value.replace("\\n", "\n")), "environment"
        if data is not None:
            pw = Secret(passphrase) if passphrase else None
            self._key = load_rsa_private_key(data, pw)

    @property
    def loaded(self) -> bool:
        return self._key is not None

    def sign(self, message: str) -> str:
        if self._key is None:
            raise AuthenticationError(
                "lwork money movement is signed: configure the tenant RSA private key "
                "(credential private_key, option private_key_file or private_key_env)"
            )
        return rsa_sha1_sign(self._key, message.encode("utf-8"))

    def __repr__(self) -> str:
        return f"RsaKeyHolder(loaded={self.loaded}, source={self.source!r})"

    def __reduce__(self) -> Any:
        raise TypeError("an RsaKeyHolder cannot be pickled")
