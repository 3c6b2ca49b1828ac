"""Persisted documents: Apollo's automatic persisted queries (APQ) and a trusted-documents mode.
`Documents.document_of` turns what a request sent (its `query` and `extensions`) into the text
of the document to run, or a `Refusal`, before anything is parsed; the HTTP view, GET and POST
(app/graphql/app.py), and both websocket protocols (app/graphql/websockets.py) call it.

- APQ (`extensions.persistedQuery = {version: 1, sha256Hash}`): a hash this service knows runs
  its document; an unknown one answers `PersistedQueryNotFound` (code
  `PERSISTED_QUERY_NOT_FOUND`), and the client sends the full document once with its hash. The
  hash must be the SHA-256 of that text (else 400); a document that parses and validates is
  then stored in the database (`persisted_queries`), so every replica knows it, and kept in a
  bounded cache here. Looking a hash up or registering one needs a caller: credentials are
  checked first.
- Trusted documents (`PORTICO_GRAPHQL_TRUSTED_DOCUMENTS`: a JSON manifest, `{sha256: document}`
  or Apollo's persisted-query manifest): only those documents run, by hash or by their exact
  text; anything else is refused (20403) before it is parsed, and nothing is registered.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, parse, validate

from app.config import Settings
from app.porting.errors import FORBIDDEN
from app.services import persisted_queries
from app.services.context import Services

CACHE_SIZE = 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Refusal:
    message: str
    code: str | int
    status: int

    @property
    def error(self) -> dict[str, Any]:
        return {"message": self.message, "extensions": {"code": self.code}}

    @property
    def body(self) -> dict[str, Any]:
        return {"errors": [self.error]}


NOT_FOUND = Refusal("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", 200)
MISMATCH = Refusal("provided sha does not match query", "BAD_REQUEST", 400)
MALFORMED = Refusal(
    "extensions.persistedQuery must be {version: 1, sha256Hash: 64 lowercase hex digits}",
    "BAD_REQUEST",
    400,
)
UNTRUSTED = Refusal("Only trusted documents run on this server", FORBIDDEN, 400)


class Refused(Exception):
    """Raised by the view's hook; the view answers `refusal.body` with `refusal.status`."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


@dataclass(frozen=True)
class Document:
    text: str
    sha256: str | None = None
    register: bool = False  # a new APQ document: store it once it parses and validates


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_manifest(path: Path) -> dict[str, str]:
    """`{sha256: document}`, or Apollo's `{"format": "apollo-persisted-query-manifest",
    "operations": [{"id", "body"}]}`; every hash must be its document's (else ValueError)."""
    data = json.loads(path.read_text())
    if isinstance(data, dict) and isinstance(data.get("operations"), list):
        pairs = [(op["id"], op["body"]) for op in data["operations"]]
    elif isinstance(data, dict):
        pairs = list(data.items())
    else:
        raise ValueError("trusted documents: a JSON object of sha256 -> document")
    manifest: dict[str, str] = {}
    for sha, text in pairs:
        if not isinstance(sha, str) or not isinstance(text, str) or sha256_of(text) != sha:
            raise ValueError("trusted documents: an entry whose hash is not its document's")
        manifest[sha] = text
    return manifest


class Documents:
    def __init__(self, settings: Settings, services: Services) -> None:
        self.services = services
        self.max_tokens = settings.graphql_max_tokens
        path = settings.graphql_trusted_documents
        self.trusted: dict[str, str] | None = load_manifest(path) if path else None
        self._known: OrderedDict[str, str] = OrderedDict()

    def needs_caller(self, extensions: object) -> bool:
        """Whether resolving this request reads or writes the store (APQ): the caller's
        credentials are checked before that."""
        return (
            self.trusted is None
            and isinstance(extensions, dict)
            and extensions.get("persistedQuery") is not None
        )

    async def document_of(self, query: object, extensions: object) -> Document | Refusal | None:
        """The document to run (None: the request named none; the view says so)."""
        pq = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        text = query if isinstance(query, str) else None
        if pq is None:
            if self.trusted is None or text is None:
                return Document(text) if text is not None else None
            return Document(text) if sha256_of(text) in self.trusted else UNTRUSTED
        sha = pq.get("sha256Hash") if isinstance(pq, dict) else None
        if not isinstance(pq, dict) or pq.get("version") != 1 or not isinstance(sha, str):
            return MALFORMED
        if not _SHA256.fullmatch(sha):
            return MALFORMED
        if text is not None and sha256_of(text) != sha:
            return MISMATCH
        if self.trusted is not None:
            known = self.trusted.get(sha)
            return Document(known, sha) if known is not None else UNTRUSTED
        if text is not None:
            return Document(text, sha, register=sha not in self._known)
        found = self._known.get(sha)
        if found is None:
            found = await persisted_queries.find(self.services, sha)
            if found is None:
                return NOT_FOUND
            self._remember(sha, found)
        return Document(found, sha)

    async def register(self, schema: GraphQLSchema, doc: Document) -> None:
        """Keep a new APQ document (for every replica) if it parses and validates."""
        if not doc.register or doc.sha256 is None:
            return
        try:
            parsed = parse(doc.text, max_tokens=self.max_tokens)
        except GraphQLError:
            return
        if validate(schema, parsed):
            return
        await persisted_queries.save(self.services, doc.sha256, doc.text)
        self._remember(doc.sha256, doc.text)

    def _remember(self, sha: str, text: str) -> None:
        self._known[sha] = text
        self._known.move_to_end(sha)
        while len(self._known) > CACHE_SIZE:
            self._known.popitem(last=False)
