"""Hook specifications (pluggy, project name ``brokerport``).

The one spec module, as pytest and tox keep theirs. Host applications and
plugins implement these with :data:`hookimpl`::

    from brokerport import hookimpl

    class Audit:
        @hookimpl
        def brokerport_after_response(self, call, response):
            log.info("%s %s -> %s", call.vendor, call.endpoint.name, response.status)

    brokerport.register_hooks(Audit())             # every client from now on
    client = await brokerport.connect("okx", hooks=[Audit()])   # one client

Hooks receive a :class:`~brokerport.pipeline.Call`: the endpoint, the
parameters (mutable in ``before_request``: add a tag, a header), and a
redacted view of the credentials. They never see a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .client import Client
    from .errors import BrokerportError
    from .pipeline import Call, ResponseInfo

PROJECT = "brokerport"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = ["hookimpl"]


@hookspec
def brokerport_client_created(client: Client) -> None:
    """A client was connected (its transport is open). Register per-client state here."""


@hookspec
def brokerport_client_closed(client: Client) -> None:
    """A client was closed."""


@hookspec
def brokerport_before_request(call: Call) -> None:
    """Before validation and signing. May change ``call.params`` and ``call.headers``.

    Runs once per logical call (not per retry). Changes are validated and
    signed like the host's own parameters.
    """


@hookspec
def brokerport_after_response(call: Call, response: ResponseInfo, result: Any) -> None:
    """After a successful, decoded response."""


@hookspec
def brokerport_on_error(call: Call, error: BrokerportError) -> None:
    """After any failure, as the typed error the host will receive."""
