"""Acme's sandbox on the toolkit: Acme's envelope everywhere, even off the catalog."""

from __future__ import annotations

import aiohttp
from brokerport_acme.protocol import ERRORS
from brokerport_acme.sandbox import AcmeSandbox


async def test_unknown_paths_and_methods_get_acmes_envelope(sandbox: AcmeSandbox) -> None:
    async with aiohttp.ClientSession() as s:
        async with s.get(f"{sandbox.base_url}/v1/nowhere") as r:
            assert r.status == 404
            assert await r.json() == {
                "ok": False,
                "error": {"code": "ACME-4040", "message": "not found: /v1/nowhere"},
            }
        async with s.put(f"{sandbox.base_url}/v1/subaccounts") as r:
            body = await r.json()
            assert r.status == 405 and body["error"]["code"] == "ACME-1001"
    assert sandbox.unrouted() == []


async def test_refusals_use_the_readme_table(sandbox: AcmeSandbox) -> None:
    async with aiohttp.ClientSession() as s, s.get(f"{sandbox.base_url}/v1/subaccounts") as r:
        body = await r.json()  # no signature headers
    assert r.status == ERRORS.status("ACME-2002") == 401
    assert body["error"] == {"code": "ACME-2002", "message": ERRORS.message("ACME-2002")}
