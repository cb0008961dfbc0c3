"""brokerport-whale: the WhaleAPI (LongBridge / LongPort "Whale") adapter for brokerport.

``brokerport.connect("whale", profile)``; the embedded sandbox is
:mod:`brokerport_whale.sandbox`. See the package README for the operation names,
ports, profile keys and the assumptions made where the vendor documents are silent.
"""

from __future__ import annotations

from .adapter import WhaleAdapter

__all__ = ["WhaleAdapter"]
__version__ = "0.1.0"
