"""The WhaleAPI sandbox: a faithful gateway in process (``brokerport sandbox whale``).

``create_sandbox(**options)`` is the ``brokerport.sandboxes`` entry point.
Options: ``rate_limit`` (requests per second per key, answered with 429002;
default: none), ``require_token`` (default true), ``token_invalid_status``
(401, or 400 as the vendor's TS SDK notes 401004 can arrive), the trade push's
``fill_steps``, ``fill_every``, ``session_ttl``, ``otp_ttl``, and the toolkit's
``clock``, ``enforce_rate_limits``, ``seed``.
"""

from __future__ import annotations

from .state import SEED_ACCOUNT, SEED_MEMBER, WhaleSandbox

__all__ = ["SEED_ACCOUNT", "SEED_MEMBER", "WhaleSandbox", "create_sandbox"]

#: Entry point of ``brokerport.sandboxes``: ``whale`` (options typed from the keywords).
create_sandbox = WhaleSandbox.factory
