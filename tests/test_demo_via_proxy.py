"""`brokerport demo --via-proxy`: every sandbox reached through a real proxy.py."""

from __future__ import annotations

import contextlib
import io

from brokerport.cli import main


def test_demo_via_proxy_reaches_the_sandbox_through_proxy_py() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "acme", "--via-proxy"])
    text = out.getvalue()
    assert code == 0, text
    assert "proxy: proxy.py listening on 127.0.0.1:" in text
    assert "reached through ProxySettings('http://127.0.0.1:" in text
    assert "password=***" in text
    assert "proxy.py logged 1 CONNECT tunnel(s) to the sandbox" in text
    assert "demo finished: all plugins walked cleanly" in text
