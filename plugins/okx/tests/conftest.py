from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from brokerport.catalog import Endpoint
from brokerport.client import Client
from brokerport.pipeline import RetryPolicy
from brokerport.profile import Profile
from brokerport.ratelimit import Limiter, LimiterRegistry
from brokerport_okx import OkxAdapter
from brokerport_okx.sandbox import OkxSandbox


class NoLimits(LimiterRegistry):
    """For functional tests where rate limits are not the point."""

    def for_endpoint(self, endpoint: Endpoint, scope: str = "") -> Limiter | None:
        return None


@pytest.fixture
def no_limits() -> type[LimiterRegistry]:
    return NoLimits


FAST = RetryPolicy(base_delay=0.0, max_delay=0.0)


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[OkxSandbox]:
    sb = OkxSandbox(enforce_rate_limits=False)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
def make_client(sandbox: OkxSandbox) -> Callable[..., Client]:
    def make(
        credentials: dict[str, str] | None = None, *, limits: bool = False, **options: str
    ) -> Client:
        assert sandbox.base_url is not None
        profile = Profile(
            vendor="okx",
            name="test",
            base_url=sandbox.base_url,
            credentials=credentials or sandbox.live_credentials(),
            options=options,
        )
        kw: dict[str, Any] = {"retry": FAST}
        if not limits:
            kw["limiters"] = NoLimits()
        return Client(OkxAdapter, profile, **kw)

    return make


@pytest_asyncio.fixture
async def client(make_client: Callable[..., Client]) -> AsyncIterator[Client]:
    async with make_client(broker_code="BRKCODE01") as c:
        yield c
