"""The procedural part of the OKX samples; the data is ``samples.toml``.

A DMA sub-account withdraws with its own API key (OKX's standard withdrawal
endpoint), so the kit's withdrawal contract needs a second client: what a
TOML table cannot say.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

from brokerport import models as m
from brokerport.client import Client
from brokerport.errors import Conflict
from brokerport.profile import Profile
from brokerport.testing.samples import DataSamples

__all__ = ["OkxSamples"]

_labels = itertools.count(1)
PASSPHRASE = "Kit-pass1!"


class OkxSamples(DataSamples):
    def _client(self, credentials: dict[str, str], **options: str) -> Client:
        profile = self.client.profile
        own = Profile(vendor="okx", name="kit-own", base_url=profile.base_url,
                      credentials=credentials, options={**profile.options, **options})  # fmt: skip
        return Client(self.client.adapter_cls, own)

    async def oauth_calls(self, what: str) -> Any:
        """``hook``: ``keys.renew_token`` or ``okx.oauth`` ``refresh`` with the sandbox OAuth
        user's token pair (the kit's own client holds an API key, which has no OAuth)."""
        sandbox: Any = self.sandbox
        async with self._client(sandbox.oauth_credentials()) as client:
            if what == "renew_token":
                return await client.keys.renew_token(m.RenewToken())
            return await client.ext("okx.oauth").refresh()

    async def demo_assets(self) -> Any:
        """``hook``: ``subaccounts.set_demo_assets`` exists in demo trading only."""
        sandbox: Any = self.sandbox
        async with self._client(sandbox.demo_credentials(), simulated="1") as client:
            name = f"kitdemo{next(_labels):04d}"
            await client.subaccounts.create(m.CreateSubAccount(name=name))
            return await client.subaccounts.set_demo_assets(
                m.SetDemoAssets(name=name, currencies=("ETH",))
            )

    @contextlib.asynccontextmanager
    async def withdrawal_client(self, account_id: str) -> AsyncIterator[Client]:
        """Create the sub-account and a key with withdraw permission, fund it (sandbox
        helper), and connect with that key."""
        with contextlib.suppress(Conflict):
            await self.client.subaccounts.create(m.CreateSubAccount(name=account_id))
        key = await self.client.keys.create(
            m.CreateApiKey(
                owner=account_id,
                label=f"wd{next(_labels)}",
                passphrase=PASSPHRASE,
                permissions=("read", "withdraw"),
            )
        )
        sandbox: Any = self.sandbox
        if sandbox is not None:
            sandbox.add_deposit(account_id, "USDT", "1000")
        profile = self.client.profile
        secret = key.secret_key.reveal() if key.secret_key else ""
        creds = {"api_key": key.api_key, "secret_key": secret, "passphrase": PASSPHRASE}
        own = Profile(
            vendor="okx",
            name="kit-withdrawal",
            base_url=profile.base_url,
            credentials=creds,
            options=dict(profile.options),
        )
        async with Client(self.client.adapter_cls, own) as client:
            yield client
