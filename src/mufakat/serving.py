"""HTTP protocol for `mufakat serve`: uvicorn's httptools protocol with Nagle's algorithm off.

With `--workers N`, uvicorn binds the listening socket itself as socket.socket(family) (protocol
number 0). asyncio only sets TCP_NODELAY on sockets whose protocol is IPPROTO_TCP, so accepted
connections kept Nagle's algorithm, and every keep-alive response waited for the client's
delayed ACK: 48 ms per request instead of 7 ms on loopback (benchmarks/README.md). Setting the
option on each accepted connection restores the single-process behaviour.

The protocol is uvicorn's httptools one (a C HTTP parser) rather than the pure-Python h11. On its
own it changed the server's CPU per request by less than the run-to-run noise (benchmarks/README.md);
the large cost was Django's request handling, see mufakat/asgi.py.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import socket
import threading
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def _no_delay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)


# Several workers: each with its own listening socket on the same port (SO_REUSEPORT).
#
# uvicorn's --workers shares one listening socket between its processes; whichever wakes first
# accepts, and a keep-alive connection stays with the worker that accepted it. Under a
# closed-loop load of 50 connections that split 3/7 between two workers, so one core idled
# while the other queued (benchmarks/README.md, "Workers"). With a socket per worker, the kernel
# spreads new connections across the workers by a hash of their addresses.
#
# SO_REUSEPORT lets another process of the same system user bind the same port as well; that
# user can already replace the server outright, so it adds no exposure.

HAS_REUSEPORT = hasattr(socket, "SO_REUSEPORT")


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound (not listening) to host:port with SO_REUSEPORT."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


APP = "mufakat.asgi:application"


def uvicorn_config(
    host: str, port: int, log_level: str, app: str = APP, *, factory: bool = False
) -> Any:
    import uvicorn

    return uvicorn.Config(
        app,
        factory=factory,
        host=host,
        port=port,
        http="mufakat.serving:NoDelayHttpToolsProtocol",
        # MUFAKAT_LOG_LEVEL governs the server's own lines too: at WARNING and above there is
        # no per-request access line (behind a proxy, the proxy keeps that log).
        log_level=log_level,
        lifespan="off",
    )


def _multiprocess(config: Any, sock: socket.socket) -> None:
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[sock]).run()


def serve_worker(
    host: str, port: int, log_level: str, app: str = APP, *, factory: bool = False
) -> None:
    """One worker process: its own SO_REUSEPORT listening socket, one uvicorn server
    (`app` and `factory` let benchmarks/server_cpu.py serve a baseline the same way)."""
    import uvicorn

    sock = reuseport_socket(host, port)
    uvicorn.Server(uvicorn_config(host, port, log_level, app, factory=factory)).run(sockets=[sock])


def serve(host: str, port: int, workers: int, log_level: str) -> None:
    """Serve with `workers` processes, restarting one that dies, until SIGINT or SIGTERM."""
    import uvicorn

    if not HAS_REUSEPORT:  # Windows: uvicorn's own shared socket
        config = uvicorn_config(host, port, log_level)
        config.workers = workers
        sock = config.bind_socket()
        uvicorn.Server(config).run(sockets=[sock]) if workers <= 1 else _multiprocess(config, sock)
        return
    if workers <= 1:
        serve_worker(host, port, log_level)
        return
    # Held (never listening, so it receives no connections) while workers come and go, so the
    # port stays ours between a worker's exit and its replacement.
    holder = reuseport_socket(host, port)
    ctx = multiprocessing.get_context("spawn")
    stop = threading.Event()

    def start() -> multiprocessing.process.BaseProcess:
        p = ctx.Process(target=serve_worker, args=(host, port, log_level), daemon=False)
        p.start()
        return p

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    procs = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for i, p in enumerate(procs):
                if not p.is_alive():
                    logging.getLogger("uvicorn.error").warning(
                        "worker %s exited with %s; starting another", p.pid, p.exitcode
                    )
                    procs[i] = start()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for p in procs:
            p.join(timeout=30)
        holder.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
