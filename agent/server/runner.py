"""Run the app in a real uvicorn server on a free loopback port, in a background thread.

For tests, examples and benchmarks: the server is the same one ``confidante serve`` runs, over
a real socket, so any HTTP client (the ``openai`` package, a browser) can talk to it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from confidante.errors import ConfidanteError


@contextmanager
def running_server(
    app: FastAPI, *, host: str = "127.0.0.1", port: int = 0, timeout_s: float = 60.0
) -> Iterator[str]:
    """Serve ``app`` while the block runs; yields its base URL (``http://127.0.0.1:PORT``).

    Args:
        app: The application (see :func:`confidante.server.create_app`).
        host: The address to listen on.
        port: The port (0: a free one).
        timeout_s: How long start-up may take.

    Raises:
        ConfidanteError: The server did not start in time (its start-up failed).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="confidante-http", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ConfidanteError("the HTTP server did not start (see the log above)")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
