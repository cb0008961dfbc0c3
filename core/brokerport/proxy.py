"""Proxies: vendor traffic through a fixed-egress HTTP CONNECT or SOCKS5 proxy.

Every proxied connection is a tunnel (HTTP ``CONNECT`` or SOCKS5) opened by
`aiohttp-socks <https://pypi.org/project/aiohttp-socks/>`_ before a single byte
of the request is written, so anything that goes wrong with the proxy — it
cannot be reached, drops the connection, refuses the credentials or the
destination — happened before sending: the transport reports it as a
``connect`` failure (a write is retried or reported as not sent, never
``UnknownOutcome``), or, for refused proxy credentials, as
:class:`~brokerport.errors.ProxyError` (not retried).

Proxy credentials are :class:`~brokerport.types.Secret`; a URL given with
``user:password@`` is split at once and never kept whole.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import attrs

from .errors import InvalidRequest
from .types import Secret

if TYPE_CHECKING:
    import aiohttp

    from .transport import TransportSettings

__all__ = ["ProxySettings", "proxy_from_environment"]

#: scheme -> default port
SCHEMES = {"http": 8080, "socks5": 1080, "socks5h": 1080}


def _secret_or_none(value: Any) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    return Secret(str(value))


@attrs.frozen(slots=True, kw_only=True)
class ProxySettings:
    """One proxy: ``http://`` (CONNECT), ``socks5://`` or ``socks5h://`` (DNS at the proxy).

    Build it from a URL with :meth:`parse` (credentials in the URL become
    Secrets), or with the fields.
    """

    scheme: str = "http"
    host: str
    port: int
    username: str | None = None
    password: Secret | None = attrs.field(default=None, converter=_secret_or_none)

    def __attrs_post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise InvalidRequest(
                f"proxy: unsupported scheme {self.scheme!r}; use one of {', '.join(SCHEMES)}"
            )
        if not self.host:
            raise InvalidRequest("proxy: no host")

    @classmethod
    def parse(
        cls,
        url: str,
        *,
        username: str | None = None,
        password: Secret | str | None = None,
    ) -> ProxySettings:
        """``scheme://[user[:password]@]host[:port]``; explicit arguments win over the URL's."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is None or not parts.hostname:
            # never echo the URL: it may hold a password
            raise InvalidRequest("proxy: not a URL of the form scheme://host:port") from None
        scheme = parts.scheme.lower() or "http"
        if scheme not in SCHEMES:
            raise InvalidRequest(
                f"proxy: unsupported scheme {scheme!r}; use one of {', '.join(SCHEMES)}"
            )
        if parts.path not in ("", "/") or parts.query:
            raise InvalidRequest("proxy: the URL must be scheme://host:port only")
        url_user = unquote(parts.username) if parts.username else None
        url_password = unquote(parts.password) if parts.password is not None else None
        return cls(
            scheme=scheme,
            host=parts.hostname,
            port=port or SCHEMES[scheme],
            username=username if username is not None else url_user,
            password=password if password is not None else url_password,
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ProxySettings:
        """A profile's ``[vendor.name.proxy]`` table: ``url``, ``username``, ``password``."""
        unknown = set(data) - {"url", "username", "password"}
        if unknown or "url" not in data:
            raise InvalidRequest(
                "proxy: give url (and optionally username, password)"
                + (f"; unknown: {sorted(unknown)}" if unknown else "")
            )
        user = data.get("username")
        return cls.parse(
            str(data["url"]),
            username=None if user is None else str(user),
            password=data.get("password"),
        )

    @property
    def url(self) -> str:
        """The proxy's URL, without credentials (safe to print)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def redacted(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url}
        if self.username is not None:
            out["username"] = self.username
        if self.password is not None:
            out["password"] = "***"
        return out

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username is not None else ""
        pw = ", password=***" if self.password is not None else ""
        return f"ProxySettings({self.url!r}{user}{pw})"

    def connector(self, settings: TransportSettings, ssl_: ssl.SSLContext | bool) -> Any:
        """An aiohttp connector that tunnels every connection through this proxy."""
        from python_socks import ProxyType

        kind = ProxyType.HTTP if self.scheme == "http" else ProxyType.SOCKS5
        return _connector_class()(
            proxy_type=kind,
            host=self.host,
            port=self.port,
            username=self.username,
            password=self.password.reveal() if self.password is not None else None,
            rdns=self.scheme != "socks5",
            limit=settings.limit,
            limit_per_host=settings.limit_per_host,
            keepalive_timeout=settings.keepalive_timeout,
            ssl=ssl_,
        )


def proxy_from_environment(
    base_url: str, env: Mapping[str, str] | None = None
) -> ProxySettings | None:
    """The proxy the environment names for ``base_url`` (``HTTPS_PROXY``,
    ``HTTP_PROXY``, ``ALL_PROXY``, lower or upper case), or None when
    ``NO_PROXY`` covers its host or none is set."""
    import os
    import urllib.request

    env = os.environ if env is None else env
    proxies: dict[str, str] = {}
    for key, value in env.items():
        name = key.lower()
        scheme = name[: -len("_proxy")]
        # lower case wins, as in urllib and curl
        if value and name.endswith("_proxy") and (key.islower() or scheme not in proxies):
            proxies[scheme] = value
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if "no" in proxies and bypass(f"{host}:{parts.port}" if parts.port else host, proxies):
        return None
    url = proxies.get(parts.scheme) or proxies.get("all")
    if not url:
        return None
    if "://" not in url:
        url = "http://" + url
    return ProxySettings.parse(url)


class ProxyConnectFailure(Exception):
    """Opening the tunnel failed, before anything was sent (caught in transport.py)."""

    def __init__(self, detail: str, status: int | None = None, *, auth: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        #: the proxy refused our credentials (HTTP 407, SOCKS5 auth failure)
        self.auth = auth


_CONNECTOR: type[Any] | None = None


def _connector_class() -> type[Any]:
    """aiohttp-socks' connector, with every tunnel failure made a ProxyConnectFailure."""
    global _CONNECTOR
    if _CONNECTOR is not None:
        return _CONNECTOR
    import aiohttp
    from aiohttp_socks import ProxyConnector
    from aiohttp_socks import ProxyError as SocksProxyError

    class TunnelConnector(ProxyConnector):
        async def _wrap_create_connection(
            self, *args: Any, req: aiohttp.ClientRequest, **kwargs: Any
        ) -> Any:
            try:
                return await super()._wrap_create_connection(*args, req=req, **kwargs)
            except ssl.SSLCertVerificationError as exc:
                raise aiohttp.ClientConnectorCertificateError(req.connection_key, exc) from exc
            except ssl.SSLError as exc:
                raise aiohttp.ClientConnectorSSLError(req.connection_key, exc) from exc
            except SocksProxyError as exc:
                code = exc.error_code if isinstance(exc.error_code, int) else None
                auth = code == 407 or "authentication" in str(exc).lower()
                raise ProxyConnectFailure(
                    f"the proxy refused the tunnel: {exc}", code, auth=auth
                ) from exc
            except Exception as exc:
                # unreachable, dropped mid-handshake, timed out: the request never left
                raise ProxyConnectFailure(
                    f"cannot open a tunnel through the proxy: {type(exc).__name__}"
                    + (f": {exc}" if str(exc) else "")
                ) from exc

    _CONNECTOR = TunnelConnector
    return TunnelConnector
