"""The HTTP sender of status callbacks (app/services/ports.HttpSender) that pins addresses.

`PinnedHttpSender.post` resolves the host once, checks every answer (app/adapters/ssrf.py) and
connects to a checked address only: the TCP connection goes to that IP while the URL, the Host
header and TLS (SNI and certificate name) keep the host name. Redirects are never followed (a
3xx is an unsuccessful answer), proxies from the environment are ignored, the whole exchange is
bounded by one timeout, and at most 64 KiB of the answer is read.

Connections are kept alive per checked address (and host name, port and scheme; idle ones
closed after KEEPALIVE_SECONDS): a later send still resolves and checks the host first, and
only then reuses a connection to the address it was checked to be, never to anything else.

The client is HTTP/1.1 over an asyncio protocol, with httptools (llhttp, uvicorn's parser)
reading the answer: a callback is one small POST whose answer only counts for its status, so
a general client's machinery per request (httpcore's pool scans, anyio's streams, h11 in
Python) cost the worker more than the rest of a send together.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import cast
from urllib.parse import urlsplit

import httptools
import httpx

from app.adapters.ssrf import Blocked, IPNetwork, Resolver, SystemResolver, resolve_checked
from app.config import Settings
from app.services.ports import HttpResult

MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "Portico-Callbacks/1.0"
KEEPALIVE_SECONDS = 5.0
MAX_POOLS = 64  # origins with kept-alive connections; the least recently used goes first
MAX_IDLE_PER_POOL = 32  # idle connections kept per origin (more in use at once are not kept)

# (address, port, scheme, host name): what a kept-alive connection may be reused for.
Origin = tuple[str, int, str, str]


class _Disconnected(Exception):
    """The receiver closed the connection before any byte of an answer."""


class _BadAnswer(Exception):
    """The answer is not HTTP/1.x the parser can read."""


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection, one exchange at a time; reusable when the answer was read
    to its end, the receiver keeps it alive, and nothing else arrived."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[None] | None = None
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.location: bytes | None = None
        self.reusable = False
        self._seen = 0  # bytes of the answer's body
        self._interim = False  # reading a 1xx answer (skipped)
        self._answered = False  # any byte of this exchange's answer arrived
        self._headers_done = False
        self._final = False  # the final answer is complete

    # --- the exchange ----------------------------------------------------------------------

    async def exchange(self, request: bytes) -> None:
        """Send `request`, wait for the answer's status (and its body, up to the cap)."""
        assert self.transport is not None and self._answer is None
        self._reset()
        self._answer = asyncio.get_running_loop().create_future()
        try:
            self.transport.write(request)
            await self._answer
        except BaseException:
            self.close()
            raise
        finally:
            self._answer = None

    def _settle(self, error: BaseException | None = None) -> None:
        answer = self._answer
        if answer is not None and not answer.done():
            if error is None:
                answer.set_result(None)
            else:
                answer.set_exception(error)

    def close(self) -> None:
        self.closed = True
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    # --- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted
            return
        self._answered = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.close()
            self._settle(_BadAnswer("the receiver asked to switch protocols"))
        except httptools.HttpParserError as exc:
            self.close()
            self._settle(_BadAnswer(f"unreadable answer: {_describe(exc)}"))

    def eof_received(self) -> bool | None:
        self._ended()
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended()

    def _ended(self) -> None:
        self.closed = True
        self.reusable = False
        if self._headers_done and not self._interim:
            self._settle()  # an answer delimited by the end of the connection
        elif self._answered:
            self._settle(_BadAnswer("the receiver closed the connection mid-answer"))
        else:
            self._settle(_Disconnected("the receiver closed the connection without an answer"))

    # --- httptools callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._final:  # a second answer to one request
            self.close()

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._interim and name.lower() == b"location":
            self.location = value

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        self._interim = status < 200
        if not self._interim:
            self.status = status
            self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._seen += len(body)
        if self._seen > MAX_ANSWER_BYTES:  # enough: the status is what counts
            self.close()
            self._settle()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        self._final = True
        self.reusable = not self.closed and self._parser.should_keep_alive()
        self._settle()


def _ascii(text: str) -> bytes | None:
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        return None


def _request(
    host_header: bytes, target: bytes, body: bytes, headers: Mapping[str, str]
) -> bytes | None:
    """The request's bytes; None when a header cannot be sent as it is."""
    lines = [b"POST " + target + b" HTTP/1.1", b"Host: " + host_header]
    lines.append(b"User-Agent: " + USER_AGENT.encode())
    for name, value in headers.items():
        raw_name, raw_value = _ascii(name), _ascii(value)
        if raw_name is None or raw_value is None or any(c in value for c in "\r\n\0"):
            return None
        lines.append(raw_name + b": " + raw_value)
    lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class PinnedHttpSender:
    def __init__(
        self,
        *,
        allowed: Sequence[IPNetwork] = (),
        resolver: Resolver | None = None,
        timeout: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.allowed = list(allowed)
        self.resolver = resolver or SystemResolver()
        self.timeout = timeout
        self.ssl_context = ssl_context or httpx.create_ssl_context()
        self._idle: OrderedDict[Origin, list[_Connection]] = OrderedDict()
        self._reaper: asyncio.TimerHandle | None = None
        self.connects = 0  # connections opened so far (tests)

    @classmethod
    def from_settings(
        cls, settings: Settings, resolver: Resolver | None = None
    ) -> PinnedHttpSender:
        return cls(
            allowed=settings.allowed_networks,
            resolver=resolver,
            timeout=settings.callback_timeout_seconds,
        )

    async def aclose(self) -> None:
        """Close every kept-alive connection."""
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        idle, self._idle = self._idle, OrderedDict()
        for connections in idle.values():
            for conn in connections:
                conn.close()

    # --- kept-alive connections ------------------------------------------------------------

    def _take_idle(self, origin: Origin) -> _Connection | None:
        connections = self._idle.get(origin)
        if not connections:
            return None
        now = time.monotonic()
        while connections:
            conn = connections.pop()
            if not conn.closed and now - conn.idle_since < KEEPALIVE_SECONDS:
                return conn
            conn.close()
        return None

    def _release(self, conn: _Connection) -> None:
        if conn.closed or not conn.reusable:
            conn.close()
            return
        connections = self._idle.get(conn.origin)
        if connections is None:
            connections = self._idle[conn.origin] = []
            while len(self._idle) > MAX_POOLS:
                _, old = self._idle.popitem(last=False)
                for c in old:
                    c.close()
        else:
            self._idle.move_to_end(conn.origin)
        if len(connections) >= MAX_IDLE_PER_POOL:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        connections.append(conn)
        if self._reaper is None:
            loop = asyncio.get_running_loop()
            self._reaper = loop.call_later(KEEPALIVE_SECONDS, self._reap)

    def _reap(self) -> None:
        """Close the connections idle longer than KEEPALIVE_SECONDS; come back while any is
        left."""
        self._reaper = None
        now = time.monotonic()
        oldest = now
        for origin in list(self._idle):
            keep = []
            for conn in self._idle[origin]:
                if conn.closed or now - conn.idle_since >= KEEPALIVE_SECONDS:
                    conn.close()
                else:
                    keep.append(conn)
                    oldest = min(oldest, conn.idle_since)
            if keep:
                self._idle[origin] = keep
            else:
                del self._idle[origin]
        if self._idle:
            delay = max(0.05, oldest + KEEPALIVE_SECONDS - now)
            self._reaper = asyncio.get_running_loop().call_later(delay, self._reap)

    async def _connect(self, origin: Origin) -> _Connection:
        address, port, scheme, host = origin
        conn = _Connection(origin)
        loop = asyncio.get_running_loop()
        if scheme == "https":
            await loop.create_connection(
                lambda: conn,
                address,
                port,
                ssl=self.ssl_context,
                server_hostname=host,
                ssl_handshake_timeout=self.timeout,
            )
        else:
            await loop.create_connection(lambda: conn, address, port)
        self.connects += 1
        return conn

    # --- one POST --------------------------------------------------------------------------

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        started = time.monotonic()
        result = await self._post(url, body, headers)
        latency = round((time.monotonic() - started) * 1000, 1)
        return HttpResult(result.status_code, result.error, result.permanent, latency)

    async def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        malformed = HttpResult(error="blocked: the callback URL is malformed", permanent=True)
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return malformed
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            return HttpResult(error="blocked: only http and https URLs are called", permanent=True)
        target = _ascii((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        shown = f"[{host}]" if ":" in host else host
        default_port = 443 if parts.scheme == "https" else 80
        host_header = _ascii(shown if port == default_port else f"{shown}:{port}")
        if target is None or host_header is None or any(c <= 32 or c == 127 for c in target):
            return malformed
        request = _request(host_header, target, body, headers)
        if request is None:
            return HttpResult(error="blocked: a header cannot be sent", permanent=True)
        try:
            async with asyncio.timeout(self.timeout):
                try:
                    addresses = await resolve_checked(host, port, self.resolver, self.allowed)
                except Blocked as exc:
                    return HttpResult(error=str(exc), permanent=True)
                except (OSError, UnicodeError) as exc:
                    return HttpResult(error=f"cannot resolve {host}: {_describe(exc)}")
                failures: list[str] = []
                for address in addresses:
                    origin = (address, port, parts.scheme, host)
                    conn = self._take_idle(origin)
                    if conn is not None:
                        try:
                            return await self._exchange(conn, request)
                        except _Disconnected:
                            pass  # closed by the receiver while it sat idle: a new one
                    try:
                        conn = await self._connect(origin)
                    except OSError as exc:  # refused, unreachable, TLS handshake failed
                        failures.append(f"{address}: {_describe(exc)}")
                        continue
                    return await self._exchange(conn, request)
                return HttpResult(error="connection failed: " + "; ".join(failures))
        except TimeoutError:
            return HttpResult(error=f"timed out after {self.timeout:g} s")
        except _Disconnected as exc:
            return HttpResult(error=f"ProtocolError: {exc}")
        except _BadAnswer as exc:
            return HttpResult(error=f"ProtocolError: {exc}")
        except (OSError, ssl.SSLError) as exc:
            return HttpResult(error=f"{type(exc).__name__}: {_describe(exc)}")

    async def _exchange(self, conn: _Connection, request: bytes) -> HttpResult:
        try:
            await conn.exchange(request)
        except BaseException:
            conn.close()
            raise
        status, location = conn.status, conn.location
        self._release(conn)
        if 300 <= status < 400:
            shown = location.decode("latin-1")[:200] if location else ""
            where = f" to {shown}" if shown else ""
            return HttpResult(status, f"redirect{where} not followed")
        return HttpResult(status)
