"""TLS settings for a profile: who is trusted, and what certificate we present.

Verification is always on unless a profile sets the loudly named
``dangerously_skip_verification`` (which logs a warning, once per profile and
process). A profile may trust its own CA bundle (``ca_file`` / ``ca_dir``) or
give a ready :class:`ssl.SSLContext`; for mutual TLS it presents
``client_cert`` with ``client_key`` (which may be encrypted:
``client_key_password`` is a :class:`~brokerport.types.Secret`).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import InvalidRequest
from .types import Secret

__all__ = ["TLSSettings"]

log = logging.getLogger("brokerport.tls")

#: profiles ("vendor.name") already warned about disabled verification
_warned: set[str] = set()


def _secret_or_none(value: Any) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    return Secret(str(value))


def _path_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


@attrs.frozen(slots=True, kw_only=True)
class TLSSettings:
    """How a client verifies the vendor, and the certificate it presents."""

    #: PEM bundle of CAs to trust instead of the system's.
    ca_file: str | None = attrs.field(default=None, converter=_path_or_none)
    #: A directory of hashed CA certificates (``c_rehash``) to trust.
    ca_dir: str | None = attrs.field(default=None, converter=_path_or_none)
    #: PEM client certificate (chain) for mutual TLS.
    client_cert: str | None = attrs.field(default=None, converter=_path_or_none)
    #: PEM private key of ``client_cert`` (default: in the same file).
    client_key: str | None = attrs.field(default=None, converter=_path_or_none)
    #: Passphrase of an encrypted ``client_key``.
    client_key_password: Secret | None = attrs.field(default=None, converter=_secret_or_none)
    #: A ready context (the host's own); the fields above must then be unset.
    context: ssl.SSLContext | None = attrs.field(default=None, eq=False)
    #: Accept any certificate from any host. Never in production: logs a warning.
    dangerously_skip_verification: bool = False

    def __attrs_post_init__(self) -> None:
        if self.context is not None and (
            self.ca_file or self.ca_dir or self.client_cert or self.dangerously_skip_verification
        ):
            raise InvalidRequest("tls: give either an SSLContext or files, not both")
        if self.client_key and not self.client_cert:
            raise InvalidRequest("tls: client_key needs client_cert")
        if not isinstance(self.dangerously_skip_verification, bool):
            raise InvalidRequest("tls: dangerously_skip_verification must be true or false")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TLSSettings:
        known = {a.name for a in attrs.fields(cls)} - {"context"}
        unknown = set(data) - known
        if unknown:
            raise InvalidRequest(
                f"tls: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}"
            )
        return cls(**{str(k): v for k, v in data.items()})

    @property
    def is_default(self) -> bool:
        return self == TLSSettings() and self.context is None

    def ssl_context(self, who: str = "") -> ssl.SSLContext | bool:
        """The transport's TLS: True (system trust: aiohttp's verified default context,
        ``ssl.create_default_context()`` in :mod:`brokerport.http1`) or a built context.

        A file that cannot be read, or a key whose passphrase is wrong, is an
        ``InvalidRequest`` at client open, naming the file, never the passphrase.
        """
        if self.context is not None:
            return self.context
        if self.is_default:
            return True  # the system's trust store, verified
        if self.dangerously_skip_verification and who not in _warned:
            _warned.add(who)
            log.warning(
                "TLS verification is DISABLED for %s (dangerously_skip_verification): "
                "any certificate from any host is accepted",
                who or "a client",
            )
        try:
            ctx = ssl.create_default_context(cafile=self.ca_file, capath=self.ca_dir)
        except (OSError, ssl.SSLError) as exc:
            raise InvalidRequest(
                f"tls: cannot load the CA bundle {self.ca_file or self.ca_dir}: "
                f"{getattr(exc, 'strerror', None) or type(exc).__name__}"
            ) from None
        if self.dangerously_skip_verification:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.client_cert:
            password = self.client_key_password
            try:
                ctx.load_cert_chain(
                    self.client_cert,
                    self.client_key,
                    password=password.reveal() if password is not None else None,
                )
            except (OSError, ssl.SSLError, ValueError) as exc:
                # the message names the files, never the passphrase
                reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None)
                raise InvalidRequest(
                    f"tls: cannot load the client certificate {self.client_cert}"
                    + (f" / key {self.client_key}" if self.client_key else "")
                    + f": {reason or type(exc).__name__} (wrong key passphrase?)"
                ) from None
        return ctx

    def redacted(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: v
            for k, v in (
                ("ca_file", self.ca_file),
                ("ca_dir", self.ca_dir),
                ("client_cert", self.client_cert),
                ("client_key", self.client_key),
            )
            if v
        }
        if self.client_key_password is not None:
            out["client_key_password"] = "***"
        if self.context is not None:
            out["context"] = "SSLContext"
        if self.dangerously_skip_verification:
            out["dangerously_skip_verification"] = True
        return out

    def __repr__(self) -> str:
        return f"TLSSettings({self.redacted()!r})"
