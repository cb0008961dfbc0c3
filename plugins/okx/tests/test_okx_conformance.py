"""The brokerport conformance kit, run on the OKX plugin against its sandbox."""

from __future__ import annotations

from brokerport.testing.conformance import ConformanceSuite


class TestOkxConformance(ConformanceSuite):
    vendor = "okx"
