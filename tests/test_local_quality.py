"""The local run's DQDL evaluator: the rules declarations use, with DQDL's null rules."""

from __future__ import annotations

import pytest

pytest.importorskip("pyspark")

from pyspark.sql import DataFrame, SparkSession

from local_lake import quality
from local_lake.spark import spark_session


@pytest.fixture(scope="module")
def df() -> DataFrame:
    spark: SparkSession = spark_session()
    return spark.createDataFrame(
        [("a", 1, "x"), ("b", 2, None), ("c", 0, "y"), ("c", 5, "x")],
        "id string, quantity int, status string",
    )


def outcome(df: DataFrame, rule: str) -> str:
    (result,) = quality.evaluate(df, f"Rules = [ {rule} ]")
    return result.outcome


def test_a_ruleset_splits_at_the_commas_between_rules() -> None:
    ruleset = (
        'Rules = [\n  ColumnValues "s" in ["a, b", "c"],\n  IsComplete "id",\n  RowCount > 0\n]'
    )
    assert quality.rules_of(ruleset) == [
        'ColumnValues "s" in ["a, b", "c"]',
        'IsComplete "id"',
        "RowCount > 0",
    ]
    assert quality.rules_of("") == []
    with pytest.raises(ValueError, match="not a DQDL ruleset"):
        quality.rules_of("IsComplete id")


RULES = [
    ('IsComplete "id"', "Passed"),
    ('IsComplete "status"', "Failed"),
    ('Completeness "status" >= 0.75', "Passed"),
    ('Completeness "status" > 0.75', "Failed"),
    ('IsUnique "id"', "Failed"),
    ('Uniqueness "id" >= 0.5', "Passed"),
    ('IsPrimaryKey "id"', "Failed"),
    ('DistinctValuesCount "id" = 3', "Passed"),
    ('Mean "quantity" = 2', "Passed"),
    ("RowCount between 3 and 5", "Passed"),
    ("RowCount > 4", "Failed"),
    ("ColumnCount = 3", "Passed"),
    ('ColumnExists "coupon"', "Failed"),
    ('ColumnValues "quantity" > 0', "Failed"),
    ('ColumnValues "quantity" > 0 with threshold >= 0.75', "Passed"),
    ('ColumnValues "quantity" between -1 and 6', "Passed"),
    # A null fails an allowed-values rule unless NULL is listed; != and not in let it pass.
    ('ColumnValues "status" in ["x", "y"]', "Failed"),
    ('ColumnValues "status" in ["x", "y", NULL]', "Passed"),
    ('ColumnValues "status" != "z"', "Passed"),
    ('ColumnValues "status" not in ["z"]', "Passed"),
    ('ColumnValues "status" not in ["z", NULL]', "Failed"),
    ('ColumnValues "status" not in ["z", NULL] with threshold >= 0.75', "Passed"),
    ('ColumnValues "status" in ["x, y", "x", "y"] with threshold >= 0.75', "Passed"),
    # Uniqueness and distinct values leave nulls out, as Deequ does.
    ('DistinctValuesCount "status" = 2', "Passed"),
    ('Uniqueness "status" > 0.3', "Passed"),  # 1 of 3 values, not 1 of 4 rows
    ('ColumnValues "id" matches "[a-c]"', "Passed"),
    ('ColumnLength "status" = 1', "Failed"),  # a null has length 0
    ('CustomSql "select count(*) from primary where quantity = 0" = 1', "Passed"),
]


@pytest.mark.parametrize(("rule", "expected"), RULES)
def test_each_rule_type(df: DataFrame, rule: str, expected: str) -> None:
    assert outcome(df, rule) == expected


def test_a_whole_ruleset_is_read_in_one_pass_with_each_rule_as_alone(df: DataFrame) -> None:
    # Every row-level figure of every rule comes from one aggregation, value counts from one
    # job per counted column (id, status), CustomSql from its own query: not a job per rule.
    ruleset = "Rules = [ " + ", ".join(rule for rule, _ in RULES) + " ]"
    tracker = df.sparkSession.sparkContext.statusTracker()
    df.sparkSession.sparkContext.setJobGroup("one-pass", "the whole ruleset")
    try:
        results = quality.evaluate(df, ruleset)
    finally:
        df.sparkSession.sparkContext.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
    assert [(r.rule, r.outcome) for r in results] == RULES
    # (Each query with a shuffle runs as a few jobs under adaptive execution: 10 here, where
    # a job per rule would be at least len(RULES) = 28.)
    assert len(tracker.getJobIdsForGroup("one-pass")) <= 12 < len(RULES)


def test_a_rule_it_cannot_read_is_never_passed(df: DataFrame) -> None:
    assert outcome(df, 'ColumnValues "quantity" > 0 where "status = \'x\'"') == (
        quality.NOT_EVALUATED
    )
    assert outcome(df, 'DetectAnomalies "RowCount"') == quality.NOT_EVALUATED
    assert outcome(df, 'IsUnique "id" "quantity"') == quality.NOT_EVALUATED  # two columns
    assert outcome(df, 'IsComplete "status" where "quantity > 0"') == quality.NOT_EVALUATED
