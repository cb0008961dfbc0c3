"""brokerport-wlink: the wlink (WikiBroker) forex CRM adapter for brokerport.

``brokerport.connect("wlink", profile)``; the embedded sandbox is
:mod:`brokerport_wlink.sandbox`. See the package README for the two auth
modes, ports, profile keys and the assumptions made where the documents are silent.
"""

from __future__ import annotations

from .adapter import WlinkAdapter

__all__ = ["WlinkAdapter"]
__version__ = "0.1.0"
