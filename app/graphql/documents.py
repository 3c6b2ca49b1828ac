"""The one place where a document's text becomes a parsed and validated document.

`Documents.prepare(text)`: parse (with the token limit) and validate (graphql-core's rules,
Strawberry's, ours: app/graphql/rules.py), cached in a bounded LRU keyed by the SHA-256 of the
text, so a client sending the same document again pays neither. What comes back is the
document, or the errors it was refused with (fresh copies per request: callers may change
them). A persisted-query lookup (hash -> text) belongs right before `prepare`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import ValidationRule, specified_rules
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

CACHE_SIZE = 256


def _copy(error: GraphQLError) -> GraphQLError:
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions,
    )


@dataclass(frozen=True)
class Prepared:
    document: DocumentNode | None  # None: it did not parse
    errors: tuple[GraphQLError, ...]  # parse or validation errors; empty: valid

    def fresh_errors(self) -> list[GraphQLError]:
        return [_copy(e) for e in self.errors]


class Documents:
    def __init__(
        self,
        schema: GraphQLSchema,
        rules: tuple[type[ValidationRule], ...],
        max_tokens: int,
        size: int = CACHE_SIZE,
    ) -> None:
        self.schema = schema
        self.rules = (*specified_rules, MaybeNullValidationRule, OneOfInputValidationRule, *rules)
        self.max_tokens = max_tokens
        self.size = size
        self._cache: OrderedDict[bytes, Prepared] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._cache)

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()

    def cached(self, text: str) -> tuple[bytes, Prepared | None]:
        """The text's key, and what the cache holds for it, counted as nothing yet: a caller
        that uses it says so with `hit(key)` (the direct lane looks before it decides)."""
        key = self.key(text)
        return key, self._cache.get(key)

    def hit(self, key: bytes) -> None:
        if key in self._cache:
            self._cache.move_to_end(key)
            self.hits += 1

    def prepare(self, text: str) -> Prepared:
        key = self.key(text)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            self.hits += 1
            return found
        self.misses += 1
        prepared = self._prepare(text)
        self._cache[key] = prepared
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return prepared

    def _prepare(self, text: str) -> Prepared:
        try:
            document = parse(text, max_tokens=self.max_tokens)
        except GraphQLError as error:
            return Prepared(None, (error,))
        errors = validate(self.schema, document, self.rules)
        return Prepared(document, tuple(errors))
