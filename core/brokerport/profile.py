"""Profiles: credentials, base URL and options for one vendor connection.

Sources, later ones winning:

1. a TOML file — ``$BROKERPORT_CONFIG`` or ``~/.config/brokerport/profiles.toml``::

       [okx.default]
       base_url = "https://www.okx.com"
       [okx.default.credentials]
       api_key = "..."
       [okx.default.options]
       broker_code = "..."

2. environment variables: ``BROKERPORT_<VENDOR>_BASE_URL``,
   ``BROKERPORT_<VENDOR>_CREDENTIAL_<NAME>``, ``BROKERPORT_<VENDOR>_OPTION_<NAME>``
   (names lower-cased), for the profile named by ``$BROKERPORT_PROFILE`` or
   the one asked for; and for the connection ``BROKERPORT_<VENDOR>_PROXY``
   (a URL; credentials in it become Secrets), ``..._PROXY_USERNAME``,
   ``..._PROXY_PASSWORD``, ``..._PROXY_FROM_ENV`` (``1``: use ``HTTPS_PROXY`` /
   ``NO_PROXY``), ``..._TLS_<SETTING>`` and ``..._TRANSPORT_<SETTING>``.

A profile file also takes ``proxy`` (a URL or a ``[vendor.name.proxy]`` table of
``url``, ``username``, ``password``), ``proxy_from_env = true``, a
``[vendor.name.tls]`` table (:class:`~brokerport.tls.TLSSettings`) and a
``[vendor.name.transport]`` table (timeouts and pool of
:class:`~brokerport.transport.TransportSettings`). Any secret value in the
file — a credential, the proxy password, ``client_key_password`` — may instead
be a reference, so the file holds no secret::

    secret_key = { keyring = true }            # service "brokerport/<vendor>.<name>"
    passphrase = { keyring = "okx-prod", username = "pp" }
    password = { env = "EGRESS_PROXY_PASSWORD" }
    client_key_password = { file = "/run/secrets/client-key-pass" }

``keyring`` references need the optional extra ``brokerport[keyring]``.

A profile with no base URL and no credentials is the embedded sandbox: the
client starts the vendor's in-process sandbox and connects to it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .errors import InvalidRequest
from .proxy import ProxySettings, proxy_from_environment
from .tls import TLSSettings
from .transport import TransportSettings
from .types import Secret

__all__ = ["Profile", "keyring_secret"]

#: TransportSettings fields a profile's [transport] table may set
_POOL_FIELDS = (
    "total_timeout",
    "connect_timeout",
    "read_timeout",
    "limit",
    "limit_per_host",
    "keepalive_timeout",
    "engine",
)


def keyring_secret(service: str, username: str) -> Secret:
    """A password from the system keyring (``pip install 'brokerport[keyring]'``)."""
    try:
        import keyring
        import keyring.errors
    except ImportError:
        raise InvalidRequest(
            "a profile names a keyring secret, but keyring is not installed: "
            "pip install 'brokerport[keyring]'"
        ) from None
    try:
        value = keyring.get_password(service, username)
    except keyring.errors.KeyringError as exc:
        raise InvalidRequest(
            f"keyring: cannot read service {service!r}, username {username!r}: {type(exc).__name__}"
        ) from None
    if value is None:
        raise InvalidRequest(
            f"keyring has no password for service {service!r}, username {username!r} "
            f"(store one with: keyring set {service} {username})"
        )
    return Secret(value)


def _resolve_ref(
    value: Any, *, where: str, service: str, username: str, env: Mapping[str, str]
) -> Any:
    """A secret given as ``{keyring = ...}``, ``{env = ...}`` or ``{file = ...}``."""
    if not isinstance(value, Mapping):
        return value
    kinds = {"keyring", "env", "file"} & set(value)
    extra = set(value) - {"keyring", "env", "file", "username"}
    if len(kinds) != 1 or extra or ("username" in value and "keyring" not in value):
        raise InvalidRequest(
            f"{where}: a secret reference is {{keyring = ...}}, {{env = ...}} or {{file = ...}}"
        )
    if "keyring" in value:
        ref = value["keyring"]
        svc = service if ref is True else str(ref)
        return keyring_secret(svc, str(value.get("username", username)))
    if "env" in value:
        var = str(value["env"])
        if var not in env:
            raise InvalidRequest(f"{where}: environment variable {var} is not set")
        return Secret(env[var])
    path = Path(str(value["file"])).expanduser()
    try:
        return Secret(path.read_text(encoding="utf-8").rstrip("\r\n"))
    except OSError as exc:
        raise InvalidRequest(f"{where}: cannot read {path}: {exc.strerror}") from None


def _proxy(value: Any) -> ProxySettings | None:
    if value is None or isinstance(value, ProxySettings):
        return value
    if isinstance(value, str):
        return ProxySettings.parse(value) if value.strip() else None
    if isinstance(value, Mapping):
        return ProxySettings.from_mapping(value)
    raise InvalidRequest("proxy: give a URL, a ProxySettings or a table with url")


def _tls(value: Any) -> TLSSettings | None:
    import ssl

    if value is None or isinstance(value, TLSSettings):
        return value
    if isinstance(value, ssl.SSLContext):
        return TLSSettings(context=value)
    if isinstance(value, Mapping):
        return TLSSettings.from_mapping(value)
    raise InvalidRequest("tls: give a TLSSettings, an ssl.SSLContext or a table")


def _transport(value: Any) -> TransportSettings | None:
    if value is None or isinstance(value, TransportSettings):
        return value
    if not isinstance(value, Mapping):
        raise InvalidRequest("transport: give a TransportSettings or a table")
    unknown = set(value) - set(_POOL_FIELDS)
    if unknown:
        raise InvalidRequest(
            f"transport: unknown setting(s) {sorted(unknown)}; known: {list(_POOL_FIELDS)}"
        )
    defaults = TransportSettings()
    out: dict[str, Any] = {}
    for key, raw in value.items():
        if key == "engine":
            if raw not in ("auto", "aiohttp"):
                raise InvalidRequest(f'transport: engine is "auto" or "aiohttp", not {raw!r}')
            out[key] = raw
            continue
        kind = type(getattr(defaults, key))
        try:
            number = kind(raw)
        except (TypeError, ValueError):
            raise InvalidRequest(f"transport: {key} must be a number, not {raw!r}") from None
        if number <= 0:
            raise InvalidRequest(f"transport: {key} must be positive")
        out[key] = number
    return TransportSettings(**out)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _secrets(value: Mapping[str, Any]) -> Mapping[str, Secret]:
    return {str(k): v if isinstance(v, Secret) else Secret(str(v)) for k, v in value.items()}


def _strings(value: Mapping[str, Any]) -> Mapping[str, str]:
    return {str(k): str(v) for k, v in value.items()}


@attrs.frozen(slots=True, kw_only=True)
class Profile:
    vendor: str
    name: str = "default"
    #: None: use the vendor's embedded sandbox.
    base_url: str | None = None
    credentials: Mapping[str, Secret] = attrs.field(factory=dict, converter=_secrets)
    options: Mapping[str, str] = attrs.field(factory=dict, converter=_strings)
    #: Tunnel every connection through this proxy (a URL or ProxySettings).
    proxy: ProxySettings | None = attrs.field(default=None, converter=_proxy)
    #: No ``proxy`` given: use ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and
    #: ``NO_PROXY`` for ``base_url``'s host. Off unless the host opts in.
    proxy_from_env: bool = attrs.field(default=False, converter=_flag)
    #: CA bundle or SSLContext, client certificate (None: system trust).
    tls: TLSSettings | None = attrs.field(default=None, converter=_tls)
    #: Timeouts and connection pool (None: the TransportSettings defaults).
    transport: TransportSettings | None = attrs.field(default=None, converter=_transport)

    def transport_settings(self, given: TransportSettings | None = None) -> TransportSettings:
        """What the client's transport uses: ``given`` (``connect(transport_settings=)``),
        else this profile's ``transport``; its proxy and TLS, unless ``given`` sets them."""
        base = given or self.transport or TransportSettings()
        proxy = base.proxy or self.proxy
        if proxy is None and self.proxy_from_env and self.base_url:
            proxy = proxy_from_environment(self.base_url)
        return attrs.evolve(
            base, proxy=proxy, tls=base.tls or self.tls, owner=f"{self.vendor}.{self.name}"
        )

    @property
    def is_sandbox(self) -> bool:
        return self.base_url is None

    def credential(self, key: str) -> Secret:
        try:
            return self.credentials[key]
        except KeyError:
            raise InvalidRequest(
                f"profile {self.vendor}.{self.name} lacks credential {key!r}", vendor=self.vendor
            ) from None

    def option(self, key: str, default: str | None = None) -> str | None:
        return self.options.get(key, default)

    def with_sandbox(
        self,
        base_url: str,
        credentials: Mapping[str, str],
        options: Mapping[str, str] | None = None,
    ) -> Profile:
        """This profile pointed at a sandbox; its own credentials and options win."""
        return attrs.evolve(
            self,
            base_url=base_url,
            credentials={**credentials, **self.credentials},
            options={**(options or {}), **self.options},
        )

    def redacted(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "name": self.name,
            "base_url": self.base_url,
            "credentials": dict.fromkeys(self.credentials, "***"),
            "options": dict(self.options),
            "proxy": self.proxy.redacted() if self.proxy else None,
            "proxy_from_env": self.proxy_from_env,
            "tls": self.tls.redacted() if self.tls else None,
            "transport": {k: getattr(self.transport, k) for k in _POOL_FIELDS}
            if self.transport
            else None,
        }

    @classmethod
    def load(
        cls,
        vendor: str,
        name: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> Profile:
        env = os.environ if env is None else env
        name = name or env.get("BROKERPORT_PROFILE") or "default"
        data: dict[str, Any] = {}
        file = (
            Path(path)
            if path
            else Path(
                env.get("BROKERPORT_CONFIG")
                or Path.home() / ".config" / "brokerport" / "profiles.toml"
            )
        )
        if file.is_file():
            try:
                doc = tomllib.loads(file.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise InvalidRequest(f"cannot read profile file {file}: {exc}") from None
            tables = doc.get(vendor, {})
            section = tables.get(name, {}) if isinstance(tables, dict) else None
            if not isinstance(section, dict) or not all(
                isinstance(section.get(k, {}), dict)
                for k in ("credentials", "options", "tls", "transport")
            ):
                # never fall back to the sandbox on a malformed profile
                raise InvalidRequest(f"profile file {file}: [{vendor}.{name}] is malformed")
            data = section
        creds: dict[str, Any] = dict(data.get("credentials", {}))
        opts: dict[str, Any] = dict(data.get("options", {}))
        base_url = data.get("base_url")
        proxy: Any = data.get("proxy")
        proxy_table: dict[str, Any] = (
            dict(proxy) if isinstance(proxy, dict) else {"url": proxy} if proxy else {}
        )
        proxy_from_env: Any = data.get("proxy_from_env", False)
        tls: dict[str, Any] = dict(data.get("tls", {}))
        transport: dict[str, Any] = dict(data.get("transport", {}))
        prefix = f"BROKERPORT_{vendor.upper()}_"
        for key, value in env.items():
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            if rest == "BASE_URL":
                base_url = value
            elif rest.startswith("CREDENTIAL_"):
                creds[rest[len("CREDENTIAL_") :].lower()] = value
            elif rest.startswith("OPTION_"):
                opts[rest[len("OPTION_") :].lower()] = value
            elif rest == "PROXY":
                proxy_table["url"] = value
            elif rest in ("PROXY_USERNAME", "PROXY_PASSWORD"):
                proxy_table[rest[len("PROXY_") :].lower()] = value
            elif rest == "PROXY_FROM_ENV":
                proxy_from_env = value
            elif rest.startswith("TLS_"):
                tls[rest[len("TLS_") :].lower()] = value
            elif rest.startswith("TRANSPORT_"):
                transport[rest[len("TRANSPORT_") :].lower()] = value
        where = f"profile {vendor}.{name}"
        service = f"brokerport/{vendor}.{name}"

        def secret(value: Any, what: str, username: str) -> Any:
            return _resolve_ref(
                value, where=f"{where}: {what}", service=service, username=username, env=env
            )

        creds = {k: secret(v, f"credential {k}", k) for k, v in creds.items()}
        if "password" in proxy_table:
            proxy_table["password"] = secret(
                proxy_table["password"], "proxy password", "proxy_password"
            )
        if "client_key_password" in tls:
            tls["client_key_password"] = secret(
                tls["client_key_password"], "tls client_key_password", "client_key_password"
            )
        if proxy_table and "url" not in proxy_table:
            raise InvalidRequest(f"{where}: proxy credentials without a proxy URL")
        try:
            return cls(
                vendor=vendor,
                name=name,
                base_url=base_url or None,
                credentials=creds,
                options=opts,
                proxy=proxy_table or None,
                proxy_from_env=proxy_from_env,
                tls=tls or None,
                transport=transport or None,
            )
        except InvalidRequest as exc:
            raise InvalidRequest(f"{where}: {exc.message}") from None

    def __repr__(self) -> str:
        return (
            f"Profile(vendor={self.vendor!r}, name={self.name!r}, base_url={self.base_url!r}, "
            f"credentials=[{', '.join(sorted(self.credentials))}], options={dict(self.options)!r}"
            + (f", proxy={self.proxy!r}" if self.proxy else "")
            + (", proxy_from_env=True" if self.proxy_from_env else "")
            + (f", tls={self.tls!r}" if self.tls else "")
            + (f", transport={self.transport!r}" if self.transport else "")
            + ")"
        )
