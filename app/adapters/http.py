"""The HTTP sender of status callbacks (app/services/ports.HttpSender) that pins addresses.

`PinnedHttpSender.post` resolves the host once, checks every answer (app/adapters/ssrf.py) and
connects to a checked address only: the TCP connection goes to that IP while the URL, the Host
header and TLS (SNI and certificate name) keep the host name. Redirects are never followed (a
3xx is an unsuccessful answer), proxies from the environment are ignored, the whole exchange is
bounded by one timeout, and at most 64 KiB of the answer is read.

Connections are kept alive per checked address (a small pool for each, idle ones closed after
KEEPALIVE_SECONDS): a later send still resolves and checks the host first, and only then reuses
a connection to the address it was checked to be, never to anything else.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import httpcore
import httpx

from app.adapters.ssrf import Blocked, IPNetwork, Resolver, SystemResolver, resolve_checked
from app.config import Settings
from app.services.ports import HttpResult

MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "Portico-Callbacks/1.0"
KEEPALIVE_SECONDS = 5.0
MAX_POOLS = 64  # addresses with kept-alive connections; the least recently used goes first
MAX_CONNECTIONS_PER_ADDRESS = 32


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects every TCP connection to one address, whatever host the URL names."""

    def __init__(self, address: str):
        self._address = address
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Sequence[object] | None = None,  # type: ignore[override]
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_tcp(
            self._address, port, timeout=timeout, local_address=local_address
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: object = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not callback targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


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
        self._pools: OrderedDict[str, httpcore.AsyncConnectionPool] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()

    def _pool(self, address: str) -> httpcore.AsyncConnectionPool:
        pool = self._pools.get(address)
        if pool is None:
            pool = httpcore.AsyncConnectionPool(
                ssl_context=self.ssl_context,
                network_backend=_PinnedBackend(address),
                max_connections=MAX_CONNECTIONS_PER_ADDRESS,
                keepalive_expiry=KEEPALIVE_SECONDS,
                retries=0,
            )
            self._pools[address] = pool
            while len(self._pools) > MAX_POOLS:
                _, old = self._pools.popitem(last=False)
                task = asyncio.get_running_loop().create_task(old.aclose())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        else:
            self._pools.move_to_end(address)
        return pool

    async def aclose(self) -> None:
        """Close every kept-alive connection."""
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()
        await asyncio.gather(*self._closing, return_exceptions=True)

    @classmethod
    def from_settings(
        cls, settings: Settings, resolver: Resolver | None = None
    ) -> PinnedHttpSender:
        return cls(
            allowed=settings.allowed_networks,
            resolver=resolver,
            timeout=settings.callback_timeout_seconds,
        )

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        started = time.monotonic()
        result = await self._post(url, body, headers)
        latency = round((time.monotonic() - started) * 1000, 1)
        return HttpResult(result.status_code, result.error, result.permanent, latency)

    async def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> HttpResult:
        try:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return HttpResult(error="blocked: the callback URL is malformed", permanent=True)
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            return HttpResult(error="blocked: only http and https URLs are called", permanent=True)
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
                    try:
                        return await self._post_to(address, url, body, headers)
                    except httpcore.ConnectError as exc:
                        failures.append(f"{address}: {_describe(exc)}")
                return HttpResult(error="connection failed: " + "; ".join(failures))
        except TimeoutError:
            return HttpResult(error=f"timed out after {self.timeout:g} s")
        except httpcore.TimeoutException:
            return HttpResult(error=f"timed out after {self.timeout:g} s")
        except (httpcore.NetworkError, httpcore.ProtocolError, ssl.SSLError) as exc:
            return HttpResult(error=f"{type(exc).__name__}: {_describe(exc)}")

    async def _post_to(
        self, address: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> HttpResult:
        request_headers = [("User-Agent", USER_AGENT), *headers.items()]
        limit = {"connect": self.timeout, "read": self.timeout, "write": self.timeout}
        pool = self._pool(address)
        async with (
            pool.stream(
                "POST",
                url,
                headers=request_headers,
                content=body,
                extensions={"timeout": {**limit, "pool": self.timeout}},
            ) as response,
        ):
            seen = 0
            async for chunk in response.aiter_stream():
                seen += len(chunk)
                if seen > MAX_ANSWER_BYTES:
                    break
            status = response.status
            location = dict(
                (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers
            ).get("location")
        if 300 <= status < 400:
            where = f" to {location[:200]}" if location else ""
            return HttpResult(status, f"redirect{where} not followed")
        return HttpResult(status)
