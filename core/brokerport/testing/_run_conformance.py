"""The test module ``brokerport conformance NAME`` runs (vendor from the option)."""

from brokerport.testing.conformance import ConformanceSuite


class TestConformance(ConformanceSuite):
    pass
