"""A small evaluator of CloudWatch Logs JSON filter patterns, for the subset the blueprint
uses: ``{ ... }`` around ``$.field = value``, ``!=``, ``NOT EXISTS``, ``*`` wildcards in
values, parentheses, ``&&`` (binding tighter) and ``||``. A field that is absent matches no
comparison, as in CloudWatch Logs."""

from __future__ import annotations

import fnmatch
import re
from typing import Any

TOKEN = re.compile(r'\s*(\{|\}|\(|\)|&&|\|\||!=|=|NOT EXISTS|"[^"]*"|[^\s(){}=!&|"]+)')
MISSING = object()


def matches(pattern: str, event: dict[str, Any]) -> bool:
    tokens = _tokens(pattern)
    if tokens[0] != "{" or tokens[-1] != "}":
        raise ValueError(f"not a JSON filter pattern: {pattern}")
    parser = _Parser(tokens[1:-1], event)
    result = parser.expression()
    if parser.position != len(parser.tokens):
        raise ValueError(f"unexpected {parser.tokens[parser.position]!r} in {pattern}")
    return result


def _tokens(pattern: str) -> list[str]:
    tokens, position = [], 0
    while position < len(pattern.rstrip()):
        found = TOKEN.match(pattern, position)
        if not found:
            raise ValueError(f"cannot read {pattern[position:]!r}")
        tokens.append(found.group(1))
        position = found.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str], event: dict[str, Any]) -> None:
        self.tokens, self.event, self.position = tokens, event, 0

    def _next(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def expression(self) -> bool:
        result = self.conjunction()
        while self._peek() == "||":
            self._next()
            result = self.conjunction() or result
        return result

    def conjunction(self) -> bool:
        result = self.term()
        while self._peek() == "&&":
            self._next()
            result = self.term() and result
        return result

    def term(self) -> bool:
        if self._peek() == "(":
            self._next()
            result = self.expression()
            if self._next() != ")":
                raise ValueError("unbalanced parentheses")
            return result
        path = self._next()
        if not path.startswith("$."):
            raise ValueError(f"expected a $.field, got {path!r}")
        value: Any = self.event
        for part in path[2:].split("."):
            value = value.get(part, MISSING) if isinstance(value, dict) else MISSING
        operator = self._next()
        if operator == "NOT EXISTS":
            return value is MISSING
        expected = self._next().strip('"')
        if value is MISSING:
            return False
        equal = fnmatch.fnmatchcase(str(value), expected)
        return equal if operator == "=" else not equal
