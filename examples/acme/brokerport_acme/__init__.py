"""brokerport-acme: the example plugin for Acme Prime, a made-up prime broker, found
through its entry points: ``brokerport.connect("acme")``. Keep it cheap to import."""

from .adapter import AcmeAdapter

__all__ = ["AcmeAdapter"]
__version__ = AcmeAdapter.version
