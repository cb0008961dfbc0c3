"""The sandbox toolkit: a vendor's server in process, built from its catalog data.

What :func:`brokerport.connect` starts when a profile has no base URL, what
``brokerport sandbox NAME`` serves and what the conformance kit runs against.
A plugin's ``create_sandbox(**options)`` (entry point ``brokerport.sandboxes``)
returns a :class:`Sandbox` subclass. Never imported by ``import brokerport`` or
by a plugin listing. ``brokerport.testing.sandbox`` re-exports these names.
"""

from .kit import (
    Fault,
    FaultKind,
    FaultPlan,
    Journal,
    JournalEntry,
    SandboxClock,
    dumps_json,
    json_response,
    rsa_sha1_verify,
    verify_digest,
)
from .oauth import Grant, OAuthRefusal, OAuthServer, Token
from .push import PushFaults, PushHub, Subscriber
from .server import BODY, JOURNAL_ENTRY, Fixture, Reject, Sandbox, coerce_options, handles

__all__ = [
    "BODY",
    "JOURNAL_ENTRY",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "Fixture",
    "Grant",
    "Journal",
    "JournalEntry",
    "OAuthRefusal",
    "OAuthServer",
    "PushFaults",
    "PushHub",
    "Reject",
    "Sandbox",
    "SandboxClock",
    "Subscriber",
    "Token",
    "coerce_options",
    "dumps_json",
    "handles",
    "json_response",
    "rsa_sha1_verify",
    "verify_digest",
]
