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
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def _no_delay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)
