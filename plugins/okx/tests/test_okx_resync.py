"""On 50102 the client learns the server clock from GET /api/v5/public/time and retries once."""

from __future__ import annotations

from typing import Any

import pytest
from brokerport.errors import AuthenticationError
from brokerport_okx.sandbox import OkxSandbox


@pytest.mark.parametrize("skew", [120.0, -95.0])
async def test_clock_skew_resync_then_one_retry(
    make_client: Any, sandbox: OkxSandbox, skew: float
) -> None:
    sandbox.clock.advance(skew)
    async with make_client() as c:
        data = await c.call("broker.dma.create_subaccount", subAcct="skewTest1")
        assert data[0]["subAcct"] == "skewTest1"
        assert c.clock_offset == pytest.approx(skew, abs=2.0)
        names = [e.endpoint for e in sandbox.journal]
        assert names == [
            "broker.dma.create_subaccount",
            "public.time",
            "broker.dma.create_subaccount",
        ]
        assert sandbox.journal.entries[0].status == 401
        assert len(sandbox.journal.effects()) == 1
        # later calls are signed on the learned clock: no more 50102
        await c.call("broker.dma.subaccount_info")
        assert len(sandbox.journal) == 4


async def test_resync_happens_at_most_once_per_call(make_client: Any, sandbox: OkxSandbox) -> None:
    ticks = iter(range(10**6))

    def runaway_clock() -> float:  # a local clock that jumps 100 s on every reading
        return float(next(ticks) * 100)

    async with make_client() as c:
        c.clock = runaway_clock
        with pytest.raises(AuthenticationError) as info:
            await c.call("broker.dma.subaccount_info")
    assert info.value.vendor_code == "50102"
    kinds = [e.endpoint for e in sandbox.journal]
    assert kinds.count("public.time") == 1
    assert kinds.count("broker.dma.subaccount_info") == 2


async def test_concurrent_50102_share_one_time_request(
    make_client: Any, sandbox: OkxSandbox
) -> None:
    import asyncio

    sandbox.clock.advance(-200)
    async with make_client() as c:
        results = await asyncio.gather(
            *(
                c.call("broker.dma.report_subaccount_ip", subAcct="nobody01", clientIP="1.1.1.1")
                for _ in range(6)
            ),
            return_exceptions=True,
        )
    # every call was re-sent on the learned clock and reached the handler (59510)
    assert [getattr(r, "vendor_code", None) for r in results] == ["59510"] * 6
    assert len(sandbox.journal.for_endpoint("public.time")) <= 2
