"""The guides in docs/ are executed: every ```python block, in order, one namespace per page.

Top-level ``await`` is allowed (as in ``python -m asyncio``). A block preceded
by ``<!-- not-run -->`` is an excerpt and is skipped.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import types
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"(<!-- not-run -->\s*)?```python\n(.*?)```", re.S)
PAGES = sorted(p for p in DOCS.glob("*.md") if "```python" in p.read_text(encoding="utf-8"))


def blocks(page: Path) -> list[tuple[int, str]]:
    text = page.read_text(encoding="utf-8")
    out = []
    for match in BLOCK.finditer(text):
        if match.group(1):
            continue
        line = text.count("\n", 0, match.start(2)) + 1
        out.append((line, match.group(2)))
    return out


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
async def test_guide_code_runs(page: Path) -> None:
    found = blocks(page)
    assert found, f"{page.name} has no runnable block"
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    module = types.ModuleType(str(namespace["__name__"]))
    namespace = module.__dict__
    for line, source in found:
        code = compile(
            "\n" * (line - 1) + source,
            str(page),
            "exec",
            flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        )
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = eval(code, namespace)
            if result is not None:
                await result
