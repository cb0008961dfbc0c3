"""brokerport-lwork: the lwork (twapi) MT4/MT5 CRM adapter for brokerport.

``brokerport.connect("lwork", profile)``; the embedded sandbox is
:mod:`brokerport_lwork.sandbox`. See the package README for endpoints, ports,
profile keys and the assumptions made where the vendor documents are silent.
"""

from __future__ import annotations

from .adapter import LworkAdapter

__all__ = ["LworkAdapter"]
__version__ = "0.1.0"
