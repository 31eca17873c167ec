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


@dataclass(frozen=True)
class _Plan:
    """What one rule needs of the rows (aggregates by name, the columns whose value counts it
    needs), and how it turns them into its result."""

    aggregates: dict[str, Column]
    counted_columns: tuple[str, ...]
    verdict: Callable[[dict[str, Any]], RuleResult]


def evaluate(df: DataFrame, ruleset: str) -> list[RuleResult]:
    """Each rule of the ruleset, evaluated on ``df``: every row-level figure of every rule in
    one aggregation (one pass over the rows), then one count of values per column whose
    uniqueness or distinct values a rule asks for, then any ``CustomSql``."""
    plans: list[RuleResult | _Plan] = []
    for rule in rules_of(ruleset):
        try:
            plans.append(_plan(df, rule))
        except _UnreadableError as error:
            plans.append(RuleResult(rule, NOT_EVALUATED, str(error)))
    wanted = {"total": F.count(F.lit(1))}
    for plan in plans:
        if isinstance(plan, _Plan):
            wanted |= plan.aggregates
    row = df.agg(*[expression.alias(name) for name, expression in wanted.items()]).first()
    figures: dict[str, Any] = row.asDict()  # type: ignore[union-attr]
    counted = {c for plan in plans if isinstance(plan, _Plan) for c in plan.counted_columns}
    for column in sorted(counted):
        values = df.filter(F.col(column).isNotNull()).groupBy(column).count()
        row = values.agg(F.count(F.lit(1)).alias("distinct"),
                         F.count(F.when(F.col("count") == 1, 1)).alias("once")).first()  # fmt: skip
        figures[f"distinct:{column}"], figures[f"once:{column}"] = row[0], row[1]  # type: ignore[index]
    return [plan if isinstance(plan, RuleResult) else plan.verdict(figures) for plan in plans]


def failed(results: list[RuleResult]) -> list[str]:
    return [r.rule for r in results if r.outcome == FAILED]


_COLUMN_RULES = (
    *("ColumnExists", "IsComplete", "Completeness", "IsUnique", "Uniqueness", "IsPrimaryKey"),
    *("DistinctValuesCount", "Mean", "ColumnValues", "ColumnLength"),
)


def _share(part: int, total: int) -> float:
    return part / total if total else 1.0


def _plan(df: DataFrame, rule: str) -> RuleResult | _Plan:
    """How ``rule`` is evaluated (or its result, when no figure of the rows is needed)."""
    rule_type, _, rest = rule.partition(" ")
    rest = rest.strip()
    if rule_type not in (*_COLUMN_RULES, "RowCount", "ColumnCount", "CustomSql"):
        raise _UnreadableError(f"rule type {rule_type}")
    if rule_type == "RowCount":
        return _Plan({}, (), lambda f: _metric(rule, f["total"], rest))
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
    if rule_type == "ColumnExists":
        return RuleResult(rule, PASSED)
    present = {f"present:{column}": F.count(F.col(column))}
    if rule_type in ("IsComplete", "Completeness"):
        expression = "= 1" if rule_type == "IsComplete" else rest
        return _Plan(present, (), lambda f: _metric(
            rule, _share(f[f"present:{column}"], f["total"]), expression))  # fmt: skip
    # As Deequ, on which Glue Data Quality is built: rows with a null value count neither
    # as values nor in the total of uniqueness and distinct values.
    if rule_type in ("IsUnique", "Uniqueness", "IsPrimaryKey"):
        expression = rest if rule_type == "Uniqueness" else "= 1"

        def uniqueness(f: dict[str, Any]) -> RuleResult:
            counted = f[f"present:{column}"]
            if rule_type == "IsPrimaryKey" and counted < f["total"]:
                return RuleResult(rule, FAILED, "null values")
            return _metric(rule, _share(f[f"once:{column}"], counted), expression)

        return _Plan(present, (column,), uniqueness)
    if rule_type == "DistinctValuesCount":
        return _Plan({}, (column,), lambda f: _metric(rule, f[f"distinct:{column}"], rest))
    if rule_type == "Mean":
        return _Plan({f"mean:{column}": F.avg(column)}, (),
                     lambda f: _metric(rule, f[f"mean:{column}"], rest))  # fmt: skip
    if rule_type in ("ColumnValues", "ColumnLength"):
        rest, threshold = _threshold(rest)
        value = F.coalesce(F.length(column), F.lit(0)) if rule_type == "ColumnLength" else None
        condition = _row_condition(F.col(column) if value is None else value, rest)
        name = f"passing:{rule}"

        def passing(f: dict[str, Any]) -> RuleResult:
            share = _share(f[name], f["total"])
            return _metric(rule, share, threshold, what="share of rows passing")

        return _Plan({name: F.count(F.when(condition, 1))}, (), passing)
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
