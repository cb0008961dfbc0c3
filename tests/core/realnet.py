"""Real servers on 127.0.0.1 for the production-transport tests.

* :class:`ProxyPy` — the ``proxy.py`` HTTP proxy (PyPI ``proxy.py``) in a
  subprocess: CONNECT tunnels, optionally ``--basic-auth``. Its access log
  (stderr) names every tunnel, which proves traffic went through it.
* :class:`PProxySocks5` — the ``pproxy`` SOCKS5 server (PyPI ``pproxy``) in a
  subprocess, with username/password.
* :class:`Relay` — a TCP relay (asyncio) in front of a server: counts the
  connections made through it and can drop the first N (a proxy that drops
  the connection). Not a mock: real sockets, real bytes.
* :func:`tls_site` — a sandbox's aiohttp app served over TLS (``trustme`` certificates).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from brokerport.testing.sandbox import Sandbox


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start listening on {port}")


class ProxyPy:
    """proxy.py in a subprocess; ``basic_auth`` is ``"user:password"`` or None."""

    def __init__(self, basic_auth: str | None = None) -> None:
        self.basic_auth = basic_auth
        self.dir = Path(tempfile.mkdtemp(prefix="bp-proxypy-"))
        self.log_path = self.dir / "proxy.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ProxyPy:
        port_file = self.dir / "port"
        args = [
            sys.executable,
            "-m",
            "proxy",
            "--hostname",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--num-acceptors",
            "1",
            "--num-workers",
            "1",
            "--log-level",
            "INFO",
        ]
        if self.basic_auth:
            args += ["--basic-auth", self.basic_auth]
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = port_file.read_text() if port_file.exists() else ""
            if text.strip():
                self.port = int(text)
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"proxy.py exited: {self.log_path.read_text()}")
            time.sleep(0.05)
        _wait_listening(self.port, self.proc, "proxy.py")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tunnels_to(self, port: int) -> int:
        """CONNECT tunnels to 127.0.0.1:port (or localhost:port) in proxy.py's access log."""
        text = self.log_path.read_text(errors="replace")
        return sum(
            1
            for line in text.splitlines()
            if "CONNECT" in line and (f"127.0.0.1:{port}" in line or f"localhost:{port}" in line)
        )

    def wait_tunnels_to(self, port: int, at_least: int = 1, timeout: float = 5.0) -> int:
        """proxy.py logs a tunnel when it closes: wait for it to appear."""
        deadline = time.monotonic() + timeout
        while True:
            n = self.tunnels_to(port)
            if n >= at_least or time.monotonic() > deadline:
                return n
            time.sleep(0.05)


class PProxySocks5:
    """pproxy serving SOCKS5 with username/password (``--auth 0``: no per-IP auth cache)."""

    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self.password = password
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PProxySocks5:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                # pproxy installs uvloop when it can import it, which fails under
                # uvloop >= 0.22 (brokerport[speed], the benchmarks): plain asyncio
                "import sys; sys.modules['uvloop'] = None; sys.argv[0] = 'pproxy'; "
                "from pproxy.server import main; main()",
                "-l",
                f"socks5://127.0.0.1:{self.port}#{self.user}:{self.password}",
                "--auth",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_listening(self.port, self.proc, "pproxy")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


class Relay:
    """A TCP relay to ``target_port``: counts connections; drops the first ``drop`` ones
    (``drop=-1``: all): with a reset as they arrive (``how="reset"``), or closing
    once it has read what the client sent first (``how="after_request"``)."""

    def __init__(self, target_port: int, *, drop: int = 0, how: str = "reset") -> None:
        self.target_port = target_port
        self.drop = drop
        self.how = how
        self.connections = 0
        self.dropped = 0
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.drop < 0 or self.dropped < self.drop:
            self.dropped += 1
            if self.how == "after_request":
                with contextlib.suppress(ConnectionError):
                    await reader.read(65536)
                writer.close()
                return
            sock = writer.get_extra_info("socket")
            # RST, as a proxy that dies or refuses mid-handshake
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def _spawn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._handle(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.start_server(self._spawn, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def tls_site(
    sandbox: Sandbox, context: ssl.SSLContext, host: str = "localhost"
) -> AsyncIterator[str]:
    """Serve ``sandbox``'s app over TLS on 127.0.0.1; yields ``https://{host}:{port}``."""
    runner = web.AppRunner(sandbox.app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        yield f"https://{host}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
