"""A real HTTP receiver on loopback for status callbacks (a thread with http.server).

`answer(request) -> status` decides each response (default 200); `delay` slows every answer.
Each received request is kept with the URL the receiver saw (http://{Host}{path}), which is
what a receiver passes to Twilio's RequestValidator.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from twilio.request_validator import RequestValidator


@dataclass
class Received:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes

    def twilio_valid(self, auth_token: str) -> bool:
        signature = self.headers.get("x-twilio-signature", "")
        valid: bool = RequestValidator(auth_token).validate(self.url, self.body.decode(), signature)
        return valid

    def standard_payload(self, secret: str) -> object:
        """The verified JSON payload (raises WebhookVerificationError when not valid)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    host: str = "127.0.0.1"
    bind_port: int = 0  # 0: any free port
    answer: Callable[[Received], int] = lambda _: 200
    delay: float = 0.0
    location: str | None = None  # sent with 3xx answers
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                req = Received(
                    "POST",
                    f"http://{self.headers['Host']}{self.path}",
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with receiver._lock:
                    receiver.received.append(req)
                status = receiver.answer(req)
                if receiver.delay:
                    time.sleep(receiver.delay)
                try:
                    self.send_response(status)
                    if 300 <= status < 400 and receiver.location:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the sender went away (killed, timed out)
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer((self.host, self.bind_port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str = "/callbacks") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
