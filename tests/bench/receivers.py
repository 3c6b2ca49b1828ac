"""The receivers of the `sustained` case, in a process of their own (so the load generator's
work does not delay their clocks): a loopback HTTP/1.1 server (keep-alive) answering 204 to
every status callback, and a real aiosmtpd SMTP server answering 250 to every message. Each
arrival is recorded as (channel, delivery SID, UNIX time): the callback's `webhook-id`, the
mail's Message-ID (`<DL...@domain>`), the time the request or message was complete, before
the answer is sent.

`python -m tests.bench.receivers RESULTS.json`: prints `{"http": port, "smtp": port}` on one
line, runs until a line arrives on stdin, then writes the arrivals to RESULTS.json and exits.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([A-Za-z0-9]+)@", re.MULTILINE | re.IGNORECASE)
Arrival = tuple[str, str, float]


class Http:
    def __init__(self, arrivals: list[Arrival]) -> None:
        self.arrivals = arrivals
        self.handlers: set[asyncio.Task[Any]] = set()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                sid = ""
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"webhook-id":
                        sid = value.strip().decode()
                await reader.readexactly(length)
                self.arrivals.append(("callback", sid, time.time()))
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


class Mail:
    def __init__(self, arrivals: list[Arrival]) -> None:
        self.arrivals = arrivals

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content or b""
        assert isinstance(content, bytes)
        found = MESSAGE_ID.search(content)
        self.arrivals.append(("email", found.group(1).decode() if found else "", time.time()))
        return "250 Message accepted for delivery"


async def main() -> list[Arrival]:
    arrivals: list[Arrival] = []
    loop = asyncio.get_running_loop()
    http = Http(arrivals)
    http_server = await asyncio.start_server(http.serve, "127.0.0.1", 0, backlog=1024)
    handler = Mail(arrivals)
    smtp_server = await loop.create_server(
        lambda: SMTP(handler, hostname="bench-receiver", ident="bench"),
        "127.0.0.1",
        0,
        backlog=1024,
    )
    ports = {
        "http": http_server.sockets[0].getsockname()[1],
        "smtp": smtp_server.sockets[0].getsockname()[1],
    }
    print(json.dumps(ports), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    http_server.close()
    smtp_server.close()
    for task in http.handlers:
        task.cancel()
    return arrivals


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(asyncio.run(main())))
