"""Our validation rules, linear in the document (app/graphql/cost.Shape visits each fragment
once per level and each field once): the depth and alias limits. graphql-core's specified
rules run beside them; the token limit is the parser's (documents.py)."""

from __future__ import annotations

from graphql import GraphQLError, OperationDefinitionNode
from graphql.validation import NoSchemaIntrospectionCustomRule, ValidationContext, ValidationRule

from app.config import Settings
from app.graphql.cost import Shape


def limits(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    class Limits(ValidationRule):
        """Depth per operation, aliases over the document (as Strawberry's rules counted
        them, with the same messages), in one linear pass."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            shape = Shape(context.schema, context.document)
            aliases = 0
            for op in context.document.definitions:
                if not isinstance(op, OperationDefinitionNode):
                    continue
                totals = shape.operation(op)
                aliases += totals.aliases
                if totals.depth > max_depth:
                    name = op.name.value if op.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}", [op]
                        )
                    )
            if aliases > max_aliases:
                context.report_error(
                    GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}")
                )

    return Limits


def rules(settings: Settings) -> tuple[type[ValidationRule], ...]:
    found: list[type[ValidationRule]] = [
        limits(settings.graphql_max_depth, settings.graphql_max_aliases)
    ]
    if not settings.graphql_introspection:
        found.append(NoSchemaIntrospectionCustomRule)
    return tuple(found)
