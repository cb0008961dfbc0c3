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
   the one asked for.

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
from .types import Secret

__all__ = ["Profile"]


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
                isinstance(section.get(k, {}), dict) for k in ("credentials", "options")
            ):
                # never fall back to the sandbox on a malformed profile
                raise InvalidRequest(f"profile file {file}: [{vendor}.{name}] is malformed")
            data = section
        creds: dict[str, Any] = dict(data.get("credentials", {}))
        opts: dict[str, Any] = dict(data.get("options", {}))
        base_url = data.get("base_url")
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
        return cls(
            vendor=vendor, name=name, base_url=base_url or None, credentials=creds, options=opts
        )

    def __repr__(self) -> str:
        return (
            f"Profile(vendor={self.vendor!r}, name={self.name!r}, base_url={self.base_url!r}, "
            f"credentials=[{', '.join(sorted(self.credentials))}], options={dict(self.options)!r})"
        )
