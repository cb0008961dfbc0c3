"""An OAuth 2.0 authorization server for sandboxes (RFC 6749 code grant, RFC 7636 PKCE,
refresh-token rotation), written from the RFCs: vendors differ only in lifetimes,
paths and error codes, which the plugin maps from the :class:`OAuthRefusal` kinds.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .kit import SandboxClock, verify_digest

__all__ = ["Grant", "OAuthRefusal", "OAuthServer", "Token"]


class OAuthRefusal(Exception):
    """Why a token request or a bearer token was refused: ``kind`` is one of
    ``client`` (unknown client or wrong secret), ``code`` (unknown or used code),
    ``code_expired``, ``redirect_uri``, ``verifier`` (PKCE), ``secret_missing``,
    ``refresh`` (unknown or rotated refresh token), ``revoked``, ``cancelled``,
    ``expired``, ``token`` (unknown or rotated access token), ``device``, ``scope``."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@attrs.define
class Token:
    access: str = attrs.field(repr=False)
    refresh: str = attrs.field(repr=False)
    uid: str
    client_id: str
    scope: tuple[str, ...]
    access_exp: float
    refresh_exp: float
    termid: str | None = None
    state: str = "valid"  # valid | rotated | revoked | cancelled


@attrs.define
class Grant:
    code: str = attrs.field(repr=False)
    client_id: str
    uid: str
    scope: tuple[str, ...]
    expires: float
    challenge: str | None = None
    redirect_uri: str | None = None
    termid: str | None = None
    used: bool = False


@attrs.define
class OAuthServer:
    """One registered client (``client_id`` / ``client_secret``) and its grants and tokens."""

    clock: SandboxClock
    random_hex: Callable[[int], str]
    client_id: str
    client_secret: str
    access_ttl: float = 3600.0
    refresh_ttl: float = 30 * 24 * 3600.0
    code_ttl: float = 300.0
    tokens: dict[str, Token] = attrs.Factory(dict)  #: by access token
    refresh_index: dict[str, Token] = attrs.Factory(dict)
    grants: dict[str, Grant] = attrs.Factory(dict)

    def clear(self) -> None:
        self.tokens.clear()
        self.refresh_index.clear()
        self.grants.clear()

    def authorize(self, uid: str, scope: tuple[str, ...], *, client_id: str | None = None,
                  challenge: str | None = None, redirect_uri: str | None = None,
                  termid: str | None = None) -> str:  # fmt: skip
        """The user's consent: an authorization code."""
        code = base64.urlsafe_b64encode(bytes.fromhex(self.random_hex(18))).decode()
        self.grants[code] = Grant(code, client_id or self.client_id, uid, tuple(scope),
                                  self.clock.now() + self.code_ttl, challenge, redirect_uri,
                                  termid)  # fmt: skip
        return code

    def issue(
        self,
        uid: str,
        scope: tuple[str, ...],
        termid: str | None = None,
        client_id: str | None = None,
    ) -> Token:
        now = self.clock.now()
        access, refresh = "eyJ" + self.random_hex(36), self.random_hex(24)
        token = Token(access, refresh, uid, client_id or self.client_id, tuple(scope),
                      now + self.access_ttl, now + self.refresh_ttl, termid)  # fmt: skip
        self.tokens[token.access] = self.refresh_index[token.refresh] = token
        return token

    def exchange(self, p: Mapping[str, Any]) -> Token:
        """A token request (``grant_type`` authorization_code or refresh_token)."""
        client_id, secret, now = str(p.get("client_id")), p.get("client_secret"), self.clock.now()
        if client_id != self.client_id or (
            secret and not verify_digest(self.client_secret, str(secret))
        ):
            raise OAuthRefusal("client")
        if p.get("grant_type") == "authorization_code":
            grant = self.grants.get(str(p.get("code")))
            if grant is None or grant.used or grant.client_id != client_id:
                raise OAuthRefusal("code")
            if now >= grant.expires:
                raise OAuthRefusal("code_expired")
            if grant.redirect_uri and p.get("redirect_uri") not in (None, grant.redirect_uri):
                raise OAuthRefusal("redirect_uri")
            if grant.challenge is not None:
                verifier = str(p.get("code_verifier") or "").encode()
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
                if not verifier or not verify_digest(grant.challenge, digest):
                    raise OAuthRefusal("verifier")
            elif not secret:
                raise OAuthRefusal("secret_missing")
            grant.used = True
            return self.issue(grant.uid, grant.scope, grant.termid, client_id)
        old = self.refresh_index.get(str(p.get("refresh_token")))
        if old is None or old.client_id != client_id or old.state == "rotated":
            raise OAuthRefusal("refresh")
        self._usable(old)
        if now >= old.refresh_exp:
            raise OAuthRefusal("expired")
        old.state = "rotated"  # rotation: the old pair stops working, expired or not
        return self.issue(old.uid, old.scope, old.termid, client_id)

    def bearer(self, access: str, termid: str | None) -> Token:
        """The token behind ``Authorization: Bearer``; OAuthRefusal when it is not usable."""
        token = self.tokens.get(access)
        if token is None or token.state == "rotated":
            raise OAuthRefusal("token")
        self._usable(token)
        if self.clock.now() >= token.access_exp:
            raise OAuthRefusal("expired")
        if token.termid is not None and termid != token.termid:
            raise OAuthRefusal("device")
        return token

    def revoke(self, uid: str | None = None, state: str = "revoked") -> None:
        """The user (every user: None) revoked or cancelled the grant: tokens stop working."""
        for token in self.tokens.values():
            if uid is None or token.uid == uid:
                token.state = state

    @staticmethod
    def _usable(token: Token) -> None:
        if token.state != "valid":
            raise OAuthRefusal(token.state)  # revoked | cancelled

    def answer(self, token: Token) -> dict[str, Any]:
        """RFC 6749 §5.1's token response."""
        return {"access_token": token.access, "token_type": "Bearer",
                "expires_in": int(self.access_ttl), "refresh_token": token.refresh,
                "refresh_token_expires_in": int(self.refresh_ttl),
                "scope": ",".join(token.scope)}  # fmt: skip
