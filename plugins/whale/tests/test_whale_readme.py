"""The README's names table is the catalog: every operation, in order, with its route."""

from __future__ import annotations

import re
from pathlib import Path

from brokerport_whale import WhaleAdapter


def test_readme_table_lists_all_118_operations() -> None:
    text = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| \d+ \| `([a-z0-9_.]+)` \| ([A-Z]+) \| `([^`]+)` \|", text, re.M)
    catalog = WhaleAdapter.catalog()
    assert [(n, m, p) for n, m, p in rows] == [
        (name, catalog[name].method, catalog[name].route) for name in catalog
    ]
    assert len(rows) == 118
