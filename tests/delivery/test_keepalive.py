"""Kept-alive callback connections: reused per checked address, never past the SSRF check."""

from __future__ import annotations

import asyncio
import ipaddress

import uvloop

from app.adapters.http import PinnedHttpSender


class KeepAliveReceiver:
    """HTTP/1.1 on loopback answering 204 to every POST; counts connections and requests."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests = 0
        self.handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                self.requests += 1
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        self.server.close()
        for task in self.handlers:
            task.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)
        await self.server.wait_closed()


class SequenceResolver:
    def __init__(self, *answers: list[str]):
        self.answers = list(answers)
        self.calls = 0

    async def resolve(self, host: str, port: int) -> list[str]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return answer


async def test_sends_reuse_one_connection_and_each_is_checked_again() -> None:
    receiver = KeepAliveReceiver()
    port = await receiver.start()
    resolver = SequenceResolver(["127.0.0.1"], ["127.0.0.1"], ["127.0.0.1"], ["10.0.0.1"])
    sender = PinnedHttpSender(
        allowed=[ipaddress.ip_network("127.0.0.0/8")], resolver=resolver, timeout=5
    )
    url = f"http://callbacks.example:{port}/status"
    try:
        results = [await sender.post(url, b"{}", {}) for _ in range(3)]
        assert [r.status_code for r in results] == [204, 204, 204]
        assert (receiver.connections, receiver.requests) == (1, 3)

        # The name now resolves to a private address: refused before any byte is sent, even
        # though a connection to its earlier (checked) address is still open.
        blocked = await sender.post(url, b"{}", {})
        assert blocked.status_code is None and blocked.permanent
        assert blocked.error is not None and "blocked" in blocked.error
        assert resolver.calls == 4
        assert (receiver.connections, receiver.requests) == (1, 3)
    finally:
        await sender.aclose()
        await receiver.stop()


def test_keep_alive_on_uvloop() -> None:
    """`portico serve` runs on uvloop, whose transports are not asyncio's classes."""

    async def scenario() -> None:
        receiver = KeepAliveReceiver()
        port = await receiver.start()
        sender = PinnedHttpSender(allowed=[ipaddress.ip_network("127.0.0.0/8")], timeout=5)
        try:
            results = [await sender.post(f"http://127.0.0.1:{port}/s", b"{}", {}) for _ in range(3)]
            assert [r.status_code for r in results] == [204, 204, 204]
            assert (receiver.connections, receiver.requests) == (1, 3)
        finally:
            await sender.aclose()
            await receiver.stop()

    uvloop.run(scenario())
