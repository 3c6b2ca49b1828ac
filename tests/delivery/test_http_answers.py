"""The callback sender's HTTP/1.1: answers framed every way a receiver may frame them, and when
a kept-alive connection may be used again."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Callable

import pytest

from app.adapters.http import MAX_ANSWER_BYTES, PinnedHttpSender

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


class Scripted:
    """Reads each request whole and writes `answer(n)` for the n-th (0-based) on a
    connection; None closes the connection without an answer. Counts connections."""

    def __init__(self, answer: Callable[[int], bytes | None], close: bool = False):
        self.answer = answer
        self.close = close  # close each connection after its first answer
        self.connections = 0
        self.requests: list[bytes] = []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook?x=1"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        n = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.requests.append(head + await reader.readexactly(length))
                answer = self.answer(n)
                n += 1
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def sender() -> AsyncIterator[PinnedHttpSender]:
    s = PinnedHttpSender(allowed=LOOPBACK, timeout=5)
    yield s
    await s.aclose()


async def test_the_request_on_the_wire(sender: PinnedHttpSender) -> None:
    receiver = Scripted(lambda _: b"HTTP/1.1 204 No Content\r\n\r\n")
    url = await receiver.start()
    result = await sender.post(url, b'{"a":1}', {"Content-Type": "application/json"})
    assert result.status_code == 204 and result.error is None
    (request,) = receiver.requests
    head, body = request.split(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    port = url.split(":")[2].split("/")[0]
    assert lines[0] == b"POST /hook?x=1 HTTP/1.1"
    assert lines[1] == f"Host: 127.0.0.1:{port}".encode()
    assert b"Content-Type: application/json" in lines
    assert b"Content-Length: 7" in lines and body == b'{"a":1}'


@pytest.mark.parametrize(
    ("answer", "status", "reused"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 200, True),
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
            202,
            True,
        ),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 200, False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, False),
        (b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\noops", 500, True),
    ],
)
async def test_answers_and_reuse(
    sender: PinnedHttpSender, answer: bytes, status: int, reused: bool
) -> None:
    receiver = Scripted(lambda _: answer)
    url = await receiver.start()
    results = [await sender.post(url, b"{}", {}) for _ in range(2)]
    assert [r.status_code for r in results] == [status, status]
    assert receiver.connections == (1 if reused else 2)


async def test_an_answer_delimited_by_the_end_of_the_connection(sender: PinnedHttpSender) -> None:
    receiver = Scripted(lambda _: b"HTTP/1.1 200 OK\r\n\r\nthe body runs to the end", close=True)
    url = await receiver.start()
    results = [await sender.post(url, b"{}", {}) for _ in range(2)]
    assert [r.status_code for r in results] == [200, 200]
    assert receiver.connections == 2


async def test_a_big_answer_is_cut_and_its_connection_closed(sender: PinnedHttpSender) -> None:
    big = b"x" * (MAX_ANSWER_BYTES * 2)
    receiver = Scripted(
        lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(big), big)
    )
    url = await receiver.start()
    results = [await sender.post(url, b"{}", {}) for _ in range(2)]
    assert [r.status_code for r in results] == [200, 200]
    assert receiver.connections == 2


async def test_a_connection_closed_while_idle_is_replaced(sender: PinnedHttpSender) -> None:
    # The receiver answers once per connection, then closes it when the next request comes.
    receiver = Scripted(lambda n: b"HTTP/1.1 204 No Content\r\n\r\n" if n == 0 else None)
    url = await receiver.start()
    results = [await sender.post(url, b"{}", {}) for _ in range(3)]
    assert [r.status_code for r in results] == [204, 204, 204]
    assert receiver.connections == 3


async def test_no_answer_at_all_is_an_error(sender: PinnedHttpSender) -> None:
    receiver = Scripted(lambda _: None)
    url = await receiver.start()
    result = await sender.post(url, b"{}", {})
    assert result.status_code is None
    assert result.error == ("ProtocolError: the receiver closed the connection without an answer")


async def test_garbage_is_an_error(sender: PinnedHttpSender) -> None:
    receiver = Scripted(lambda _: b"SMTP ready\r\n\r\n")
    url = await receiver.start()
    result = await sender.post(url, b"{}", {})
    assert result.status_code is None
    assert (result.error or "").startswith("ProtocolError: unreadable answer")


async def test_a_header_that_would_split_the_request_is_refused(
    sender: PinnedHttpSender,
) -> None:
    receiver = Scripted(lambda _: b"HTTP/1.1 204 No Content\r\n\r\n")
    url = await receiver.start()
    result = await sender.post(url, b"{}", {"X-Evil": "a\r\nHost: elsewhere"})
    assert result.permanent and receiver.requests == []
