"""``brokerport conformance NAME``: run the kit with pytest and print a table."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

__all__ = ["collect_conformance", "run_conformance"]


class _Collector:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []
        #: contract -> the whole failure text pytest would print (for leak checks)
        self.failures: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            meta = dict(report.user_properties).get("brokerport_contract")
            port, operation = meta if meta else ("?", "?")
            name = report.nodeid.rsplit("::", 1)[-1]
            if report.passed:
                outcome, why = "passed", ""
            elif report.skipped:
                outcome = "skipped"
                longrepr = report.longrepr
                why = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
                why = why.removeprefix("Skipped: ")
            else:
                outcome = "FAILED" if report.when == "call" else "ERROR"
                why = _first_line(report)
                self.failures[name] = str(report.longrepr)
            self.rows.append((port, operation, name, outcome, why))

    def pytest_runtest_setup(self, item: Any) -> None:
        marker = item.get_closest_marker("brokerport_contract")
        if marker is not None:
            item.user_properties.append(("brokerport_contract", (marker.args[0], marker.args[1])))


def _first_line(report: Any) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 140 else line[:137] + "..."


def collect_conformance(
    name: str, *, keyword: str | None = None, verbose: bool = False
) -> tuple[list[tuple[str, str, str, str, str]], int]:
    """Run the kit on the installed plugin ``name`` in this process (pytest, in a scratch
    root): the rows (port, operation, contract, result, why) and pytest's exit code."""
    rows, code, _ = _collect(name, keyword=keyword, verbose=verbose)
    return rows, code


def _collect(
    name: str, *, keyword: str | None = None, verbose: bool = False, extra: Sequence[str] = ()
) -> tuple[list[tuple[str, str, str, str, str]], int, dict[str, str]]:
    import pytest

    from . import _run_conformance

    collector = _Collector()
    with tempfile.TemporaryDirectory() as tmp:
        ini = os.path.join(tmp, "pytest.ini")
        with open(ini, "w", encoding="utf-8") as f:
            f.write(
                "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
            )
        args = [
            _run_conformance.__file__,
            "-c",
            ini,
            "--rootdir",
            tmp,
            "-p",
            "no:cacheprovider",
            f"--brokerport-vendor={name}",
            "-W",
            "error::pytest.PytestUnraisableExceptionWarning",
        ]
        if keyword:
            args += ["-k", keyword]
        if extra:  # the terminal's own options (-vv): its output is kept, not printed
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = pytest.main([*args, *extra], plugins=[collector])
            collector.failures["(terminal output)"] = out.getvalue()
        else:
            args += ["-q"] if verbose else ["-p", "no:terminal"]
            code = pytest.main(args, plugins=[collector])
    return collector.rows, int(code), collector.failures


def run_conformance(name: str, *, verbose: bool = False, keyword: str | None = None) -> int:
    rows, code = collect_conformance(name, keyword=keyword, verbose=verbose)
    if not rows:
        print(
            f"brokerport conformance {name}: no contract ran (pytest exit {int(code)})",
            file=sys.stderr,
        )
        return 1
    widths = [
        max(len(r[i]) for r in [*rows, ("port", "operation", "contract", "result", "")])
        for i in range(4)
    ]
    header = ("port", "operation", "contract", "result", "why")
    print(f"brokerport conformance: {name}")
    print("  ".join(h.ljust(widths[i]) if i < 4 else h for i, h in enumerate(header)))
    print("  ".join("-" * w for w in widths) + "  ---")
    for row in sorted(rows, key=lambda r: (r[0] == "*", r[0], r[1])):
        print("  ".join(c.ljust(widths[i]) if i < 4 else c for i, c in enumerate(row)))
    counts = {
        k: sum(1 for r in rows if r[3] == k) for k in ("passed", "skipped", "FAILED", "ERROR")
    }
    print(
        f"\n{counts['passed']} passed, {counts['FAILED'] + counts['ERROR']} failed, "
        f"{counts['skipped']} skipped"
    )
    return 0 if counts["FAILED"] == counts["ERROR"] == 0 and int(code) in (0, 5) else 1
