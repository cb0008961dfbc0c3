"""The conformance kit must FAIL the deliberately broken adapter (brokerport_acme.broken).

Two of the kit's contracts are run in-process on both adapters: the good one
passes them, the broken one fails each, and the last two tests show the harm
each bug does to a host.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import brokerport
import pytest
import pytest_asyncio
from brokerport import models as m
from brokerport.adapter import Adapter
from brokerport.client import Client
from brokerport.registry import load_adapter
from brokerport.testing.conformance import ConformanceSuite
from brokerport.testing.samples import Samples, load_samples
from brokerport_acme import AcmeAdapter
from brokerport_acme.broken import BrokenAcmeAdapter
from brokerport_acme.sandbox import AcmeSandbox


class Kit(ConformanceSuite):
    """The kit's contracts, called directly (not collected: no ``Test`` prefix)."""


@pytest_asyncio.fixture(params=[AcmeAdapter, BrokenAcmeAdapter], ids=["acme", "acme-broken"])
async def pair(
    request: pytest.FixtureRequest, sandbox: AcmeSandbox
) -> AsyncIterator[tuple[Client, Samples, bool]]:
    adapter: type[Adapter] = request.param
    async with Client(adapter, sandbox.profile()) as client:
        samples = load_samples("brokerport_acme:samples.toml")(client, sandbox)
        await samples.prepare()
        yield client, samples, adapter is BrokenAcmeAdapter


def test_broken_adapter_is_registered() -> None:
    assert load_adapter("acme-broken") is BrokenAcmeAdapter
    assert BrokenAcmeAdapter.sandbox == "acme"
    assert "subaccounts.delete" not in BrokenAcmeAdapter.operations


async def test_kit_catches_an_ungated_undeclared_operation(
    pair: tuple[Client, Samples, bool], sandbox: AcmeSandbox
) -> None:
    client, _, broken = pair
    contract = Kit().test_undeclared_operations_raise_not_supported_without_io(
        brokerport_client=client, brokerport_sandbox=sandbox
    )
    if broken:
        with pytest.raises(AssertionError, match=r"subaccounts\.delete"):
            await contract
    else:
        await contract


async def test_kit_catches_a_retried_write(
    pair: tuple[Client, Samples, bool], sandbox: AcmeSandbox
) -> None:
    client, samples, broken = pair
    contract = Kit().test_lost_write_is_unknown_outcome_never_repeated(
        brokerport_client=client, samples=samples, brokerport_sandbox=sandbox
    )
    if broken:
        with pytest.raises(pytest.fail.Exception, match=r"declares funding\.withdraw idempotent"):
            await contract
    else:
        await contract


async def test_harm_undeclared_delete_reaches_the_vendor(sandbox: AcmeSandbox) -> None:
    async with Client(BrokenAcmeAdapter, sandbox.profile()) as client:
        await client.subaccounts.create(m.CreateSubAccount(name="desk1"))
        assert "subaccounts.delete" not in client.capabilities
        await client.subaccounts.delete(m.SubAccountRef(name="desk1"))  # should be NotSupported
    assert sandbox.journal.effects("subaccount.delete")  # ... yet it deleted at the vendor


async def test_harm_lost_withdrawal_is_paid_twice(sandbox: AcmeSandbox) -> None:
    async with Client(BrokenAcmeAdapter, sandbox.profile()) as client:
        await client.subaccounts.create(m.CreateSubAccount(name="desk1"))
        await client.funding.request_deposit(
            m.DepositRequest(account_id="desk1", amount=Decimal("100"), currency="USD")
        )
        sandbox.faults.add("lost", "funding.withdraw")
        # The good adapter raises UnknownOutcome here; the broken one resends.
        await client.funding.request_withdrawal(
            m.WithdrawalRequest(account_id="desk1", amount=Decimal("30"), currency="USD")
        )
        [balance] = await client.funding.balances(m.GetBalances(account_id="desk1"))
    assert len(sandbox.journal.effects("funding.withdraw")) == 2
    assert balance.total == Decimal("40")  # 30 asked for, 60 gone


async def test_connect_finds_the_broken_adapter_too() -> None:
    async with brokerport.connect("acme-broken") as client:
        assert isinstance(client.adapter, BrokenAcmeAdapter)
        assert client.sandbox is not None  # the "acme" sandbox, by its name
