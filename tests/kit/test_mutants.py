"""The kit measured: every mutant fails the contract named for its defect, no failure
text shows a credential, and the good plugins pass (their own conformance tests)."""

from __future__ import annotations

import pytest
from brokerport.testing.mutants import run_mutants, table
from kit_mutants import MUTANTS, SECRETS


def test_every_mutant_is_caught_by_the_contract_named_for_its_defect(
    capsys: pytest.CaptureFixture[str],
) -> None:
    outcomes = run_mutants(MUTANTS, SECRETS)
    report = table(outcomes)
    with capsys.disabled():
        print("\n" + report)
    missed = [o.mutant.name for o in outcomes if not o.caught]
    leaked = [o.mutant.name for o in outcomes if o.leaked]
    assert not missed, f"mutants the kit missed: {missed}\n{report}"
    assert not leaked, f"failure texts that leaked a credential: {leaked}"
