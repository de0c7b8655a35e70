"""One validation rule, two enforcers: a CEL rule in the CRD schema and the same check in Python.

Use an instance as `Annotated` metadata on a field type: the API server refuses bad input with
`message`, and the operator's pydantic models refuse it with the same words.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

VALIDATIONS_KEY = "x-kubernetes-validations"


def cel_string(text: str) -> str:
    """Quote `text` as a CEL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class Cel:
    """A CEL `rule` with its `message`; `check` is the same predicate in Python."""

    rule: str
    message: str
    check: Callable[[Any], bool]
    message_expression: str | None = None
    """A CEL expression for a message that names the bad value; `describe` computes it in Python."""
    describe: Callable[[Any], str] | None = None

    @classmethod
    def matching(cls, regex: str, message: str) -> "Cel":
        """The whole string must match `regex` (anchored with ^ and $, RE2 and Python compatible)."""
        matches = _full_match(regex)
        return cls(f"self.matches({cel_string(regex)})", message, matches)

    @classmethod
    def keys_matching(cls, regex: str, message: str) -> "Cel":
        """Every key of a map must match `regex` (anchored with ^ and $)."""
        matches = _full_match(regex)
        return cls(f"self.all(k, k.matches({cel_string(regex)}))", message, lambda m: all(map(matches, m)))

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        validation = {"rule": self.rule, "message": self.message}
        if self.message_expression is not None:
            validation["messageExpression"] = self.message_expression
        json_schema.setdefault(VALIDATIONS_KEY, []).append(validation)
        return json_schema

    def _validate(self, value: Any) -> Any:
        if not self.check(value):
            raise ValueError(self.describe(value) if self.describe else self.message)
        return value


def _full_match(regex: str) -> Callable[[str], bool]:
    if not (regex.startswith("^") and regex.endswith("$")):
        raise ValueError(f"regex must be anchored with ^ and $: {regex}")
    compiled = re.compile(regex)
    return lambda value: compiled.fullmatch(value) is not None
