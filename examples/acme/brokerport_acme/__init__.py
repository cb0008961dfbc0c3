"""brokerport-acme: the example third-party plugin (Acme Prime, a made-up prime broker).

The entry points in pyproject.toml make it discoverable::

    async with brokerport.connect("acme") as client:   # embedded sandbox
        sub = await client.subaccounts.create(CreateSubAccount(name="desk1"))

Keep this module cheap to import: ``brokerport plugins`` imports every
adapter class to list what it declares.
"""

from .adapter import AcmeAdapter, AcmeSigner

__all__ = ["AcmeAdapter", "AcmeSigner"]
__version__ = AcmeAdapter.version
