"""brokerport: one typed async interface to broker, exchange and CRM vendors.

::

    import brokerport

    async with brokerport.connect("okx") as client:      # embedded sandbox
        if "subaccounts.create" in client.capabilities:
            sub = await client.subaccounts.create(CreateSubAccount(name="desk01a"))

Importing brokerport imports no plugin: vendors load on ``connect``. It imports
only the error classes: every other public name resolves on first use, so
``import brokerport`` costs a few milliseconds (``bench/startup.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    AuthenticationError,
    BrokerportError,
    ClientClosed,
    Conflict,
    DecodeError,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
    NotSupported,
    PermissionDenied,
    PluginError,
    ProxyError,
    RateLimited,
    Timeout,
    TLSError,
    UnknownOutcome,
    VendorUnavailable,
)

if TYPE_CHECKING:
    from .client import Client, paginate, register_hooks, unregister_hooks
    from .hookspec import hookimpl
    from .profile import Profile
    from .types import Secret

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "BrokerportError",
    "Client",
    "ClientClosed",
    "Conflict",
    "DecodeError",
    "InsufficientFunds",
    "InvalidRequest",
    "NotFound",
    "NotSupported",
    "PermissionDenied",
    "PluginError",
    "Profile",
    "ProxyError",
    "RateLimited",
    "Secret",
    "TLSError",
    "Timeout",
    "UnknownOutcome",
    "VendorUnavailable",
    "connect",
    "hookimpl",
    "paginate",
    "register_hooks",
    "unregister_hooks",
]

#: public name -> the submodule defining it (imported on first use: pluggy, attrs,
#: tomllib and the rest stay unimported until a name needs them)
_LAZY = {
    "Client": "client",
    "Profile": "profile",
    "Secret": "types",
    "hookimpl": "hookspec",
    "paginate": "client",
    "register_hooks": "client",
    "unregister_hooks": "client",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'brokerport' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value


def connect(
    vendor: str,
    profile: Profile | str | None = None,
    **options: Any,
) -> Client:
    """A client for ``vendor``; open it with ``async with`` (or ``await``).

    ``profile`` is a :class:`Profile`, a profile name to load from the
    environment / profiles file, or None for the default profile. A profile
    with no base URL connects to the vendor's embedded sandbox.
    Keyword options go to :class:`~brokerport.client.Client` (``transport``,
    ``transport_settings``, ``retry``, ``limiters``, ``hooks``, ``clock``) and
    ``sandbox_options`` to the sandbox factory.
    """
    from .client import Client
    from .profile import Profile
    from .registry import load_adapter, load_sandbox

    adapter = load_adapter(vendor)
    if not isinstance(profile, Profile):
        profile = Profile.load(vendor, profile)
    sandbox_options = options.pop("sandbox_options", None) or {}
    sandbox_name = adapter.sandbox

    def sandbox_factory() -> Any:
        if sandbox_name is None:
            raise PluginError(f"{vendor} ships no sandbox", vendor=vendor)
        return load_sandbox(sandbox_name)(**sandbox_options)

    return Client(adapter, profile, sandbox_factory=sandbox_factory, **options)
