"""Fixtures for the core suite: the in-test "fakex" vendor and its sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from brokerport.client import Client, _global_hooks
from fakex_vendor import FAST_RETRY, Fakex, FakexSandbox


@pytest.fixture(autouse=True)
def _no_leftover_global_hooks() -> Iterator[None]:
    before = list(_global_hooks)
    yield
    leftover = [h for h in _global_hooks if h not in before]
    _global_hooks[:] = before
    assert not leftover, f"a test left global hooks registered: {leftover}"


@pytest.fixture
async def sandbox() -> AsyncIterator[FakexSandbox]:
    sb = FakexSandbox()
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
async def client(sandbox: FakexSandbox) -> AsyncIterator[Client]:
    async with Client(Fakex, sandbox.profile(), retry=FAST_RETRY) as c:
        yield c
