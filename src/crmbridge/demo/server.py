"""Serving crmbridge's web application from a thread (the demo, tests, ``serve``'s peers).

``crmbridge serve`` runs uvicorn in the foreground; the demo needs the API and its own
loop in one process, and end-to-end tests need a real HTTP server that the emulator's
Outbound Message delivery can reach. :class:`ApiServerThread` gives both.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn

#: How long a stop waits for open keep-alive connections before closing them.
GRACEFUL_SHUTDOWN_SECONDS = 2


class ApiServerThread:
    """An ASGI app served over plain HTTP by uvicorn in a background thread.

    Args:
        app: the ASGI application (``crmbridge.web.app.create_app(...)``); it may be set
            later, after :meth:`bind`.
        host: interface to listen on.
        port: TCP port; 0 picks a free one (see :attr:`port` after :meth:`start`).
    """

    def __init__(self, app: Any | None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` once started."""
        if self.port is None:
            raise RuntimeError("the server is not running")
        return f"http://{self.host}:{self.port}"

    def bind(self) -> int:
        """Take the port now (before the app exists, when its settings need the URL).

        Raises:
            OSError: the port is taken.
        """
        if self._socket is None:
            sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self.requested_port))
            except OSError:
                sock.close()
                raise
            sock.listen(256)
            self._socket = sock
            self.port = int(sock.getsockname()[1])
        return int(self.port or 0)

    def start(self, *, timeout: float = 30.0) -> str:
        """Bind (unless :meth:`bind` did), serve, wait until uvicorn accepts connections.

        Returns:
            The base URL.

        Raises:
            OSError: the port is taken.
            RuntimeError: no app, or the server did not start in time.
        """
        if self.app is None:
            raise RuntimeError("set the app before starting the server")
        self.bind()
        sock = self._socket
        assert sock is not None
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        server = uvicorn.Server(config)
        # uvicorn listens to signals only in the main thread: SIGINT and SIGTERM stay
        # with the demo or the test that owns the process.
        self._server = server
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])),
            name="crmbridge-api",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        return self.base_url

    def stop(self) -> None:
        """Stop serving (waits for requests in flight, a few seconds at most)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=GRACEFUL_SHUTDOWN_SECONDS + 10)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> ApiServerThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
