"""Measure the kit: run it on deliberately broken variants of a plugin (mutants).

A :class:`Mutant` is one defect of a known class patched into a good plugin in this
process (``apply`` enters context managers on an :class:`~contextlib.ExitStack`:
``unittest.mock.patch.object`` on a port, the sandbox or the adapter), and the
contract that must catch it. :func:`run_mutants` runs only that contract (``-k``) per
mutant, so a suite of a dozen mutants takes seconds, and records every failing
contract, whether the failure text leaked a credential, and the detection rate.
``bench/mutants.py`` prints the table; a test asserts 100 %.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence

import attrs

from .report import _collect

__all__ = ["Mutant", "Outcome", "run_mutants", "table"]


@attrs.frozen
class Mutant:
    vendor: str
    name: str
    #: the defect class ("accepts any key", "cancel is a no-op", ...)
    defect: str
    #: the contract (test name) that must fail on it
    contract: str
    apply: Callable[[contextlib.ExitStack], None]


@attrs.frozen
class Outcome:
    mutant: Mutant
    #: every selected contract that failed, and its first line
    failed: tuple[tuple[str, str], ...]
    #: credential values found in a failure text (must be empty)
    leaked: tuple[str, ...] = ()

    @property
    def caught(self) -> bool:
        return any(name == self.mutant.contract for name, _ in self.failed)


def run_mutants(mutants: Iterable[Mutant], secrets: Sequence[str] = ()) -> list[Outcome]:
    """Run the kit's named contract on each mutant, in this process, one after another."""
    outcomes = []
    for mutant in mutants:
        with contextlib.ExitStack() as stack:
            mutant.apply(stack)
            # -vv: the longest failure texts pytest makes; none may show a credential
            rows, _code, texts = _collect(mutant.vendor, keyword=mutant.contract, extra=["-vv"])
        failed = tuple((r[2], r[4]) for r in rows if r[3] in ("FAILED", "ERROR"))
        leaked = tuple(s for s in secrets if any(s in text for text in texts.values()))
        outcomes.append(Outcome(mutant, failed, leaked))
    return outcomes


def table(outcomes: Sequence[Outcome]) -> str:
    """A Markdown table (mutant, defect, contract that caught it) and the detection rate."""
    lines = [
        "| mutant | defect | contract that caught it |",
        "|---|---|---|",
    ]
    for o in outcomes:
        m = o.mutant
        caught = f"`{m.contract}`" if o.caught else f"**missed** (expected `{m.contract}`)"
        if o.leaked:
            caught += " — **its failure text leaked a credential**"
        lines.append(f"| {m.vendor}: {m.name} | {m.defect} | {caught} |")
    n = sum(o.caught and not o.leaked for o in outcomes)
    rate = 100.0 * n / len(outcomes) if outcomes else 0.0
    lines.append(f"\ndetection rate: {n}/{len(outcomes)} = {rate:.0f} %")
    return "\n".join(lines)
