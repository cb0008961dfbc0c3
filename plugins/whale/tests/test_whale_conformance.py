"""The brokerport conformance kit against the WhaleAPI sandbox."""

from brokerport.testing.conformance import ConformanceSuite


class TestWhaleConformance(ConformanceSuite):
    vendor = "whale"
