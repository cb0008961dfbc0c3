"""Signing: the exact bytes to be sent, signed by I/O-free named signer classes.

The pipeline builds a :class:`PreparedRequest` once per logical call (body
bytes and encoded query fixed), then, inside the retry loop, asks the signer to
``sign`` it with a fresh clock reading. A signer only sets headers on the
request it is given; it never touches the network. Credentials that need I/O
(OAuth access tokens) are kept fresh by :meth:`Signer.prepare`, which the
pipeline awaits before ``sign``; :class:`BearerToken` makes concurrent
refreshes share one flight.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .errors import AuthenticationError, BrokerportError, PluginError
from .types import REDACTED, PreparedRequest, Secret

if TYPE_CHECKING:
    import asyncio

    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

    from .client import Client

__all__ = [
    "BearerSigner",
    "BearerToken",
    "HeaderSigner",
    "PreparedRequest",
    "Signer",
    "TokenPair",
    "hmac_sha256",
    "hmac_sha256_b64",
    "hmac_sha256_hex",
    "load_rsa_private_key",
    "load_rsa_public_key",
    "rsa_sha1_sign",
    "rsa_sha1_verify",
]


class Signer:
    """Base of every signer. Subclasses are named classes, one per scheme."""

    #: Header names (lower case) whose values are credentials.
    sensitive_headers: frozenset[str] = frozenset({"authorization"})

    def attach(self, client: Client) -> None:
        """The client is open: a signer that needs sub-requests (a clock resync,
        a token refresh) keeps ``client`` and runs them with ``client.invoke``,
        through the same pipeline (rate-limited, hooked, typed errors). Such
        endpoints are ``auth = "public"`` in the catalog: never signed, never
        waiting for the credentials they are fetching."""

    async def prepare(self) -> None:
        """Make credentials ready (may do I/O, e.g. refresh a token)."""

    def sign(self, request: PreparedRequest, now: float) -> None:
        """Set auth headers on ``request``. ``now`` is epoch seconds. No I/O."""

    def sign_public(self, request: PreparedRequest) -> None:
        """Headers a public (unsigned) request still carries; never a credential."""

    async def on_auth_failure(self, request: PreparedRequest, error: BrokerportError) -> bool:
        """The vendor rejected our credentials with ``error`` (its ``vendor_code``
        says why). True to sign and send the call once more."""
        return False

    def redacted(self) -> Mapping[str, str]:
        """What hooks and logs may see of the credentials."""
        return {}

    async def aclose(self) -> None:
        """Release anything the signer holds."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(...)"


class HeaderSigner(Signer):
    """Static credential headers (e.g. tenant id + token). No signature."""

    def __init__(self, headers: Mapping[str, str | Secret], sensitive: frozenset[str]) -> None:
        self._headers = dict(headers)
        self.sensitive_headers = frozenset(h.lower() for h in sensitive) | frozenset(
            k.lower() for k, v in self._headers.items() if isinstance(v, Secret)
        )

    def sign(self, request: PreparedRequest, now: float) -> None:
        for k, v in self._headers.items():
            request.headers[k] = v.reveal() if isinstance(v, Secret) else v

    def redacted(self) -> Mapping[str, str]:
        return {
            k: REDACTED if k.lower() in self.sensitive_headers else str(v)
            for k, v in self._headers.items()
        }


# ------------------------------------------------------------------- HMAC


def _key(secret: Secret | str | bytes) -> bytes:
    if isinstance(secret, Secret):
        return secret.reveal().encode()
    return secret.encode() if isinstance(secret, str) else secret


def hmac_sha256(secret: Secret | str | bytes, message: bytes) -> bytes:
    import hmac  # here, not at module level: listing plugins loads no hashlib

    # the one-shot C digest: a third of hmac.new(...).digest()'s cost per request
    return hmac.digest(_key(secret), message, "sha256")


def hmac_sha256_b64(secret: Secret | str | bytes, message: bytes) -> str:
    return base64.b64encode(hmac_sha256(secret, message)).decode()


def hmac_sha256_hex(secret: Secret | str | bytes, message: bytes) -> str:
    return hmac_sha256(secret, message).hex()


# -------------------------------------------------------------------- RSA


def load_rsa_private_key(
    pem: bytes | str | Secret, passphrase: bytes | str | Secret | None = None
) -> RSAPrivateKey:
    """Load an RSA private key from PEM (PKCS#1 or PKCS#8, optionally encrypted).

    Errors never include the key material.
    """
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = pem.reveal() if isinstance(pem, Secret) else pem
    raw = data.encode() if isinstance(data, str) else data
    pw: bytes | None
    if passphrase is None:
        pw = None
    else:
        p = passphrase.reveal() if isinstance(passphrase, Secret) else passphrase
        pw = p.encode() if isinstance(p, str) else p
    try:
        key = load_pem_private_key(raw, password=pw or None)
    except (ValueError, TypeError) as exc:
        reason = (
            "wrong or missing passphrase" if "password" in str(exc).lower() else "not a PEM key"
        )
        raise AuthenticationError(f"cannot load RSA private key: {reason}") from None
    except Exception:  # cryptography's UnsupportedAlgorithm and friends
        raise AuthenticationError("cannot load RSA private key: unsupported key") from None
    if not isinstance(key, RSAPrivateKey):
        raise AuthenticationError("cannot load RSA private key: not an RSA key")
    return key


def load_rsa_public_key(pem: bytes | str) -> RSAPublicKey:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    raw = pem.encode() if isinstance(pem, str) else pem
    try:
        key = load_pem_public_key(raw)
    except Exception:
        raise PluginError("cannot load RSA public key") from None
    if not isinstance(key, RSAPublicKey):
        raise PluginError("not an RSA public key")
    return key


def rsa_sha1_sign(key: RSAPrivateKey, message: bytes) -> str:
    """base64(SHA1withRSA(key, message)) — PKCS#1 v1.5, as Java's Signature does."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA1())).decode()


def rsa_sha1_verify(key: RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        sig = base64.b64decode(signature_b64, validate=True)
        key.verify(sig, message, padding.PKCS1v15(), hashes.SHA1())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# ------------------------------------------------------------ bearer tokens


@attrs.frozen(slots=True)
class TokenPair:
    access_token: Secret
    refresh_token: Secret | None = None
    #: Epoch seconds when the access token stops working.
    expires_at: float | None = None


Refresher = Callable[[TokenPair], Awaitable[TokenPair]]


class BearerToken:
    """An access token that refreshes itself, one flight at a time.

    Refresh-token rotation means a refresh invalidates the old pair, so two
    concurrent refreshes would log the client out. Every caller that finds the
    token stale awaits the same refresh.
    """

    def __init__(
        self,
        tokens: TokenPair,
        refresher: Refresher | None,
        *,
        leeway: float = 30.0,
        clock: Callable[[], float] = time.time,
        store: Any = None,
    ) -> None:
        self._tokens = tokens
        #: Where the pair is shared across processes (a
        #: :class:`brokerport.redis_backend.RedisTokenStore`), or None.
        self.store = store
        self._seeded = False
        self._refresher = refresher
        self._leeway = leeway
        self._clock = clock
        self._flight: asyncio.Future[TokenPair] | None = None
        self.refresh_count = 0

    @property
    def tokens(self) -> TokenPair:
        return self._tokens

    def replace(self, tokens: TokenPair) -> None:
        """Adopt a pair obtained elsewhere (e.g. a fresh authorization-code exchange).

        With a shared :attr:`store`, the pair is written there before this
        token is next used (it replaces the stored one, so the other processes
        adopt it on their next refresh instead of spending a stale refresh token).
        """
        self._tokens = tokens
        self._publish = self.store is not None

    _publish = False

    async def _publish_pair(self) -> None:
        """Store the pair :meth:`replace` gave, over whatever version is stored."""
        for _ in range(8):  # a compare-and-set that lost to another writer: reread
            version, _ = await self.store.load()
            if await self.store.save(self._tokens, version):
                break
        else:  # pragma: no cover - eight writers in a row between two reads
            raise AuthenticationError("could not store the replaced token pair")
        self._publish = False
        self._seeded = True

    def _stale(self) -> bool:
        exp = self._tokens.expires_at
        return exp is not None and self._clock() >= exp - self._leeway

    async def current(self) -> Secret:
        store = self.store
        if self._publish:
            await self._publish_pair()
        if store is not None and not self._seeded:
            self._tokens = await store.seed(self._tokens)  # the stored pair wins
            self._seeded = True
        if self._stale():
            if store is not None:
                _, stored = await store.load()  # another process may have rotated
                if stored is not None and stored.access_token != self._tokens.access_token:
                    self._tokens = stored
            if self._stale():
                await self.refresh(self._tokens.access_token)
        return self._tokens.access_token

    async def refresh(self, seen: Secret) -> TokenPair:
        """Refresh unless someone already replaced the token ``seen``."""
        import asyncio  # not at module level: listing plugins must not load asyncio

        if self._tokens.access_token != seen:
            return self._tokens
        if self._flight is None:
            if self._refresher is None or (
                self._tokens.refresh_token is None and self.store is None
            ):
                raise AuthenticationError("access token expired and no refresh token is available")
            # its own task: a caller cancelled mid-refresh neither cancels the other
            # waiters nor drops a rotated pair the vendor has already issued
            self._flight = asyncio.ensure_future(self._run_refresh(self._refresher, seen))
        return await asyncio.shield(self._flight)

    async def _run_refresh(self, refresher: Refresher, seen: Secret) -> TokenPair:
        try:
            if self.store is not None:
                # across processes: one refresher at a time, on the newest pair
                new: TokenPair = await self.store.refresh(seen, refresher)
            else:
                new = await refresher(self._tokens)
            self._tokens = new
            self.refresh_count += 1
            return new
        finally:
            self._flight = None


class BearerSigner(Signer):
    """``Authorization: Bearer <token>`` with single-flight refresh."""

    def __init__(self, token: BearerToken, extra_headers: Mapping[str, str] | None = None) -> None:
        self.token = token
        self._extra = dict(extra_headers or {})
        self._current: Secret | None = None

    async def prepare(self) -> None:
        self._current = await self.token.current()

    def sign(self, request: PreparedRequest, now: float) -> None:
        tok = self._current or self.token.tokens.access_token
        request.headers["Authorization"] = "Bearer " + tok.reveal()
        request.headers.update(self._extra)

    async def on_auth_failure(self, request: PreparedRequest, error: BrokerportError) -> bool:
        used = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.token.tokens.access_token.reveal() != used:
            return True  # somebody refreshed already
        if self.token.tokens.refresh_token is None:
            return False
        await self.token.refresh(self.token.tokens.access_token)
        return True

    def redacted(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {REDACTED}", **self._extra}


def reveal_all(value: Any) -> Any:
    """JSON ``default=`` helper: Secrets become their value only at serialization."""
    if isinstance(value, Secret):
        return value.reveal()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
