"""Where a status callback may go: the SSRF guard (ARCHITECTURE.md §6).

At send time the host is resolved once; every address it resolves to must be public, unless it
lies in PORTICO_CALLBACK_ALLOWED_NETWORKS. The caller then connects to one of exactly these
checked addresses (app/adapters/http.py pins them), so a second, different DNS answer
(DNS rebinding) never gets a say.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Blocked(Exception):
    """The target is not allowed; the message says why (it is recorded on the attempt)."""


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]:
        """Every address `host` resolves to (raises OSError when it does not resolve)."""


class SystemResolver:
    """The operating system's resolver (getaddrinfo), as any HTTP client would use."""

    async def resolve(self, host: str, port: int) -> list[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return _unique(str(info[4][0]) for info in infos)


class StaticResolver:
    """A hosts file: fixed answers for some names, the `fallback` resolver for the rest
    (no fallback: other names do not resolve). Tests and special deployments inject it."""

    def __init__(self, hosts: Mapping[str, Sequence[str]], fallback: Resolver | None = None):
        self._hosts = {name.lower().rstrip("."): list(addrs) for name, addrs in hosts.items()}
        self._fallback = fallback

    async def resolve(self, host: str, port: int) -> list[str]:
        key = host.lower().rstrip(".")
        if key in self._hosts:
            return list(self._hosts[key])
        if self._fallback is not None:
            return await self._fallback.resolve(host, port)
        raise OSError(f"{host} does not resolve")


def _unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def literal_address(host: str) -> IPAddress | None:
    """`host` as an IP address when it is written as one in its canonical form."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def non_public_reason(ip: IPAddress) -> str | None:
    """Why an address is not a public internet address (None when it is one)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            inner = non_public_reason(embedded)
            if inner is not None:
                return f"{inner} (embedded in IPv6)"
    checks = (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_unspecified", "unspecified"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    )
    for attribute, label in checks:
        if getattr(ip, attribute):
            return label
    if not ip.is_global:
        return "not globally routable"
    return None


def check_addresses(host: str, addresses: Sequence[str], allowed: Sequence[IPNetwork]) -> list[str]:
    """The addresses to connect to, in resolver order; Blocked when any one is not allowed
    (one bad answer taints the name: a later connection could land on it)."""
    if not addresses:
        raise Blocked(f"{host} resolves to no address")
    checked: list[str] = []
    for text in addresses:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
        if any(ip in net for net in allowed):
            checked.append(str(ip))
            continue
        reason = non_public_reason(ip)
        if reason is not None:
            shown = host if str(ip) == host else f"{host} resolves to {ip}, which"
            raise Blocked(
                f"blocked: {shown} is a {reason} address (not in PORTICO_CALLBACK_ALLOWED_NETWORKS)"
            )
        checked.append(str(ip))
    return checked


async def resolve_checked(
    host: str, port: int, resolver: Resolver, allowed: Sequence[IPNetwork]
) -> list[str]:
    """Resolve `host` (IP literals stand for themselves) and check every answer."""
    literal = literal_address(host)
    addresses = [str(literal)] if literal is not None else await resolver.resolve(host, port)
    return check_addresses(host, addresses, allowed)
