"""brokerport adapter for the OKX V5 broker program (DMA, FD, OAuth).

``brokerport.connect("okx", profile)``; the sandbox is
:mod:`brokerport_okx.sandbox`.
"""

from __future__ import annotations

from .adapter import OkxAdapter

__all__ = ["OkxAdapter", "__version__"]

__version__ = "0.1.0"
