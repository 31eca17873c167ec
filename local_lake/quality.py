"""Glue Data Quality for the local run: a dataset's DQDL rules, evaluated on a Spark DataFrame.

Glue evaluates a dataset's ruleset on each run's curated rows before anything is published
(``glue_jobs.raw_to_curated.evaluate_quality``); ``awsgluedq`` exists only in Glue, so the
local run evaluates the same ruleset string here and hands the verdict to the same flow
(``glue_jobs.flows.curate``). Each rule is read by ``model.dqdl.read_rule``, the reader synth
checks declarations with, so every rule a declaration may hold is evaluated here, following
DQDL's null rules (a null fails every ``ColumnValues`` rule but ``!=`` and ``not in``;
``ColumnLength`` counts it as length 0; uniqueness and distinct values leave nulls out, as
Deequ, under Glue Data Quality, does). A ruleset written by hand may hold a rule the reader
does not read (a ``where`` clause, several columns, a dynamic or composite rule): it is
reported as not evaluated, never as passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from model.dqdl import Condition, UnreadableRuleError, read_rule, rules_of

PASSED, FAILED, NOT_EVALUATED = "Passed", "Failed", "Not evaluated locally"


@dataclass(frozen=True)
class RuleResult:
    rule: str
    outcome: str
    detail: str = ""


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
        except UnreadableRuleError as error:
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


def _share(part: int, total: int) -> float:
    return part / total if total else 1.0


def _plan(df: DataFrame, text: str) -> RuleResult | _Plan:
    """How rule ``text`` is evaluated (or its result, when no figure of the rows is needed)."""
    rule = read_rule(text)
    if rule.type == "RowCount":
        return _Plan({}, (), lambda f: _metric(text, f["total"], rule.condition))
    if rule.type == "ColumnCount":
        return _metric(text, len(df.columns), rule.condition)
    if rule.type == "CustomSql":
        df.createOrReplaceTempView("primary")
        value = df.sparkSession.sql(rule.sql).first()[0]  # type: ignore[arg-type, index]
        return _metric(text, value, rule.condition)
    column = str(rule.column)
    if column not in df.columns:
        if rule.type == "ColumnExists":
            return RuleResult(text, FAILED, f"no column {column}")
        return RuleResult(text, FAILED, f"no column {column} in the curated rows")
    if rule.type == "ColumnExists":
        return RuleResult(text, PASSED)
    present = {f"present:{column}": F.count(F.col(column))}
    if rule.type in ("IsComplete", "Completeness"):
        return _Plan(present, (), lambda f: _metric(
            text, _share(f[f"present:{column}"], f["total"]), rule.condition))  # fmt: skip
    # As Deequ, on which Glue Data Quality is built: rows with a null value count neither
    # as values nor in the total of uniqueness and distinct values.
    if rule.type in ("IsUnique", "Uniqueness", "IsPrimaryKey"):

        def uniqueness(f: dict[str, Any]) -> RuleResult:
            counted = f[f"present:{column}"]
            if rule.type == "IsPrimaryKey" and counted < f["total"]:
                return RuleResult(text, FAILED, "null values")
            return _metric(text, _share(f[f"once:{column}"], counted), rule.condition)

        return _Plan(present, (column,), uniqueness)
    if rule.type == "DistinctValuesCount":
        return _Plan(
            {}, (column,), lambda f: _metric(text, f[f"distinct:{column}"], rule.condition)
        )
    if rule.type == "Mean":
        return _Plan({f"mean:{column}": F.avg(column)}, (),
                     lambda f: _metric(text, f[f"mean:{column}"], rule.condition))  # fmt: skip
    if rule.type in ("ColumnValues", "ColumnLength"):
        length = F.coalesce(F.length(column), F.lit(0))
        condition = _row_condition(length if rule.type == "ColumnLength" else F.col(column),
                                   rule.condition)  # fmt: skip
        name = f"passing:{text}"

        def passing(f: dict[str, Any]) -> RuleResult:
            share = _share(f[name], f["total"])
            return _metric(text, share, rule.threshold, what="share of rows passing")

        return _Plan({name: F.count(F.when(condition, 1))}, (), passing)
    raise AssertionError(rule.type)  # every rule type of model.dqdl is handled above


def _metric(rule: str, value: Any, condition: Condition, what: str = "value") -> RuleResult:
    ok = _holds(value, condition)
    shown = f"{value:.3f}" if isinstance(value, float) else str(value)
    return RuleResult(rule, PASSED if ok else FAILED, f"{what} {shown}")


def _holds(value: Any, condition: Condition) -> bool:
    """Whether a figure meets a comparison (a missing figure meets none but !=)."""
    if condition.kind == "between":
        low, high = condition.values
        return value is not None and low < value < high  # DQDL's between is exclusive
    (target,) = condition.values
    checks: dict[str, Callable[[Any], bool]] = {
        "=": lambda v: v == target,
        "!=": lambda v: v != target,
        ">": lambda v: v is not None and v > target,
        ">=": lambda v: v is not None and v >= target,
        "<": lambda v: v is not None and v < target,
        "<=": lambda v: v is not None and v <= target,
    }
    return checks[condition.op](value)


def _row_condition(value: Column, condition: Condition) -> Column:
    """A Spark condition true for the rows that pass; null fails unless the rule says so."""
    if condition.kind == "in":
        items = condition.values
        allowed = [v for v in items if v is not None]
        member = value.isin(allowed) if allowed else F.lit(False)
        if condition.op == "not in":  # nulls pass unless NULL is listed
            return (value.isNotNull() & ~member) if None in items else (value.isNull() | ~member)
        return (member | value.isNull()) if None in items else (value.isNotNull() & member)
    if condition.kind == "matches":
        return value.isNotNull() & value.rlike(f"^(?:{condition.values[0]})$")
    if condition.kind == "between":
        low, high = condition.values
        within: Column = (value > low) & (value < high)
        return value.isNotNull() & within
    op, (target,) = condition.op, condition.values
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
    result = operators[op](value)
    return result if op == "!=" else (value.isNotNull() & result)
