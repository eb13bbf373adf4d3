"""A TCP proxy in front of a database server that a test can unplug: while it is down, every
connection through it is cut and new ones are refused, as when the database goes away; while it
is frozen, connections stay open and nothing moves on them, as when the database's process is
stopped or the network drops every packet."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

__all__ = ["Proxy", "proxied"]

_BUFFER = 65536


class Proxy:
    """Forwards ``127.0.0.1:port`` to ``target``; :meth:`down` and :meth:`up` unplug it,
    :meth:`freeze` and :meth:`thaw` hold everything sent through it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._up = threading.Event()
        self._up.set()
        self._flowing = threading.Event()
        self._flowing.set()
        self._used_while_frozen: set[int] = set()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def down(self) -> None:
        """Cut every open connection, and refuse new ones until :meth:`up`."""
        self._up.clear()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def up(self) -> None:
        self._up.set()

    def freeze(self) -> None:
        """Hold what either side sends, and new connections, until :meth:`thaw`."""
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()
        with self._lock:
            self._used_while_frozen.clear()

    @property
    def used_while_frozen(self) -> int:
        """How many connections sent something, or were opened, since :meth:`freeze`."""
        with self._lock:
            return len(self._used_while_frozen)

    def _used(self, client: socket.socket) -> None:
        if not self._flowing.is_set():
            with self._lock:
                self._used_while_frozen.add(id(client))

    def close(self) -> None:
        self._closed = True
        self.thaw()
        self.down()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                client.close()
                continue
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        with self._lock:
            self._open.add(client)
        self._used(client)
        self._flowing.wait()
        try:
            server = socket.create_connection(self.target)
        except OSError:
            client.close()
            return
        with self._lock:
            self._open.add(server)
        for source, sink, client_side in ((client, server, True), (server, client, False)):
            threading.Thread(target=self._pipe, args=(source, sink, client_side),
                             daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, client_side: bool) -> None:
        try:
            while data := source.recv(_BUFFER):
                if client_side:
                    self._used(source)
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.close()


@contextlib.contextmanager
def proxied(host: str, port: int) -> Iterator[Proxy]:
    proxy = Proxy((host, port))
    try:
        yield proxy
    finally:
        proxy.close()
