"""Running an ASGI app under uvicorn on a socket we bind ourselves.

Binding first lets `--port 0` pick a free port and lets the command print the real URL
(`listening on http://HOST:PORT`, flushed to stdout) before it serves — tests and scripts
read that line instead of guessing ports.  With `workers > 1` the app must be given as an
import string of a factory (each worker process builds its own app); the socket is shared.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from interlock.errors import InputFileError


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port); raises `InputFileError`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP,
                                   flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
        # proto must say TCP: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, and
        # without it a response's body segment waits ~40 ms for the client's delayed ACK (Nagle).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        raise InputFileError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(
    app: Any, sock: socket.socket, *, workers: int = 1, factory: bool = False, log_level: str = "warning"
) -> None:
    """Announce the URL, then serve until interrupted.  `app` is an app or an import string."""
    print(f"listening on {url_of(sock)}", flush=True)
    config = uvicorn.Config(
        app,
        workers=workers,
        factory=factory,
        log_level=log_level,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
        lifespan="on",
    )
    if workers > 1:
        if not isinstance(app, str):
            raise ValueError("several workers need the app as an import string")
        Multiprocess(config, sockets=[sock]).run()
        return
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # an interactive stop
        server.run(sockets=[sock])
    if not server.started:
        logging.getLogger("interlock").error("the server did not start")
        sys.exit(3)
