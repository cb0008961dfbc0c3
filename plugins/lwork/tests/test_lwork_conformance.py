"""The brokerport conformance kit, run on the lwork plugin against its sandbox."""

from __future__ import annotations

from typing import Any, ClassVar

from brokerport.testing.conformance import ConformanceSuite


class TestLworkConformance(ConformanceSuite):
    vendor = "lwork"
    sandbox_options: ClassVar[dict[str, Any]] = {"key_bits": 1024}
