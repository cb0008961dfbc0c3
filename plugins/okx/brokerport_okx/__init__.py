"""brokerport adapter for the OKX V5 broker program (DMA, FD, OAuth).

``brokerport.connect("okx", profile)``; the sandbox is
:mod:`brokerport_okx.sandbox`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .adapter import OkxAdapter

if TYPE_CHECKING:
    from .catalog import build_catalog

__all__ = ["OkxAdapter", "__version__", "build_catalog"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # build_catalog lives in .catalog (brokerport.catalog, attrs): imported on first
    # use, not when `brokerport plugins` imports the adapter
    if name == "build_catalog":
        from .catalog import build_catalog

        return build_catalog
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
