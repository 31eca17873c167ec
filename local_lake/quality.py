"""Glue Data Quality for the local run: a dataset's DQDL rules, evaluated on a Spark DataFrame.

Glue evaluates a dataset's ruleset on each run's curated rows before anything is published
(``glue_jobs.raw_to_curated.evaluate_quality``); ``awsgluedq`` exists only in Glue, so the
local run evaluates the same ruleset string here and hands the verdict to the same flow
(``glue_jobs.flows.curate``). It reads every rule type a declaration may use
(``blueprint.datasets.RULE_TYPES``) with the plain expressions of the DQDL reference:
``= != > >= < <=``, ``between A and B``, ``[not] in [...]`` (``NULL`` allowed in the list),
``matches "regex"`` and ``with threshold``, following DQDL's null rules (a null fails every
``ColumnValues`` rule but ``!=`` and ``not in``; ``ColumnLength`` counts it as length 0;
uniqueness and distinct values leave nulls out, as Deequ, under Glue Data Quality, does). A
rule it cannot read (a ``where`` clause, several columns, a dynamic or composite rule) is
reported as not evaluated, never as passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

PASSED, FAILED, NOT_EVALUATED = "Passed", "Failed", "Not evaluated locally"
_NUMBER = r"-?\d+(?:\.\d+)?"
_VALUE = rf'(?:"[^"]*"|{_NUMBER}|NULL)'
_COMPARE = re.compile(rf"^(?P<op>>=|<=|!=|=|>|<)\s*(?P<value>{_VALUE})$")
_BETWEEN = re.compile(rf"^between\s+(?P<low>{_VALUE})\s+and\s+(?P<high>{_VALUE})$")
_IN = re.compile(r"^(?P<not>not\s+)?in\s*\[(?P<values>.*)\]$", re.IGNORECASE)
_MATCHES = re.compile(r'^matches\s+"(?P<regex>[^"]*)"$')
_THRESHOLD = re.compile(rf"\s+with\s+threshold\s*(?P<op>>=|<=|=|>|<)\s*(?P<value>{_NUMBER})$")
_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"\s*(.*)$', re.DOTALL)


@dataclass(frozen=True)
class RuleResult:
    rule: str
    outcome: str
    detail: str = ""


class _UnreadableError(ValueError):
    """A rule or expression this evaluator does not read."""


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


def evaluate(df: DataFrame, ruleset: str) -> list[RuleResult]:
    """Each rule of the ruleset, evaluated on ``df``."""
    results = []
    for rule in rules_of(ruleset):
        try:
            results.append(_evaluate(df, rule))
        except _UnreadableError as error:
            results.append(RuleResult(rule, NOT_EVALUATED, str(error)))
    return results


def failed(results: list[RuleResult]) -> list[str]:
    return [r.rule for r in results if r.outcome == FAILED]


_COLUMN_RULES = (
    *("ColumnExists", "IsComplete", "Completeness", "IsUnique", "Uniqueness", "IsPrimaryKey"),
    *("DistinctValuesCount", "Mean", "ColumnValues", "ColumnLength"),
)


def _evaluate(df: DataFrame, rule: str) -> RuleResult:
    rule_type, _, rest = rule.partition(" ")
    rest = rest.strip()
    if rule_type not in (*_COLUMN_RULES, "RowCount", "ColumnCount", "CustomSql"):
        raise _UnreadableError(f"rule type {rule_type}")
    if rule_type == "RowCount":
        return _metric(rule, df.count(), rest)
    if rule_type == "ColumnCount":
        return _metric(rule, len(df.columns), rest)
    if rule_type == "CustomSql":
        sql, rest = _quoted(rest)
        df.createOrReplaceTempView("primary")
        return _metric(rule, df.sparkSession.sql(sql).first()[0], rest)  # type: ignore[index]
    column, rest = _quoted(rest)
    if column not in df.columns:
        if rule_type == "ColumnExists":
            return RuleResult(rule, FAILED, f"no column {column}")
        return RuleResult(rule, FAILED, f"no column {column} in the curated rows")
    if rule_type in ("ColumnExists", "IsComplete", "IsUnique", "IsPrimaryKey") and rest:
        raise _UnreadableError(f"more than one column, or a where clause: {rest[:30]!r}")
    total = df.count()
    if rule_type == "ColumnExists":
        return RuleResult(rule, PASSED)
    if rule_type in ("IsComplete", "Completeness"):
        complete = df.filter(F.col(column).isNotNull()).count() / total if total else 1.0
        return _metric(rule, complete, "= 1" if rule_type == "IsComplete" else rest)
    # As Deequ, on which Glue Data Quality is built: rows with a null value count neither
    # as values nor in the total of uniqueness and distinct values.
    present = df.filter(F.col(column).isNotNull())
    if rule_type in ("IsUnique", "Uniqueness", "IsPrimaryKey"):
        once = present.groupBy(column).count().filter("count = 1").count()
        counted = present.count()
        uniqueness = once / counted if counted else 1.0
        if rule_type == "IsPrimaryKey" and counted < total:
            return RuleResult(rule, FAILED, "null values")
        return _metric(rule, uniqueness, rest if rule_type == "Uniqueness" else "= 1")
    if rule_type == "DistinctValuesCount":
        return _metric(rule, present.select(column).distinct().count(), rest)
    if rule_type == "Mean":
        return _metric(rule, df.select(F.avg(column)).first()[0], rest)  # type: ignore[index]
    if rule_type in ("ColumnValues", "ColumnLength"):
        rest, threshold = _threshold(rest)
        value = F.coalesce(F.length(column), F.lit(0)) if rule_type == "ColumnLength" else None
        condition = _row_condition(F.col(column) if value is None else value, rest)
        passing = df.filter(condition).count() / total if total else 1.0
        return _metric(rule, passing, threshold, what="share of rows passing")
    raise AssertionError(rule_type)  # every type of _COLUMN_RULES is handled above


def _quoted(text: str) -> tuple[str, str]:
    match = _QUOTED.match(text)
    if not match:
        raise _UnreadableError(f"expected a quoted name at {text[:30]!r}")
    return match[1].replace('\\"', '"'), match[2].strip()


def _threshold(rest: str) -> tuple[str, str]:
    match = _THRESHOLD.search(rest)
    if not match:
        return rest, "= 1"
    return rest[: match.start()].strip(), f"{match['op']} {match['value']}"


def _literal(text: str) -> Any:
    if text == "NULL":
        return None
    if text.startswith('"'):
        return text[1:-1]
    return float(text) if "." in text else int(text)


def _metric(rule: str, value: Any, expression: str, what: str = "value") -> RuleResult:
    ok = _compare(expression)(value)
    shown = f"{value:.3f}" if isinstance(value, float) else str(value)
    return RuleResult(rule, PASSED if ok else FAILED, f"{what} {shown}")


def _compare(expression: str) -> Callable[[Any], bool]:
    expression = expression.strip()
    if match := _COMPARE.match(expression):
        op, target = match["op"], _literal(match["value"])
        checks: dict[str, Callable[[Any], bool]] = {
            "=": lambda v: v == target,
            "!=": lambda v: v != target,
            ">": lambda v: v is not None and v > target,
            ">=": lambda v: v is not None and v >= target,
            "<": lambda v: v is not None and v < target,
            "<=": lambda v: v is not None and v <= target,
        }
        return checks[op]
    if match := _BETWEEN.match(expression):
        low, high = _literal(match["low"]), _literal(match["high"])
        return lambda v: v is not None and low < v < high  # DQDL's between is exclusive
    raise _UnreadableError(f"expression {expression!r}")


def _row_condition(value: Column, expression: str) -> Column:
    """A Spark condition true for the rows that pass; null fails unless the rule says so."""
    expression = expression.strip()
    if match := _IN.match(expression):
        items = [_literal(v) for v in re.findall(_VALUE, match["values"])]
        allowed = [v for v in items if v is not None]
        member = value.isin(allowed) if allowed else F.lit(False)
        if match["not"]:  # nulls pass unless NULL is listed
            return (value.isNotNull() & ~member) if None in items else (value.isNull() | ~member)
        return (member | value.isNull()) if None in items else (value.isNotNull() & member)
    if match := _MATCHES.match(expression):
        return value.isNotNull() & value.rlike(f"^(?:{match['regex']})$")
    if match := _BETWEEN.match(expression):
        low, high = _literal(match["low"]), _literal(match["high"])
        within: Column = (value > low) & (value < high)
        return value.isNotNull() & within
    if match := _COMPARE.match(expression):
        op, target = match["op"], _literal(match["value"])
        if target is None:
            return value.isNull() if op == "=" else value.isNotNull()
        operators: dict[str, Callable[[Column], Column]] = {
            "=": lambda v: v == target,
            "!=": lambda v: v.isNull() | (v != target),
            ">": lambda v: v > target,
            ">=": lambda v: v >= target,
            "<": lambda v: v < target,
            "<=": lambda v: v <= target,
        }
        condition = operators[op](value)
        return condition if op == "!=" else (value.isNotNull() & condition)
    raise _UnreadableError(f"expression {expression!r}")
