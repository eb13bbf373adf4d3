"""A fake Jet Admin ``project_auth`` endpoint: a real HTTP server on 127.0.0.1, in a thread.

It answers by the token it is given, so one server covers every case:

- ``good...``: 200 ``{"access_disabled": false, "user": ...}``
- ``refused...``: 403
- ``disabled...``: 200 ``{"access_disabled": true}``
- ``broken...``: 500
- ``notjson...``: 200 with an HTML body
- ``slow...``: waits until the server is stopped (or ``delay`` seconds), then 200
- ``delayed...``: waits ``delay`` seconds, then 200

A request without the expected ``project_token`` is refused with 403. Every request is
recorded (``calls``) so tests can count round trips.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

PROJECT_TOKEN = "0f3c1a2b-PROJECT-TOKEN"


@dataclass
class FakeAuthServer:
    """What the running fake received, and how to reach it."""

    base_url: str
    delay: float = 0.2
    calls: list[dict[str, str]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, token: str | None = None) -> int:
        with self.lock:
            return sum(1 for call in self.calls if token is None or call.get("token") == token)


def _handler(state: FakeAuthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            with state.lock:
                state.calls.append({"path": self.path, **form})
            if self.path != "/api/project_auth/":
                return self._send(404, {"detail": "not found"})
            token = form.get("token", "")
            if form.get("project_token") != PROJECT_TOKEN:
                return self._send(403, {"detail": "bad project token"})
            if token.startswith("slow"):
                state.stopping.wait(30)
                return self._send(200, {"access_disabled": False})
            if token.startswith("delayed"):
                state.stopping.wait(state.delay)
                return self._send(200, {"access_disabled": False, "user": token})
            if token.startswith("good"):
                return self._send(200, {"access_disabled": False, "user": token})
            if token.startswith("disabled"):
                return self._send(200, {"access_disabled": True, "warning": "plan expired"})
            if token.startswith("broken"):
                return self._send(500, {"detail": "boom"})
            if token.startswith("notjson"):
                return self._send_raw(200, b"<html>hello</html>", "text/html")
            return self._send(403, {"detail": "invalid token"})

        def _send(self, status: int, body: object) -> None:
            self._send_raw(status, json.dumps(body).encode(), "application/json")

        def _send_raw(self, status: int, body: bytes, content_type: str) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (a timeout test)
                pass

    return Handler


@contextmanager
def running_fake_auth_server(delay: float = 0.2) -> Iterator[FakeAuthServer]:
    """Start the fake on a free port; stop it, and release slow requests, on exit."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.daemon_threads = True
    port = httpd.server_address[1]
    state = FakeAuthServer(base_url=f"http://127.0.0.1:{port}/api", delay=delay)
    httpd.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"
