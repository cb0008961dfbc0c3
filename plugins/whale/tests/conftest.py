"""Fixtures: a client on a MockTransport (wire-level answers), and one on the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.profile import Profile
from brokerport.signing import PreparedRequest
from brokerport.transport import MockTransport
from brokerport_whale import WhaleAdapter

FAST = RetryPolicy(base_delay=0.0, max_delay=0.0)
CREDS = {"app_key": "appkey1", "app_secret": "secret1", "access_token": "tok1"}

Answer = Callable[[PreparedRequest], Any]


@pytest.fixture
def mock_client() -> Callable[..., tuple[Client, MockTransport]]:
    def make(
        handler: Answer,
        *,
        retry: RetryPolicy = FAST,
        credentials: dict[str, str] | None = None,
        **options: str,
    ) -> tuple[Client, MockTransport]:
        transport = MockTransport(handler)
        profile = Profile(
            vendor="whale",
            name="mock",
            base_url="https://openapi.example.test",
            credentials=CREDS if credentials is None else credentials,
            options={"account_no": "A001", **options},
        )
        return Client(WhaleAdapter, profile, transport=transport, retry=retry), transport

    return make


@pytest.fixture(autouse=True, scope="module")
def _collect_garbage_here() -> Any:
    """The spec-walking tests make a lot of garbage: collect it here, not in a timing-
    sensitive test of another plugin that happens to run next (a full collection pausing
    a client's burst makes its requests reach a server in a clump)."""
    yield
    import gc

    gc.collect()
