from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from brokerport.client import Client
from brokerport_acme import AcmeAdapter
from brokerport_acme.sandbox import AcmeSandbox, create_sandbox


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[AcmeSandbox]:
    async with create_sandbox() as sb:  # the toolkit's Sandbox is an async context manager
        assert isinstance(sb, AcmeSandbox)
        yield sb


@pytest_asyncio.fixture
async def client(sandbox: AcmeSandbox) -> AsyncIterator[Client]:
    async with Client(AcmeAdapter, sandbox.profile()) as c:
        yield c
