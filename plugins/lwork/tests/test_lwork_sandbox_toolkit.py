"""lwork's sandbox on the toolkit: the envelope off the catalog, and what it prints."""

from __future__ import annotations

import aiohttp
from brokerport_lwork.sandbox import SEED_USER, LworkSandbox, public_key_pem


async def test_unknown_paths_get_the_lwork_envelope(sandbox: LworkSandbox) -> None:
    async with aiohttp.ClientSession() as s, s.get(f"{sandbox.base_url}/v1/api/nowhere") as r:
        body = await r.json()
    assert r.status == 404 and body["result"] is False and body["mcode"] == "BW_NOT_FOUND"
    assert sandbox.unrouted() == []


def test_identifiers_name_what_a_client_needs() -> None:
    box = LworkSandbox(key_bits=1024)
    ids = box.identifiers()
    assert ids["user_id"] == SEED_USER and "428 (MT4)" in ids["server_ids"]
    assert ids["public_key"] == public_key_pem(box) and "T001117" in ids["public_key_registration"]
    assert set(box.credentials()) == {"tenant_id", "token", "private_key"}
