"""Safe error messages: no error that reaches a client quotes a value it sent.

graphql-core words many of its errors with the value at fault (a scalar that cannot be
coerced, an enum value that does not exist, an input object with an unknown field printed
whole, a syntax error quoting the token), and a value may be a PIN, an account number or an
SSN. `safe(error)` rewrites those messages in place so they name the variable, argument,
field or type, and never the value; field suggestions ("Did you mean ...?") go too.
Every client error passes here (app/graphql/schema.Schema.remove_field_suggestion, which
Strawberry calls for every error); tests/graphql/test_safe_errors.py sweeps every mutation's
input with secret-looking values, as variables and as literals.
"""

from __future__ import annotations

import re

from graphql import GraphQLError

_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\s*Did you mean .*$", re.S), ""),
    # "String cannot represent a non string value: 1234", "Enum 'E' cannot represent ...: x"
    (re.compile(r"(cannot represent[^:]*? value): .*$", re.S), r"\1."),
    # "Value 'SECRET' does not exist in 'PortType' enum."
    (re.compile(r"^Value .* (does not exist in '\w+' enum)\.?$", re.S), r"Value \1."),
    # "Expected value of type 'T' not to include unknown field 'f', found: { ... }."
    # "Expected value of type 'T!', found "x"; <reason>"
    (re.compile(r", found:? .*$", re.S), "."),
    # "Argument 'first' has invalid value "x"."
    (re.compile(r"^(Argument '\w+' has invalid value) .*$", re.S), r"\1."),
    # "Syntax Error: Expected Name, found String 'SECRET'." (the token's kind stays)
    (
        re.compile(
            r"^(Syntax Error: .*?(?:found|Unexpected) (?:String|BlockString|Int|Float|Name)) .*$",
            re.S,
        ),
        r"\1.",
    ),
)
_VARIABLE = re.compile(r"^(Variable '\$\w+' has invalid (?:default )?value[^:]*): ", re.S)


def safe_message(message: str) -> str:
    for pattern, replacement in _REWRITES:
        message = pattern.sub(replacement, message)
    return message


def safe(error: GraphQLError) -> None:
    """Rewrite `error.message` (and the inner error a variable's refusal wraps) in place."""
    variable = _VARIABLE.match(error.message)
    inner = error.original_error
    if variable is not None and isinstance(inner, GraphQLError):
        safe(inner)
        error.message = f"{variable.group(1)}: {inner.message}"
    elif variable is not None:
        rest = error.message[variable.end() :]
        error.message = f"{variable.group(1)}: {safe_message(rest)}"
    else:
        error.message = safe_message(error.message)
