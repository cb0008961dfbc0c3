"""wlink authentication: two modes, chosen per endpoint and per profile.

**Signed (server to server).** Headers ``X-Api-Key`` (a UUID), ``X-Timestamp``
(unix milliseconds), ``X-Nonce`` (a random UUID, single use) and
``X-Signature`` = hex(HMAC-SHA256(api secret, the newline-joined lines))::

    METHOD            upper case
    path              the URL path as sent
    canonical query   the decoded query pairs, sorted by key then value, joined
                      as k=v with &, not re-encoded; pairs with an empty value
                      left out (?a=&b=1 -> b=1)
    X-Api-Key
    X-Timestamp
    X-Nonce
    hex(sha256(body)) the body of a POST; hex(sha256(b"")) otherwise

``sign()`` runs once per attempt, so every attempt carries a fresh nonce and
timestamp: a retry is a new request to the vendor.

**Portal (bearer).** ``POST /v1/auth/account/login`` (email, password, the
optional ``Captcha-*`` headers) answers a token, sent as
``Authorization: Bearer``. The login is a public endpoint run through the same
client (:meth:`WlinkSigner.login`, one flight shared by concurrent callers);
when the vendor rejects the token, :meth:`on_auth_failure` logs in again once
and the call is signed and sent once more.

Endpoints whose catalog ``auth`` is ``"bearer"`` (logout, change password) are
always sent with the portal token; ``"signed"`` endpoints follow the profile's
mode; ``"public"`` ones carry only ``X-Language``.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from brokerport.errors import AuthenticationError, BrokerportError
from brokerport.signing import PreparedRequest, Signer, hmac_sha256_hex
from brokerport.types import REDACTED, Secret

if TYPE_CHECKING:
    from brokerport.client import Client

__all__ = ["TOKEN_REJECTED", "WlinkSigner", "canonical_query", "signature", "string_to_sign"]

LOGIN = "auth.account_login"
#: the error reasons that mean "this portal token is no good": log in again
TOKEN_REJECTED = frozenset({"UNAUTHORIZED", "TOKEN_INVALID", "TOKEN_EXPIRED"})
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CAPTCHA_HEADERS = {
    "captcha_token": "Captcha-Token",
    "captcha_action": "Captcha-Action",
    "captcha_randstr": "Captcha-Randstr",
}


def canonical_query(query: str) -> str:
    """The decoded pairs, sorted by key then value, ``k=v`` joined with ``&``; empty
    values left out. No re-encoding."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if v != ""]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def string_to_sign(
    method: str, path: str, query: str, api_key: str, ts: str, nonce: str, body: bytes | None
) -> str:
    method = method.upper()
    digest = hashlib.sha256(body or b"").hexdigest() if method == "POST" else EMPTY_SHA256
    return "\n".join((method, path, canonical_query(query), api_key, ts, nonce, digest))


def signature(secret: Secret | str, message: str) -> str:
    return hmac_sha256_hex(secret, message.encode())


class WlinkSigner(Signer):
    """HMAC server-to-server signing, or the portal's bearer token (see the module)."""

    sensitive_headers = frozenset({"x-signature", "authorization", "captcha-token"})

    def __init__(
        self,
        *,
        mode: str,
        auth_of: Callable[[str], str],
        api_key: Secret | None = None,
        api_secret: Secret | None = None,
        email: Secret | None = None,
        password: Secret | None = None,
        token: Secret | None = None,
        captcha: Mapping[str, str] | None = None,
        language: str | None = None,
    ) -> None:
        self.mode = mode
        self._auth_of = auth_of  # endpoint name -> catalog auth
        self._api_key = api_key
        self._secret = api_secret
        self._email = email
        self._password = password
        self.token = token
        self.user: Mapping[str, Any] = {}
        self._captcha = dict(captcha or {})
        self.language = language
        self.client: Client | None = None
        self._flight: asyncio.Future[Secret] | None = None
        self.logins = 0

    def attach(self, client: Client) -> None:
        self.client = client

    # ------------------------------------------------------------ signing

    def uses_token(self, endpoint: str) -> bool:
        return self.mode == "portal" or self._auth_of(endpoint) == "bearer"

    async def prepare(self) -> None:
        # portal mode: log in before the first call (bearer-only endpoints of a
        # signed profile log in on the vendor's 401 instead: prepare sees no request)
        if self.mode == "portal" and self.token is None:
            await self.login()

    def sign_public(self, request: PreparedRequest) -> None:
        if self.language:
            request.headers.setdefault("X-Language", self.language)

    def sign(self, request: PreparedRequest, now: float) -> None:
        self.sign_public(request)
        if self.uses_token(request.endpoint):
            if self.token is not None:
                request.headers["Authorization"] = "Bearer " + self.token.reveal()
            return
        if self._api_key is None or self._secret is None:
            raise AuthenticationError(
                "wlink signed mode needs credentials api_key and api_secret", vendor="wlink"
            )
        key, ts, nonce = self._api_key.reveal(), str(int(now * 1000)), str(uuid.uuid4())
        message = string_to_sign(
            request.method, request.path, request.query, key, ts, nonce, request.body
        )
        request.headers.update(
            {
                "X-Api-Key": key,
                "X-Timestamp": ts,
                "X-Nonce": nonce,
                "X-Signature": signature(self._secret, message),
            }
        )

    async def on_auth_failure(self, request: PreparedRequest, error: BrokerportError) -> bool:
        if not self.uses_token(request.endpoint) or self.client is None:
            return False
        if error.vendor_code not in TOKEN_REJECTED and error.http_status != 401:
            return False
        used = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.token is not None and self.token.reveal() != used:
            return True  # another call logged in meanwhile
        if self._email is None or self._password is None:
            return False
        await self.login()
        return True

    # ------------------------------------------------------------ the portal

    async def login(self, captcha: Mapping[str, str] | None = None) -> Secret:
        """Log in (``auth.account_login``) and keep the token; one flight at a time."""
        if self._flight is None:
            self._flight = asyncio.ensure_future(self._login(dict(captcha or self._captcha)))
        token: Secret = await asyncio.shield(self._flight)
        return token

    async def _login(self, captcha: dict[str, str]) -> Secret:
        token: Secret
        try:
            if self.client is None or self._email is None or self._password is None:
                raise AuthenticationError(
                    "wlink portal mode needs credentials email and password", vendor="wlink"
                )
            params: dict[str, Any] = {"email": self._email, "password": self._password}
            params.update({CAPTCHA_HEADERS.get(k, k): v for k, v in captcha.items() if v})
            token, user = await self.client.invoke(LOGIN, params, read=_login_answer)
            self.token, self.user = token, user
            self.logins += 1
            return token
        finally:
            self._flight = None

    def forget(self) -> None:
        """After a logout: the token is no longer valid."""
        self.token = None

    def redacted(self) -> Mapping[str, str]:
        out = {"mode": self.mode}
        if self._api_key is not None:
            key = self._api_key.reveal()
            out["X-Api-Key"] = key[:8] + REDACTED
            # the vendor counts 50/s per API key: one limiter scope per key (hashed)
            out["scope"] = "wlink:" + hashlib.sha256(key.encode()).hexdigest()[:16]
        if self.token is not None or self.mode == "portal":
            out["Authorization"] = "Bearer " + REDACTED
        return out


def _login_answer(data: Any) -> tuple[Secret, Mapping[str, Any]]:
    token = data.get("token") if isinstance(data, Mapping) else None
    if not token:
        raise ValueError("the login answer has no token")
    user = data.get("user_info") or {}
    return (token if isinstance(token, Secret) else Secret(str(token))), user
