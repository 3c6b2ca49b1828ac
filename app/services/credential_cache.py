"""Verified credentials, remembered for a few seconds (`PORTICO_AUTH_CACHE_SECONDS`).

Checking a secret costs a database read and a decryption on every request; a client sends the
same `Authorization` header again and again. A verified one is kept here, keyed by the
credential's SID and a digest of its secret (never the secret itself), for `ttl` seconds.
Wrong secrets are never kept: each one is checked again.

Revocation: the bus (app/store/bus.py, PostgreSQL NOTIFY across replicas) calls `forget(sid)`
when a credential of `sid` changed, on every replica; the entries of that credential, and
those whose caller is that SID, go at once. While the bus cannot hear other replicas (its
LISTEN connection is down), the cache is not used at all, so nothing revoked elsewhere is
honoured for longer than the bus takes to deliver. The in-memory bus (SQLite) hears its own
process only, not `portico api-keys revoke` run beside it: there, revocable credentials (API
keys, and tokens minted with one) are not kept, only auth tokens.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.services.context import Caller

MAX_ENTRIES = 10_000
EVERY = "*"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class CredentialCache:
    def __init__(
        self,
        ttl: float,
        usable: Callable[[], bool],
        revocable: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._usable = usable
        self._revocable = revocable  # whether revocable credentials may be kept
        self._clock = clock
        self._entries: OrderedDict[tuple[str, bytes], tuple[float, Caller]] = OrderedDict()

    def get(self, credential_sid: str, secret: str) -> Caller | None:
        if self.ttl <= 0 or not self._entries:
            return None
        if not self._usable():
            self._entries.clear()
            return None
        key = (credential_sid, digest(secret))
        found = self._entries.get(key)
        if found is None:
            return None
        until, caller = found
        if self._clock() >= until:
            del self._entries[key]
            return None
        return caller

    def put(
        self, credential_sid: str, secret: str, caller: Caller, until: float | None = None
    ) -> None:
        if self.ttl <= 0 or not self._usable():
            return
        if caller.key_sid is not None and not self._revocable():
            return
        expiry = self._clock() + self.ttl
        if until is not None:
            expiry = min(expiry, until)
        self._entries[(credential_sid, digest(secret))] = (expiry, caller)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    def forget(self, sid: str) -> None:
        """Drop every entry of credential `sid`, whose caller is `sid`, or that an API key `sid`
        stands behind (its access tokens) (EVERY: all)."""
        if sid == EVERY:
            self._entries.clear()
            return
        stale = [
            k
            for k, (_, c) in self._entries.items()
            if k[0] == sid or c.sid == sid or c.key_sid == sid
        ]
        for key in stale:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
