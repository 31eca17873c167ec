"""Quality rules are read at synth by the reader the local run evaluates with (model.dqdl):
each rule type's forms are accepted, and a rule it cannot read fails with the type's form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.datasets import DatasetError
from model.declarations import load_dataset
from model.dqdl import FORMS, RULE_TYPES, Condition, read_rule
from tests.conftest import DATASETS, docs_example_declaration

GOOD = docs_example_declaration()
RULES = GOOD[GOOD.index("quality_rules = [") : GOOD.index("]\n", GOOD.index("quality_rules")) + 1]


def _with_rule(rule: str, folder: Path) -> Path:
    path = folder / "payments.toml"
    path.write_text(GOOD.replace(RULES, f"quality_rules = [{json.dumps(rule)}]"))
    return path


ACCEPTED = [
    "ColumnCount = 7",
    "ColumnCount between 5 and 9",
    'ColumnExists "currency"',
    'ColumnLength "currency" = 3',
    'ColumnLength "currency" between 2 and 4 with threshold >= 0.9',
    'ColumnLength "currency" in [3, 4]',
    'ColumnValues "amount" > 0',
    'ColumnValues "amount" between 0 and 10000.5',
    'ColumnValues "currency" in ["EUR", "USD", NULL]',
    'ColumnValues "currency" not in ["XXX"] with threshold > 0.9',
    'ColumnValues "currency" matches "[A-Z]{3}"',
    'ColumnValues "currency" != NULL',
    'ColumnValues "ingest_date" <= "2030-01-01"',  # the lineage column the curated rows add
    'Completeness "payer_email" >= 0.95',  # hashed: kept in curated
    'CustomSql "select count(*) from primary where amount < 0" = 0',
    'DistinctValuesCount "currency" > 1',
    'IsComplete "payment_id"',
    'IsPrimaryKey "payment_id"',
    'IsUnique "payment_id"',
    'Mean "amount" between 1 and 500',
    "RowCount > 0",
    "RowCount>=10",
    'Uniqueness "payment_id" > 0.99',
]


@pytest.mark.parametrize("rule", ACCEPTED)
def test_a_rule_in_its_form_is_accepted(rule: str, tmp_path: Path) -> None:
    assert load_dataset(_with_rule(rule, tmp_path)).quality_rules == (rule,)


def test_every_rule_type_has_an_accepted_and_a_refused_example() -> None:
    assert {read_rule(r).type for r in ACCEPTED} == set(RULE_TYPES)
    assert {r.split(" ")[0] for r, _ in REFUSED} >= set(RULE_TYPES)


REFUSED = [
    ("ColumnCount 7", FORMS["ColumnCount"]),
    ('ColumnCount > "seven"', FORMS["ColumnCount"]),
    ("ColumnExists currency", 'ColumnExists "<column>"'),
    ('ColumnLength "currency" matches "[A-Z]+"', FORMS["ColumnLength"]),
    ('ColumnLength "currency" = "3"', FORMS["ColumnLength"]),
    ('ColumnValues "amount" > 0 with threshold 0.9', FORMS["ColumnValues"]),  # no operator
    ('ColumnValues "amount" > 0 with threshold >= high', FORMS["ColumnValues"]),
    ('ColumnValues "amount" positive', FORMS["ColumnValues"]),
    ('ColumnValues "currency" in ["EUR" "USD"]', FORMS["ColumnValues"]),  # no comma
    ('ColumnValues "amount" > 0 where "currency = \'EUR\'"', FORMS["ColumnValues"]),
    ('Completeness "payer_email"', FORMS["Completeness"]),
    ("CustomSql select count(*) from primary = 0", FORMS["CustomSql"]),
    ('DistinctValuesCount "currency" in [1, 2]', FORMS["DistinctValuesCount"]),
    ("IsComplete carrier", 'IsComplete "<column>"'),
    ('IsPrimaryKey "payment_id" "currency"', 'IsPrimaryKey "<column>"'),  # two columns
    ('IsUnique "payment_id" where "amount > 0"', 'IsUnique "<column>"'),
    ('Mean "amount" > ten', FORMS["Mean"]),
    ("RowCount", FORMS["RowCount"]),
    ("RowCount >= 0.5.1", FORMS["RowCount"]),
    ('Uniqueness "payment_id" = NULL', FORMS["Uniqueness"]),
]


@pytest.mark.parametrize(("rule", "form"), REFUSED)
def test_a_rule_out_of_its_form_fails_with_the_form(rule: str, form: str, tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as error:
        load_dataset(_with_rule(rule, tmp_path))
    file = f"{tmp_path.name}/payments.toml"
    assert str(error.value) == f"{file}: quality_rules[0] = {rule!r}: expected {form}"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            'DetectAnomalies "RowCount"',
            "expected a Glue Data Quality rule starting with one of " + ", ".join(RULE_TYPES),
        ),
        ('isComplete "payment_id"', "expected a Glue Data Quality rule starting with one of"),
        (
            'IsComplete "carrier"',
            "expected IsComplete \"<column>\" with a declared column; 'carrier' is not one",
        ),
        (
            'ColumnValues "card_holder" != NULL',
            "with a column kept in curated; 'card_holder' is dropped as personal data",
        ),
    ],
)
def test_a_rule_type_or_column_it_does_not_know_fails(
    rule: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(DatasetError, match="quality_rules\\[0\\]") as error:
        load_dataset(_with_rule(rule, tmp_path))
    assert message in str(error.value)


def test_a_form_says_what_a_comparison_is() -> None:
    assert FORMS["IsComplete"] == 'IsComplete "<column>"'
    assert FORMS["RowCount"].startswith("RowCount <comparison> (<comparison>: one of = != >")
    assert "with threshold <op>" in FORMS["ColumnValues"]


def test_the_shipped_rules_are_read_as_they_mean() -> None:
    shipped = [load_dataset(DATASETS / f"{name}.toml") for name in ("orders", "clickstream")]
    rules = [rule for dataset in shipped for rule in dataset.quality_rules]
    assert len(rules) == 9  # each read at load; test_local_run evaluates them
    statuses = read_rule('ColumnValues "status" in ["placed", "paid", "shipped", "cancelled"]')
    assert statuses.condition == Condition("in", "in", ("placed", "paid", "shipped", "cancelled"))
    assert read_rule('ColumnValues "quantity" > 0').condition == Condition("compare", ">", (0,))
    assert read_rule('Completeness "customer_email" >= 0.95').condition.values == (0.95,)
    assert read_rule("RowCount > 0").column is None
    between = read_rule('ColumnValues "x" between 1 and 2 with threshold > 0.9')
    assert (between.condition, between.threshold) == (
        Condition("between", "between", (1, 2)), Condition("compare", ">", (0.9,))
    )  # fmt: skip
