"""The brokerport conformance kit, run on the Acme plugin: one subclass is all it takes."""

from brokerport.testing.conformance import ConformanceSuite


class TestAcmeConformance(ConformanceSuite):
    vendor = "acme"  # the adapter's entry-point name; Samples come from AcmeAdapter.samples
