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

Hooks receive a :class:`~brokerport.pipeline.HookCall` (a
:class:`~brokerport.pipeline.Call`): the endpoint, the parameters (mutable in
``before_request``: add a tag, a header), and a redacted view of the
credentials. They never see a secret:

* ``call.params`` is a :class:`~brokerport.pipeline.RedactedParams` view.
  Every parameter the endpoint marks ``sensitive`` and every
  :class:`~brokerport.types.Secret` reads as ``"***"`` however it is read
  (``[]``, ``get``, iteration, ``dict()``, ``repr``); a list or dict holding
  one reads as a redacted copy. The view is built from a redacted copy: no
  attribute of it leads to the real values.
* What a ``before_request`` hook sets, changes or deletes reaches the wire
  (validated and signed like the host's own parameters). Writing ``"***"``
  (or the redacted copy it read) back to a hidden parameter changes nothing;
  assigning a new value to it replaces the secret, and it reads as ``"***"``.
* ``after_response`` gets the result with credential fields and Secrets
  shown as ``"***"`` (a model's Secret field as ``Secret("***")``).

Python has no isolation inside one process: code that walks interpreter
frames or the garbage collector can find anything; this covers the objects
hooks are given and whatever they reach by attribute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .client import Client
    from .errors import BrokerportError
    from .pipeline import HookCall, ResponseInfo

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
def brokerport_before_request(call: HookCall) -> None:
    """Before validation and signing. May change ``call.params`` and ``call.headers``.

    Runs once per logical call (not per retry). Changes are validated and
    signed like the host's own parameters. ``call.params`` is a redacted view
    (see the module docs): writing ``"***"`` back never replaces a secret.
    """


@hookspec
def brokerport_after_response(call: HookCall, response: ResponseInfo, result: Any) -> None:
    """After a successful, decoded response; ``result`` has its credentials redacted."""


@hookspec
def brokerport_on_error(call: HookCall, error: BrokerportError) -> None:
    """After any failure, as the typed error the host will receive."""
