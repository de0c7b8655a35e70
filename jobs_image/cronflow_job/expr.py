"""JMESPath expressions of the flow spec (success.when, completion.*) and the JSON answers they read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jmespath  # type: ignore[import-untyped]  # ships no type information
from jmespath.exceptions import JMESPathError  # type: ignore[import-untyped]


class ExpressionError(ValueError):
    """Not a JMESPath expression; str() is the parser's first line."""


@dataclass(frozen=True)
class Expression:
    """A compiled JMESPath expression and the spec field it came from (for messages)."""

    name: str
    source: str
    parsed: Any = field(compare=False, repr=False)

    def search(self, data: object) -> object:
        """The expression's value on `data` (None when it selects nothing)."""
        return self.parsed.search(data)

    def holds(self, data: object) -> bool:
        """JMESPath truthiness: false, null, "", [] and {} are false; everything else (0 too) is true."""
        value = self.search(data)
        if isinstance(value, bool):
            return value
        if isinstance(value, str | list | dict):
            return bool(value)
        return value is not None

    def describe(self) -> str:
        """The field and the expression, for messages: flow.success.when `status == 'OK'`."""
        return f"{self.name} `{self.source}`"


def compile_expression(name: str, source: str) -> Expression:
    """Compile `source`; ExpressionError when it is empty or not valid JMESPath."""
    if not source.strip():
        raise ExpressionError("an empty string")
    try:
        return Expression(name, source, jmespath.compile(source))
    except JMESPathError as exc:
        raise ExpressionError(str(exc).splitlines()[0]) from None
