"""The curation flow both runners call (``glue_jobs.flows.curate``), on local Spark and Iceberg.

The Glue job and the local run hand it the raw rows they read and differ in nothing after
that, so these tests are the ones that catch the two drifting apart. Each checks what a run
left behind by reading it back: rows and snapshots of the curated Iceberg table (created as
a deploy creates it), rows in quarantine and in ``dq_failed/``.
"""

from __future__ import annotations

import hashlib
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from model.declarations import load_dataset
from tests.conftest import DATASETS

pytest.importorskip("pyspark")

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql.functions import lit

from glue_jobs import flows, iceberg, raw_to_curated
from local_lake import quality
from local_lake.tables import deploy_table, table_input
from model.iceberg import curated_table
from tests.iceberg_lake import (
    SALT,
    curate,
    data_files,
    metadata,
    new_table,
    order,
    raw_rows,
    rows_by_key,
)

DATASET = load_dataset(DATASETS / "orders.toml")
ORDERS = DATASET.processing_spec()


@pytest.fixture
def table(spark: SparkSession, lake: str) -> str:
    """A new, empty curated orders table."""
    return new_table(spark, lake, DATASET)


def json_rows(spark: SparkSession, folder: Path) -> list[Row]:
    return spark.read.json(str(folder)).collect()


def files_of_partition(spark: SparkSession, table: str, day: str) -> set[str]:
    where = f"WHERE partition.order_date = DATE'{day}'"
    return set(metadata(spark, table, "files", "file_path", where))


def test_a_second_run_merges_with_what_the_first_wrote(
    spark: SparkSession, table: str, tmp_path: Path
) -> None:
    first = curate(spark, ORDERS, table, tmp_path, [
        order(order_id="O-1", status="placed"),
        order(order_id="O-2"),
        order(order_id="O-3", ordered_at="2026-11-05T10:00:00Z"),
    ], day="2026-11-01", run_id="first")  # fmt: skip
    assert first.figures["rows_written"] == 3
    assert (first.figures["rows_inserted"], first.figures["rows_updated"]) == (3, 0)
    assert len(rows_by_key(spark, table)) == 3
    untouched = files_of_partition(spark, table, "2026-11-05")
    assert untouched

    second = curate(spark, ORDERS, table, tmp_path, [
        order(order_id="O-1", status="shipped"),  # an update of the first run's O-1
        order(order_id="O-4", ordered_at="2026-11-02T08:00:00Z"),
        order(order_id="O-5", quantity="two"),
    ], day="2026-11-03", run_id="second")  # fmt: skip
    rows = rows_by_key(spark, table)
    assert sorted(rows) == ["O-1", "O-2", "O-3", "O-4"]  # 3 + 1 new; the update replaced O-1
    assert rows["O-1"]["status"] == "shipped"
    assert str(rows["O-1"]["ingest_date"]) == "2026-11-03"
    assert str(rows["O-2"]["ingest_date"]) == "2026-11-01"  # same partition, kept
    # Personal data is stored hashed with the salt, as the first run stored it.
    expected = hashlib.sha256(f"{SALT}C-1".encode()).hexdigest()
    assert {r["customer_id"] for r in rows.values()} == {expected}
    # A partition the second run's rows do not touch is not rewritten: the same files.
    assert files_of_partition(spark, table, "2026-11-05") == untouched
    (bad,) = json_rows(spark, tmp_path / "quarantine" / "run=second")
    assert bad["reason"] == "uncastable:quantity"
    assert json.loads(bad["raw"])["order_id"] == "O-5"
    assert second.figures["rows_in"] == 3
    assert (second.figures["rows_written"], second.figures["rows_quarantined"]) == (2, 1)
    assert (second.figures["rows_inserted"], second.figures["rows_updated"],
            second.figures["rows_unchanged"]) == (1, 1, 0)  # fmt: skip
    assert second.figures["snapshot_id"] == iceberg.current_snapshot(spark, table)
    assert second.figures["snapshot_id"] != first.figures["snapshot_id"]


def test_a_failed_rule_sends_the_runs_rows_to_dq_failed_and_nothing_to_curated(
    spark: SparkSession, table: str, tmp_path: Path
) -> None:
    ruleset = 'Rules = [ ColumnValues "quantity" > 5, IsUnique "order_id" ]'
    run = curate(
        spark,
        ORDERS,
        table,
        tmp_path,
        [order(order_id="O-1"), order(order_id="O-2"), order(order_id="O-3", quantity="two")],
        day="2026-11-01",
        run_id="r1",
        check_quality=lambda rows: quality.failed(quality.evaluate(rows, ruleset)),
    )
    assert run.failed_rules == ['ColumnValues "quantity" > 5']
    held = json_rows(spark, tmp_path / "quarantine" / "dq_failed" / "run=r1")
    assert sorted(r["order_id"] for r in held) == ["O-1", "O-2"]
    assert iceberg.current_snapshot(spark, table) is None  # nothing committed
    assert spark.table(table).count() == 0
    assert "rows_inserted" not in run.figures
    # The row that failed its checks is quarantined as on any run.
    (bad,) = json_rows(spark, tmp_path / "quarantine" / "run=r1")
    assert bad["reason"] == "uncastable:quantity"


def test_rows_without_an_ingest_date_folder_stop_the_run_before_anything_is_written(
    spark: SparkSession, table: str, tmp_path: Path
) -> None:
    raw = raw_rows(spark, ORDERS, [order()], "2026-11-01")
    raw = raw.withColumn(flows.SOURCE_FILE, lit("s3://raw/orders/export.csv"))
    with pytest.raises(RuntimeError, match="without an ingest_date folder"):
        flows.curate(raw, ORDERS, salt=SALT, table=table,
                     quarantine_path=f"{tmp_path}/", run_id="r",
                     check_quality=lambda _: [])  # fmt: skip
    assert list(tmp_path.iterdir()) == []
    assert iceberg.current_snapshot(spark, table) is None


class _Stubs:
    """``awsglue`` and ``awsgluedq``, which exist only in Glue, as far as ``main`` uses them."""

    def __init__(self, spark: SparkSession, raw: DataFrame, args: dict[str, str]) -> None:
        self.read: dict[str, Any] = {}
        self.committed = False
        stubs = self

        class Frame:
            def resolveChoice(self, choice: str) -> Frame:
                assert choice == "cast:string"
                return self

            def toDF(self) -> DataFrame:
                return raw

        class GlueContext:
            spark_session = spark

            def __init__(self, _context: Any) -> None:
                reader = types.SimpleNamespace(from_options=self.from_options)
                self.create_dynamic_frame = reader

            def from_options(self, **options: Any) -> Frame:
                stubs.read = options
                return Frame()

        class Job:
            def __init__(self, _glue: Any) -> None:
                pass

            def init(self, _name: str, _args: Any) -> None:
                pass

            def commit(self) -> None:
                stubs.committed = True

        class EvaluateDataQuality:
            @staticmethod
            def apply(frame: DataFrame, ruleset: str, publishing_options: Any) -> Any:
                failed = quality.failed(quality.evaluate(frame, ruleset))
                results = spark.createDataFrame(
                    [(rule, "Failed") for rule in failed] or [("none", "Passed")],
                    "Rule string, Outcome string",
                )
                return types.SimpleNamespace(toDF=lambda: results)

        self.modules = {
            "awsglue": types.ModuleType("awsglue"),
            "awsglue.context": types.SimpleNamespace(GlueContext=GlueContext),
            "awsglue.job": types.SimpleNamespace(Job=Job),
            "awsglue.utils": types.SimpleNamespace(getResolvedOptions=lambda _argv, _names: args),
            "awsglue.dynamicframe": types.SimpleNamespace(
                DynamicFrame=types.SimpleNamespace(fromDF=lambda df, _glue, _name: df)
            ),
            "awsgluedq": types.ModuleType("awsgluedq"),
            "awsgluedq.transforms": types.SimpleNamespace(EvaluateDataQuality=EvaluateDataQuality),
        }


def glue_catalog_table(spark: SparkSession, folder: Path, database: str) -> str:
    """``glue_catalog.<database>.orders``: the job's catalog name, here a local Iceberg
    catalog on ``folder`` (in Glue, the Data Catalog), the table created as a deploy does."""
    for key, value in iceberg.folder_catalog_settings(iceberg.GLUE_CATALOG, str(folder)).items():
        if key != "spark.sql.extensions":
            spark.conf.set(key, value)
    table = f"{iceberg.GLUE_CATALOG}.{database}.orders"
    deploy_table(spark, table, table_input(curated_table(DATASET), "unused"))
    return table


def bookmarked_read(spark: SparkSession, folder: Path, rows: list[dict[str, str | None]]) -> Any:
    """What the bookmarked read gives: the rows of one new raw file, each naming the file
    (``attachFilename``), here a real CSV file the job then reads again with the reader."""
    file = folder / "orders" / "ingest_date=2026-11-01" / "export.csv"
    file.parent.mkdir(parents=True)
    header = list(ORDERS["source"]["columns"])
    lines = [",".join(header)] + [",".join(r.get(c) or "" for c in header) for r in rows]
    file.write_text("\n".join(lines) + "\n")
    return raw_rows(spark, ORDERS, rows, "2026-11-01").withColumn(flows.SOURCE_FILE, lit(str(file)))


def run_job(
    spark: SparkSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    database: str,
    rows: list[dict[str, str | None]],
    ruleset: str,
) -> tuple[_Stubs, str, RuntimeError | None]:
    """``raw_to_curated.main`` with Glue's modules stubbed, on ``rows``; returns the stubs,
    the table it was to write, and the error the run failed with (None if it did not)."""
    import boto3
    from moto import mock_aws

    table = glue_catalog_table(spark, tmp_path / "warehouse", database)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        secret = boto3.client("secretsmanager").create_secret(Name="salt", SecretString=SALT)
        args = {
            "JOB_NAME": "datalake-sandbox-orders-curate",
            "JOB_RUN_ID": "jr_1",
            "dataset_spec": json.dumps(ORDERS),
            "raw_path": "s3://raw/orders/",
            "curated_table": f"{database}.orders",
            "warehouse": str(tmp_path / "warehouse"),
            "quarantine_path": f"{tmp_path / 'quarantine'}/",
            "salt_secret_arn": secret["ARN"],
            "dq_ruleset": ruleset,
        }
        stubs = _Stubs(spark, bookmarked_read(spark, tmp_path / "raw", rows), args)
        for name, module in stubs.modules.items():
            monkeypatch.setitem(sys.modules, name, module)
        error = None
        try:
            raw_to_curated.main()
        except RuntimeError as failure:
            error = failure
    assert stubs.read == raw_to_curated.read_options(ORDERS, "s3://raw/orders/")
    return stubs, table, error


def test_the_glue_job_runs_the_flow_and_fails_marked_when_a_rule_fails(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows go to ``dq_failed/`` under the job run's id, the curated table gets no
    snapshot, the bookmark is committed, and the run fails with the mark the pipeline
    looks for."""
    stubs, table, failure = run_job(spark, tmp_path, monkeypatch, database="job_dq",
                                    rows=[order(order_id="O-1"), order(order_id="O-2")],
                                    ruleset='Rules = [ ColumnValues "quantity" > 5 ]')  # fmt: skip
    assert str(failure) == (
        f'{raw_to_curated.DATA_QUALITY_FAILED} for orders: ColumnValues "quantity" > 5'
    )
    assert stubs.committed
    held = json_rows(spark, tmp_path / "quarantine" / "dq_failed" / "run=jr_1")
    assert sorted(r["order_id"] for r in held) == ["O-1", "O-2"]
    assert iceberg.current_snapshot(spark, table) is None
    assert spark.table(table).count() == 0


def test_the_glue_job_merges_into_the_table_its_arguments_name(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stubs, table, failure = run_job(spark, tmp_path, monkeypatch, database="job_ok",
                                    rows=[order(order_id="O-1"), order(order_id="O-2")],
                                    ruleset='Rules = [ ColumnValues "quantity" > 0 ]')  # fmt: skip
    assert failure is None
    assert stubs.committed
    assert sorted(rows_by_key(spark, table)) == ["O-1", "O-2"]
    assert len(data_files(spark, table)) >= 1
