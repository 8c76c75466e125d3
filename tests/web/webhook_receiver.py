"""A webhook receiver for the webhook pages' tests: a real HTTP server on 127.0.0.1, on one of
the ports the browser tests may use (``tests.web.live.PORTS``), in a thread of the test.

It records every POST (headers and raw body, for the Standard Webhooks library to verify) and
answers the status and body it is told to. The app reaches it over http on loopback only because
the tests' settings allow it (``webhook_allow_http``, ``webhook_allowed_networks=127.0.0.0/8``),
as tests/api/test_webhook_delivery.py does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from tests.web.live import bound_socket

#: Settings that let the app send to a receiver on this machine over plain http.
LOOPBACK_WEBHOOKS: dict[str, object] = {
    "webhook_allow_http": True,
    "webhook_allowed_networks": "127.0.0.0/8",
    "webhook_timeout_seconds": 5.0,
}


@dataclass(frozen=True)
class Received:
    """One POST the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers every POST with ``status`` and ``body``; ``received`` lists what came, in order."""

    status: int = 200
    body: bytes = b'{"diterima": true}'
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(receiver.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the tests read ``received`` instead."""

        sock = bound_socket()
        self._server = ThreadingHTTPServer(sock.getsockname(), Handler, bind_and_activate=False)
        self._server.socket.close()
        self._server.socket = sock
        self._server.server_activate()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = self._server.socket.getsockname()[1]
        return f"http://127.0.0.1:{port}/sinergi/webhook"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
