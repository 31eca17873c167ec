"""Glue Data Quality rules (DQDL) as declarations write them: the rule types, their forms, and
a reader that turns one rule into what it checks.

Synth reads every rule of every declaration with ``read_rule`` (``model.declarations``), and
the local run evaluates the rules it has read the same way (``local_lake.quality``), so a rule
that synth accepts is one the local run evaluates. The forms are the plain ones of the DQDL
reference: a column rule names its column first, in double quotes; a comparison is
``= != > >= < <=`` with a value, or ``between A and B``; ``ColumnValues`` also takes
``[not] in [...]`` (``NULL`` allowed in the list) and ``matches "regex"``; ``ColumnValues``
and ``ColumnLength`` end in an optional ``with threshold <op> <share>``. A ``where`` clause,
several columns, and dynamic or composite rules are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NUMBER = r"-?\d+(?:\.\d+)?"
_VALUE = rf'(?:"[^"]*"|{_NUMBER}|NULL)'
_COMPARE = re.compile(rf"^(?P<op>>=|<=|!=|=|>|<)\s*(?P<value>{_VALUE})$")
_BETWEEN = re.compile(rf"^between\s+(?P<low>{_VALUE})\s+and\s+(?P<high>{_VALUE})$")
_IN = re.compile(r"^(?P<not>not\s+)?in\s*\[(?P<values>.*)\]$", re.IGNORECASE | re.DOTALL)
_LIST = re.compile(rf"^\s*(?:{_VALUE}\s*(?:,\s*{_VALUE}\s*)*)?$")
_MATCHES = re.compile(r'^matches\s+"(?P<regex>[^"]*)"$')
_THRESHOLD = re.compile(r"\s+with\s+threshold\b(?P<rest>.*)$", re.DOTALL)
_THRESHOLD_VALUE = re.compile(rf"^\s*(?P<op>>=|<=|=|>|<)\s*(?P<value>{_NUMBER})\s*$")
_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"\s*(.*)$', re.DOTALL)
_TYPE = re.compile(r"^(\w+)\s*(.*)$", re.DOTALL)

_COMPARISON = "<comparison>"
_COMPARISON_IS = (
    f"({_COMPARISON}: one of = != > >= < <= and a number, or between <number> and <number>)"
)
_THRESHOLD_IS = "[with threshold <op> <share of rows, 0 to 1>]"
# How each rule type is written; a rule that is not in its form fails synth with it.
FORMS = {
    "ColumnCount": f"ColumnCount {_COMPARISON} {_COMPARISON_IS}",
    "ColumnExists": 'ColumnExists "<column>"',
    "ColumnLength": f'ColumnLength "<column>" {_COMPARISON} {_THRESHOLD_IS} {_COMPARISON_IS}',
    "ColumnValues": (
        f'ColumnValues "<column>" <condition> {_THRESHOLD_IS} (<condition>: one of = != > >= '
        '< <= and a value ("text", a number or NULL), between <value> and <value>, '
        'in [<values>], not in [<values>] or matches "<regex>")'
    ),
    "Completeness": f'Completeness "<column>" {_COMPARISON} {_COMPARISON_IS}',
    "CustomSql": f'CustomSql "<SQL returning one number, reading primary>" {_COMPARISON} '
    f"{_COMPARISON_IS}",
    "DistinctValuesCount": f'DistinctValuesCount "<column>" {_COMPARISON} {_COMPARISON_IS}',
    "IsComplete": 'IsComplete "<column>"',
    "IsPrimaryKey": 'IsPrimaryKey "<column>"',
    "IsUnique": 'IsUnique "<column>"',
    "Mean": f'Mean "<column>" {_COMPARISON} {_COMPARISON_IS}',
    "RowCount": f"RowCount {_COMPARISON} {_COMPARISON_IS}",
    "Uniqueness": f'Uniqueness "<column>" {_COMPARISON} {_COMPARISON_IS}',
}
RULE_TYPES = tuple(FORMS)
# The column rules that take nothing after the column.
_BARE = ("ColumnExists", "IsComplete", "IsPrimaryKey", "IsUnique")
_ROW_RULES = ("ColumnValues", "ColumnLength")


class UnreadableRuleError(ValueError):
    """A rule, or a part of one, that is not in a form ``read_rule`` reads."""

    def __init__(self, message: str, form: str | None = None) -> None:
        super().__init__(message)
        self.form = form


@dataclass(frozen=True)
class Condition:
    """What a value (a figure of the rows, or each row's value) must satisfy.

    ``kind`` is ``compare`` (``op`` and one value), ``between`` (low and high, both
    excluded), ``in`` (``op`` is ``in`` or ``not in``; ``None`` stands for NULL) or
    ``matches`` (one regex)."""

    kind: str
    op: str
    values: tuple[Any, ...]


ALL_ROWS = Condition("compare", "=", (1,))


@dataclass(frozen=True)
class Rule:
    """One rule as read: its type, its column (or CustomSql's SQL), and its conditions."""

    text: str
    type: str
    column: str | None = None
    sql: str | None = None
    condition: Condition = ALL_ROWS  # on the metric, or on each row's value (ColumnValues)
    threshold: Condition = ALL_ROWS  # on the share of rows passing (ColumnValues, ColumnLength)


def rules_of(ruleset: str) -> list[str]:
    """The rules of ``Rules = [ rule, rule, ... ]``, split at the commas between rules."""
    body = ruleset.strip()
    if not body:
        return []
    match = re.fullmatch(r"Rules\s*=\s*\[(.*)\]", body, re.DOTALL)
    if not match:
        raise ValueError(f"not a DQDL ruleset: {ruleset[:60]!r}")
    rules, current, depth, quoted = [], "", 0, False
    for char in match[1]:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "[(":
            depth += 1
        elif not quoted and char in "])":
            depth -= 1
        if char == "," and not quoted and depth == 0:
            rules.append(current.strip())
            current = ""
        else:
            current += char
    return [rule for rule in [*rules, current.strip()] if rule]


def read_rule(text: str) -> Rule:
    """``text`` as a rule; ``UnreadableRuleError`` (with the rule type's form, when the type
    is known) when it is not in a form this reader reads."""
    match = _TYPE.match(text.strip())
    rule_type = match[1] if match else ""
    if rule_type not in FORMS:
        raise UnreadableRuleError(f"rule type {rule_type or text[:30]!r}")
    form = FORMS[rule_type]
    try:
        return _read(text, rule_type, match[2].strip())  # type: ignore[index]
    except UnreadableRuleError as error:
        raise UnreadableRuleError(str(error), form) from None


def _read(text: str, rule_type: str, rest: str) -> Rule:
    if rule_type in ("RowCount", "ColumnCount"):
        return Rule(text, rule_type, condition=_metric_condition(rest))
    first, rest = _quoted(rest)
    if rule_type == "CustomSql":
        return Rule(text, rule_type, sql=first, condition=_metric_condition(rest))
    if rule_type in _BARE:
        if rest:
            raise UnreadableRuleError(f"more than one column, or a where clause: {rest[:30]!r}")
        return Rule(text, rule_type, column=first)
    if rule_type not in _ROW_RULES:
        return Rule(text, rule_type, column=first, condition=_metric_condition(rest))
    threshold = ALL_ROWS
    if found := _THRESHOLD.search(rest):
        value = _THRESHOLD_VALUE.match(found["rest"])
        if not value:
            raise UnreadableRuleError(f"threshold {found['rest'].strip()[:30]!r}")
        threshold = Condition("compare", value["op"], (_literal(value["value"]),))
        rest = rest[: found.start()].strip()
    condition = _row_condition(rest)
    if rule_type == "ColumnLength" and (
        condition.kind == "matches" or not all(_is_number(v) for v in condition.values)
    ):
        raise UnreadableRuleError(f"length condition {rest[:30]!r}")
    return Rule(text, rule_type, column=first, condition=condition, threshold=threshold)


def _quoted(text: str) -> tuple[str, str]:
    match = _QUOTED.match(text)
    if not match:
        raise UnreadableRuleError(f"expected a quoted name at {text[:30]!r}")
    return match[1].replace('\\"', '"'), match[2].strip()


def _literal(text: str) -> Any:
    if text == "NULL":
        return None
    if text.startswith('"'):
        return text[1:-1]
    return float(text) if "." in text else int(text)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _metric_condition(expression: str) -> Condition:
    """A comparison of a figure with numbers."""
    condition = _row_condition(expression)
    if condition.kind not in ("compare", "between") or not all(
        _is_number(v) for v in condition.values
    ):
        raise UnreadableRuleError(f"expression {expression[:30]!r}")
    return condition


def _row_condition(expression: str) -> Condition:
    expression = expression.strip()
    if match := _COMPARE.match(expression):
        return Condition("compare", match["op"], (_literal(match["value"]),))
    if match := _BETWEEN.match(expression):
        return Condition("between", "between", (_literal(match["low"]), _literal(match["high"])))
    if (match := _IN.match(expression)) and _LIST.match(match["values"]):
        items = tuple(_literal(v) for v in re.findall(_VALUE, match["values"]))
        return Condition("in", "not in" if match["not"] else "in", items)
    if match := _MATCHES.match(expression):
        return Condition("matches", "matches", (match["regex"],))
    raise UnreadableRuleError(f"expression {expression[:30]!r}")
