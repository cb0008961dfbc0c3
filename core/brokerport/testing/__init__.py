"""brokerport.testing: the conformance kit.

* :mod:`brokerport.sandbox` (moved out of here; `brokerport.testing.sandbox`
  re-exports it) — build a vendor sandbox (aiohttp app,
  journal, clock, faults, rate limits, signature helpers).
* :mod:`brokerport.testing.conformance` — the contract suite a plugin opts
  into by subclassing (see the plugin-author guide).
* :mod:`brokerport.testing.pytest_plugin` — registered through the
  ``pytest11`` entry point: fixtures and the ``--brokerport-vendor`` option.
"""
