"""brokerport-acme: the example plugin for Acme Prime, a made-up prime broker.

Found through its entry points (pyproject.toml): ``brokerport.connect("acme")``.
Keep it cheap to import: ``brokerport plugins`` imports every adapter class.
"""

from .adapter import AcmeAdapter

__all__ = ["AcmeAdapter"]
__version__ = AcmeAdapter.version
