"""The brokerport conformance kit, run on the OKX plugin against its sandbox."""

from __future__ import annotations

import pytest
from brokerport.testing.conformance import ConformanceSuite

# stevedore >= 5.5 deprecates the verify_requirements argument the core registry passes
pytestmark = pytest.mark.filterwarnings(
    "ignore:The verify_requirements argument:DeprecationWarning"
)


class TestOkxConformance(ConformanceSuite):
    vendor = "okx"
