"""Dataset declarations: the shipped ones are valid, and each mistake gets its message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from blueprint.factory import ROOT, cdk_json_context
from model.datasets import Dataset, DatasetError
from model.declarations import load_dataset, load_datasets
from tests.conftest import DATASETS, docs_example_declaration

GOOD = docs_example_declaration()


def test_the_sample_datasets_have_different_shapes() -> None:
    orders, clickstream = (load_dataset(DATASETS / f"{n}.toml") for n in ("orders", "clickstream"))
    assert (orders.source.mode, orders.source.format) == ("batch", "csv")
    assert (clickstream.source.mode, clickstream.source.format) == ("streaming", "jsonl")
    assert {c.pii for c in orders.pii_columns} == {"hash", "drop"}
    assert [c.name for c in clickstream.pii_columns] == ["user_id", "ip_address"]
    for dataset in (orders, clickstream):
        assert "engineer" in dataset.readers
        assert all(c.name not in dataset.partition_by for c in dataset.pii_columns)


def test_each_sample_dataset_ships_a_sample_file_with_the_declared_fields() -> None:
    orders_header = (DATASETS / "samples" / "orders.csv").read_text().splitlines()[0]
    orders = load_dataset(DATASETS / "orders.toml")
    assert orders_header.split(",") == [c.name for c in orders.columns if not c.derived_from]
    clickstream = load_dataset(DATASETS / "clickstream.toml")
    lines = (DATASETS / "samples" / "clickstream.jsonl").read_text().splitlines()
    assert len(lines) >= 10
    for line in lines:
        assert set(json.loads(line)) == {c.name for c in clickstream.columns if not c.derived_from}


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    dataset = _load(GOOD, tmp_path)
    assert dataset.name == "payments"
    # The curated table's declared columns (dropped PII left out), partition column included.
    assert [c.name for c in dataset.table_columns] == [
        "payment_id", "paid_at", "payer_email", "amount", "currency", "payment_date",
    ]  # fmt: skip
    assert dataset.curated_type(dataset.column("payer_email")) == "string"


def _load(text: str, folder: Path) -> Dataset:
    path = folder / "payments.toml"
    path.write_text(text)
    return load_dataset(path)


def change(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


BAD_DECLARATIONS = [
    pytest.param(
        change('type = "decimal(10,2)"', 'type = "money"'),
        "columns[4].type = 'money': expected one of string, int, bigint, double, boolean, date, "
        "timestamp, or decimal(p,s)",
        id="unknown-type",
    ),
    pytest.param(
        change('type = "decimal(10,2)"', 'type = "decimal(40,2)"'),
        "columns[4].type = 'decimal(40,2)'",
        id="decimal-too-wide",
    ),
    pytest.param(
        change('primary_key = ["payment_id"]', 'primary_key = ["payment_ref"]'),
        "primary_key = ['payment_ref']: expected declared columns; 'payment_ref' is not a column",
        id="key-not-a-column",
    ),
    pytest.param(
        change('primary_key = ["payment_id"]', 'primary_key = ["card_holder"]'),
        "expected columns kept in curated; 'card_holder' is dropped as PII",
        id="key-dropped-as-pii",
    ),
    pytest.param(
        change('partition_by = ["payment_date"]', 'partition_by = ["payer_email"]'),
        "partition_by = ['payer_email']: expected columns without personal data; "
        "'payer_email' is PII",
        id="pii-column-as-partition",
    ),
    pytest.param(
        change('partition_by = ["payment_date"]', 'partition_by = ["amount"]'),
        "expected columns of type date, timestamp, string, int, bigint, boolean; 'amount' is "
        "decimal(10,2)",
        id="partition-of-a-decimal",
    ),
    pytest.param(
        change('schedule = "cron(30 3 * * ? *)"', 'schedule = "every night"'),
        "schedule = 'every night': expected an EventBridge schedule such as rate(1 hour)",
        id="bad-schedule-expression",
    ),
    pytest.param(
        change('schedule = "cron(30 3 * * ? *)"', 'schedule = "rate(1 hours)"'),
        "schedule = 'rate(1 hours)'",
        id="rate-with-wrong-unit",
    ),
    pytest.param(
        change('schedule = "cron(30 3 * * ? *)"', 'schedule = "cron(30 3 * * *)"'),
        "schedule = 'cron(30 3 * * *)'",
        id="five-field-cron",
    ),
    pytest.param(
        change('schedule = "cron(30 3 * * ? *)"', 'schedule = "cron(30 3 * * * *)"'),
        "schedule = 'cron(30 3 * * * *)'",
        id="cron-without-question-mark",
    ),
    pytest.param(
        change(
            'schedule = "cron(30 3 * * ? *)"',
            'schedule = "cron(30 3 * * ? *)"\nfresh_within_hours = 0',
        ),
        "fresh_within_hours = 0: expected whole hours from 1 to 168",
        id="freshness-zero",
    ),
    pytest.param(
        change(
            'schedule = "cron(30 3 * * ? *)"',
            'schedule = "cron(30 3 * * ? *)"\nfresh_within_hours = "a day"',
        ),
        "fresh_within_hours = 'a day': expected whole hours from 1 to 168",
        id="freshness-not-a-number",
    ),
    pytest.param(
        change("FROM {curated}.payments", "FROM {curated}.orders"),
        "queries[0].sql reads {curated}.orders: expected this dataset's tables: {curated}.payments",
        id="query-reads-another-dataset",
    ),
    pytest.param(
        change("FROM {curated}.payments", "FROM datalake_sandbox_curated.payments"),
        "expected Athena SQL naming its tables as {curated}.<table> or {analytics}.<table>",
        id="query-with-a-fixed-database",
    ),
    pytest.param(
        change("'IsUnique \"payment_id\"'", "'IsUnique \"payment\"'"),
        'quality_rules[1] = \'IsUnique "payment"\': expected IsUnique "<column>" with a '
        "declared column; 'payment' is not one",
        id="rule-on-unknown-column",
    ),
    pytest.param(
        change("'ColumnValues \"amount\" > 0'", "'Positive \"amount\"'"),
        "quality_rules[2] = 'Positive \"amount\"': expected a Glue Data Quality rule",
        id="unknown-rule-type",
    ),
    pytest.param(
        change('readers = ["analyst", "scientist"]', 'readers = ["analyst", "security_officer"]'),
        "readers = ['analyst', 'security_officer']: expected personas among analyst, scientist, "
        "engineer; 'security_officer' is not one",
        id="security-officer-as-reader",
    ),
    pytest.param(
        change('readers = ["analyst", "scientist"]', 'readers = ["analyst", "auditor"]'),
        "readers = ['analyst', 'auditor']: expected personas among analyst, scientist, "
        "engineer; 'auditor' is not one (security_officer reads no table data)",
        id="unknown-persona-as-reader",
    ),
    pytest.param(
        change('mode = "batch"', 'mode = "streaming"'),
        "source.format = 'csv': expected jsonl for a streaming source",
        id="streaming-csv",
    ),
    pytest.param(
        change('delimiter = ";"', 'delimiter = ";;"'),
        "source.delimiter = ';;': expected a single character",
        id="long-delimiter",
    ),
    pytest.param(
        change('pii = "drop"', 'pii = "mask"'),
        "columns[2].pii = 'mask': expected one of keep, hash, drop",
        id="unknown-pii-treatment",
    ),
    pytest.param(
        change('derived_from = "paid_at"', 'derived_from = "captured_at"'),
        "columns[6].derived_from = 'captured_at': expected a declared column",
        id="derived-from-unknown-column",
    ),
    pytest.param(
        change('description = "Card payments', 'desc = "Card payments'),
        "description = '<missing>': expected a value (the field is required)",
        id="missing-required-field",
    ),
    pytest.param(
        change('domain = "finance"', 'domain = "finance"\nretention_days = 30'),
        "retention_days = 30: unknown field; expected one of ",
        id="unknown-field",
    ),
    pytest.param(
        change('owner = "finance-data@example.com"', 'owner = "finance team"'),
        "owner = 'finance team': expected the owning team's e-mail address",
        id="owner-not-an-address",
    ),
    pytest.param(
        change('name = "paid_at"', 'name = "payment_id"'),
        "columns = 'payment_id': expected unique column names; 'payment_id' appears twice",
        id="duplicate-column",
    ),
    pytest.param(
        change('name = "currency"', 'name = "ingest_date"'),
        "columns = 'ingest_date': expected no column named 'ingest_date'",
        id="reserved-lineage-column",
    ),
    pytest.param(
        GOOD.replace("[source]", "[source"),
        "payments.toml: not valid TOML",
        id="not-toml",
    ),
]


MART = """
[[marts]]
name = "payments_daily"
description = "Payments per day."
sql = "SELECT payment_date, count(*) AS payments FROM curated GROUP BY payment_date"
partition_by = ["payment_date"]
columns = [
  { name = "payment_date", type = "date", description = "Day." },
  { name = "payments", type = "bigint", description = "Payments." },
]
"""
BAD_DECLARATIONS += [
    pytest.param(
        GOOD + MART.replace('name = "payments", type', 'name = "payer_email", type'),
        "marts[0].columns: 'payer_email': expected no personal-data column",
        id="mart-with-personal-data",
    ),
    pytest.param(
        GOOD + MART.replace('partition_by = ["payment_date"]', 'partition_by = ["day"]'),
        "marts[0].partition_by = ['day']: expected columns of the mart of type date,",
        id="mart-partition-not-a-mart-column",
    ),
    pytest.param(
        GOOD + MART.replace('type = "bigint"', 'type = "number"'),
        "marts[0].columns[1].type = 'number': expected one of string",
        id="mart-column-type",
    ),
]


SUBJECT = 'subject = "payer_email"'
BAD_DECLARATIONS += [
    pytest.param(
        change(SUBJECT, 'subject = "payer"'),
        "subject = 'payer': expected a declared column; 'payer' is not one",
        id="subject-not-a-column",
    ),
    pytest.param(
        change(SUBJECT, 'subject = "card_holder"'),
        "subject = 'card_holder': expected a column kept in curated, in clear or hashed; "
        "'card_holder' is dropped as PII",
        id="subject-dropped",
    ),
    pytest.param(
        change(SUBJECT, 'subject = "payment_date"'),
        "subject = 'payment_date': expected a column of the source; 'payment_date' is derived",
        id="subject-derived",
    ),
    pytest.param(
        change(SUBJECT, "subject = 3"),
        "subject = 3: expected a name of lower-case letters",
        id="subject-not-a-name",
    ),
]


def test_a_subject_is_optional_and_names_a_hashed_or_clear_column(tmp_path: Path) -> None:
    assert _load(GOOD, tmp_path).subject == "payer_email"  # hashed in curated
    assert _load(change(SUBJECT, ""), tmp_path).subject is None
    assert _load(change(SUBJECT, 'subject = "payment_id"'), tmp_path).subject == "payment_id"
    shipped = {d.name: d.subject for d in load_datasets(DATASETS)}
    assert shipped == {"clickstream": "user_id", "orders": "customer_id"}


def test_the_documented_example_with_a_mart_is_valid(tmp_path: Path) -> None:
    (mart,) = _load(GOOD + MART, tmp_path).marts
    assert mart.name == "payments_daily"
    assert [c.name for c in mart.columns] == ["payment_date", "payments"]


@pytest.mark.parametrize(("text", "message"), BAD_DECLARATIONS)
def test_a_bad_declaration_fails_naming_file_field_and_expectation(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(DatasetError) as error:
        _load(text, tmp_path)
    assert str(error.value).startswith(f"{tmp_path.name}/payments.toml: ")
    assert message in str(error.value)


def test_two_declarations_with_one_name_fail(tmp_path: Path) -> None:
    (tmp_path / "payments.toml").write_text(GOOD)
    (tmp_path / "payments_copy.toml").write_text(GOOD)
    with pytest.raises(DatasetError, match=r"payments_copy\.toml: name = 'payments': expected a "
                       r"name no other declaration uses; .*/payments\.toml has it"):  # fmt: skip
        load_datasets(tmp_path)


def test_an_empty_folder_fails(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no dataset declarations"):
        load_datasets(tmp_path)


def test_cdk_synth_stops_on_a_bad_declaration_with_the_message(tmp_path: Path) -> None:
    (tmp_path / "payments.toml").write_text(change('type = "string"', 'type = "text"'))
    context = {**cdk_json_context(), "datasets": str(tmp_path)}
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": str(tmp_path / "out"),
    }
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"Dataset error: {tmp_path.name}/payments.toml: columns[0].type = 'text': expected"
    )
    assert "Traceback" not in result.stderr
