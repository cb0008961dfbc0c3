"""The conformance kit against the wlink sandbox (signed mode, the sandbox's default)."""

from __future__ import annotations

from brokerport.testing.conformance import ConformanceSuite


class TestWlinkConformance(ConformanceSuite):
    vendor = "wlink"
