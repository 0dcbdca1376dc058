"""Run the emulated org as an HTTPS server in a background thread.

Used by ``crmbridge emulator`` and by the test fixture::

    server = EmulatorServer(tmp_path, port=0)   # 0 picks a free port
    info = server.start()                        # login_url, ca_cert, credentials …
    ...
    server.stop()

The org lives in ``data_dir`` (``org.sqlite3`` plus the TLS files), so starting again on
the same directory finds the same records, users, credentials and tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from crmbridge.emulator.app import build_app
from crmbridge.emulator.certs import ensure_certificates
from crmbridge.emulator.context import DEFAULT_API_VERSION, EmulatorContext, EmulatorOptions

#: Seed number used when none is given, so two runs with the same flags match.
DEFAULT_SEED = 42


class EmulatorServer:
    """One emulated org served over HTTPS by uvicorn in a background thread."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed_contacts: int = 0,
        seed: int = DEFAULT_SEED,
        schema_file: Path | str | None = None,
        options: EmulatorOptions | None = None,
        **option_overrides: Any,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.host = host
        self.requested_port = port
        self.seed_contacts = seed_contacts
        self.seed = seed
        self.options = options or EmulatorOptions()
        if schema_file is not None:
            self.options.schema_file = Path(schema_file)
        for key, value in option_overrides.items():
            if not hasattr(self.options, key):
                raise TypeError(f"unknown emulator option {key!r}")
            setattr(self.options, key, value)
        self.ctx: EmulatorContext | None = None
        self.port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._info: dict[str, Any] | None = None
        #: What the seed generator created on this start (empty when it did nothing).
        self.seeded: dict[str, int] = {}

    # --- lifecycle ----------------------------------------------------------------------

    def start(self, *, timeout: float = 30.0) -> dict[str, Any]:
        """Open the org, seed it if asked, listen; return the connection info."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        tls = ensure_certificates(self.data_dir / "tls", (self.host,))
        ctx = EmulatorContext(self.data_dir, self.options)
        self.ctx = ctx
        if self.seed_contacts:
            self.seeded = seed_org_if_new(ctx, seed=self.seed, contacts=self.seed_contacts)
        # The parser's tables and each table's count, loaded before the first request.
        ctx.query_engine.warm()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.requested_port))
        sock.listen(512)
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        display_host = f"[{self.host}]" if ":" in self.host else self.host
        ctx.base_url = f"https://{display_host}:{self.port}"
        config = uvicorn.Config(
            build_app(ctx),
            ssl_certfile=str(tls.server_cert),
            ssl_keyfile=str(tls.server_key),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=self._serve, args=(server, sock), name="crmbridge-emulator", daemon=True
        )
        for hook in ctx.on_start:
            hook(ctx)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)
        self._socket = sock
        self._info = self._build_info(tls.ca_cert)
        return self._info

    def stop(self) -> None:
        """Stop serving and close the org (data stays in ``data_dir``)."""
        server, thread, loop = self._server, self._thread, self._loop
        if server is not None:
            server.should_exit = True
        if server is not None and thread is not None and loop is not None:
            # Idle keep-alive TLS connections would hold uvicorn's graceful shutdown until
            # the peer answers close_notify; drop them once their response is complete.
            deadline = time.monotonic() + 15
            while thread.is_alive() and time.monotonic() < deadline:
                if not loop.is_closed():
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(_drop_idle_connections, server)
                thread.join(timeout=0.05)
        ctx = self.ctx
        if ctx is not None:
            for hook in ctx.on_stop:
                hook(ctx)
            ctx.limits.flush()
            ctx.close()
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None
        self._loop = None
        self.ctx = None

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        """The server thread: uvicorn on an event loop of its own."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait(self) -> None:
        """Block until the server stops (``crmbridge emulator`` runs in the foreground)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    # --- connection info -----------------------------------------------------------------

    @property
    def info(self) -> dict[str, Any]:
        """What a client needs to connect (see :meth:`start`)."""
        if self._info is None:
            raise RuntimeError("the emulator is not running")
        return self._info

    def _build_info(self, ca_cert: Path) -> dict[str, Any]:
        ctx = self.ctx
        assert ctx is not None
        base = ctx.base_url
        credentials = ctx.auth.describe()
        return {
            "login_url": base,
            "instance_url": base,
            "ca_cert": str(ca_cert.resolve()),
            "host": self.host,
            "port": self.port,
            "api_version": DEFAULT_API_VERSION,
            "org_id": ctx.org_id,
            "user_id": credentials["user_id"],
            "username": credentials["username"],
            "password": credentials["password"],
            "security_token": credentials["security_token"],
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
            "token_url": f"{base}/services/oauth2/token",
            "authorize_url": f"{base}/services/oauth2/authorize",
            "soap_url": f"{base}/services/Soap/u/{DEFAULT_API_VERSION}",
            # simple-salesforce builds https://{domain}.salesforce.com/services/Soap/u/…;
            # this domain points that URL here (the '#' drops the rest as a fragment).
            "simple_salesforce_domain": f"{base.removeprefix('https://')}"
            f"/services/Soap/u/{DEFAULT_API_VERSION}#",
            "admin_url": f"{base}/__emulator",
            "admin_token": ctx.admin_token,
            "data_dir": str(self.data_dir.resolve()),
        }

    def write_info(self, path: Path | str) -> None:
        """Write the connection info as JSON (``--info-file``), readable by the owner only."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.info, indent=2) + "\n", encoding="utf-8")
        target.chmod(0o600)


def _drop_idle_connections(server: uvicorn.Server) -> None:
    """Abort connections that are not in the middle of a request (runs on the server loop)."""
    for connection in list(server.server_state.connections):
        cycle = getattr(connection, "cycle", None)
        transport = getattr(connection, "transport", None)
        if transport is not None and (cycle is None or cycle.response_complete):
            transport.abort()


def seed_org_if_new(ctx: EmulatorContext, *, seed: int, contacts: int) -> dict[str, int]:
    """Run the seed generator on a new org (``--seed-contacts``); a seeded org is kept."""
    if importlib.util.find_spec("crmbridge.emulator.seed") is None:
        raise RuntimeError("--seed-contacts needs the seed generator (crmbridge.emulator.seed)")
    from crmbridge.emulator.seed import seed_if_empty

    return seed_if_empty(ctx.store, seed=seed, contacts=contacts) or {}
