"""pytest plugin (``pytest11`` entry point ``brokerport``): kit options and markers.

Loaded by pytest in any environment where brokerport is installed; it only
registers the ``--brokerport-vendor`` option and the ``brokerport_contract``
marker, and imports nothing heavy. The suite itself is opted into by
subclassing :class:`brokerport.testing.conformance.ConformanceSuite`.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("brokerport")
    group.addoption(
        "--brokerport-vendor",
        dest="brokerport_vendor",
        default=None,
        help="adapter entry-point name the brokerport conformance suite runs against",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "brokerport_contract(port, operation, requires): a brokerport conformance contract",
    )
