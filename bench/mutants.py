"""The conformance kit's detection rate: run it on every mutant and print the table.

    python bench/mutants.py

Each mutant is a good plugin with one defect patched in (``tests/kit/kit_mutants.py``);
the kit runs only the contract that must catch it. Goal: 100 %.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "kit"))

from brokerport.testing.mutants import run_mutants, table
from kit_mutants import MUTANTS, SECRETS

if __name__ == "__main__":
    outcomes = run_mutants(MUTANTS, SECRETS)
    print(table(outcomes))
    sys.exit(0 if all(o.caught and not o.leaked for o in outcomes) else 1)
