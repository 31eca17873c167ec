"""The curation flow both runners call (``glue_jobs.flows.curate``), on local Spark.

The Glue job and the local run hand it the raw rows they read and differ in nothing after
that, so these tests are the ones that catch the two drifting apart. Each checks what a run
left behind by reading the files it wrote: rows in curated, in quarantine, in ``dq_failed/``.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from model.declarations import load_dataset
from tests.conftest import DATASETS

pytest.importorskip("pyspark")

from pyspark.sql import DataFrame, Row, SparkSession

from glue_jobs import flows, raw_to_curated
from local_lake import quality
from local_lake.spark import spark_session

SALT = "test-salt"
ORDERS = load_dataset(DATASETS / "orders.toml").processing_spec()
HEADER = [c["name"] for c in ORDERS["columns"] if not c.get("derived_from")]


@pytest.fixture(scope="module")
def spark() -> SparkSession:
    return spark_session()


def order(**values: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "order_id": "O-1", "ordered_at": "2026-11-01T09:00:00Z", "customer_id": "C-1",
        "customer_email": "ann@example.com", "customer_name": "Ann Example",
        "shipping_country": "DE", "segment": "consumer", "quantity": "2", "amount": "12.50",
        "status": "placed",
    }  # fmt: skip
    row.update(values)
    return row


def raw_rows(spark: SparkSession, rows: list[dict[str, str | None]], day: str) -> DataFrame:
    """Rows as a runner's read gives them: every value as text, and the file each came from."""
    source = f"s3://raw/orders/ingest_date={day}/export-{day}.csv"
    columns = [*HEADER, flows.SOURCE_FILE]
    return spark.createDataFrame([[*(r.get(c) for c in HEADER), source] for r in rows],
                                 schema=", ".join(f"`{c}` string" for c in columns))  # fmt: skip


def curate(
    spark: SparkSession,
    folder: Path,
    rows: list[dict[str, str | None]],
    *,
    day: str,
    run_id: str,
    check_quality: Callable[[DataFrame], list[str]] = lambda _: [],
) -> flows.CurationRun:
    return flows.curate(
        raw_rows(spark, rows, day),
        ORDERS,
        salt=SALT,
        curated_path=str(folder / "curated"),
        quarantine_path=f"{folder / 'quarantine'}/",
        run_id=run_id,
        check_quality=check_quality,
    )


def curated(spark: SparkSession, folder: Path) -> dict[str, Row]:
    """What curated holds, read from its Parquet files, by order id."""
    return {row["order_id"]: row for row in spark.read.parquet(str(folder / "curated")).collect()}


def json_rows(spark: SparkSession, folder: Path) -> list[Row]:
    return spark.read.json(str(folder)).collect()


def test_a_second_run_merges_with_what_the_first_wrote(spark: SparkSession, tmp_path: Path) -> None:
    first = curate(spark, tmp_path, [
        order(order_id="O-1", status="placed"),
        order(order_id="O-2"),
        order(order_id="O-3", ordered_at="2026-11-05T10:00:00Z"),
    ], day="2026-11-01", run_id="first")  # fmt: skip
    assert first.figures["rows_written"] == 3
    assert len(curated(spark, tmp_path)) == 3
    untouched = tmp_path / "curated" / "order_date=2026-11-05"
    files_before = sorted(p.name for p in untouched.glob("*.parquet"))

    second = curate(spark, tmp_path, [
        order(order_id="O-1", status="shipped"),  # an update of the first run's O-1
        order(order_id="O-4", ordered_at="2026-11-02T08:00:00Z"),
        order(order_id="O-5", quantity="two"),
    ], day="2026-11-03", run_id="second")  # fmt: skip
    rows = curated(spark, tmp_path)
    assert sorted(rows) == ["O-1", "O-2", "O-3", "O-4"]  # 3 + 1 new; the update replaced O-1
    assert rows["O-1"]["status"] == "shipped"
    assert str(rows["O-1"]["ingest_date"]) == "2026-11-03"
    assert str(rows["O-2"]["ingest_date"]) == "2026-11-01"  # same partition, kept
    # A partition the second run's rows do not touch is neither read nor rewritten.
    assert sorted(p.name for p in untouched.glob("*.parquet")) == files_before
    (bad,) = json_rows(spark, tmp_path / "quarantine" / "run=second")
    assert bad["reason"] == "uncastable:quantity"
    assert json.loads(bad["raw"])["order_id"] == "O-5"
    assert second.figures["rows_in"] == 3
    assert (second.figures["rows_written"], second.figures["rows_quarantined"]) == (2, 1)


def test_a_failed_rule_sends_the_runs_rows_to_dq_failed_and_nothing_to_curated(
    spark: SparkSession, tmp_path: Path
) -> None:
    ruleset = 'Rules = [ ColumnValues "quantity" > 5, IsUnique "order_id" ]'
    run = curate(
        spark,
        tmp_path,
        [order(order_id="O-1"), order(order_id="O-2"), order(order_id="O-3", quantity="two")],
        day="2026-11-01",
        run_id="r1",
        check_quality=lambda rows: quality.failed(quality.evaluate(rows, ruleset)),
    )
    assert run.failed_rules == ['ColumnValues "quantity" > 5']
    held = json_rows(spark, tmp_path / "quarantine" / "dq_failed" / "run=r1")
    assert sorted(r["order_id"] for r in held) == ["O-1", "O-2"]
    assert not (tmp_path / "curated").exists()
    # The row that failed its checks is quarantined as on any run.
    (bad,) = json_rows(spark, tmp_path / "quarantine" / "run=r1")
    assert bad["reason"] == "uncastable:quantity"


def test_rows_without_an_ingest_date_folder_stop_the_run_before_anything_is_written(
    spark: SparkSession, tmp_path: Path
) -> None:
    from pyspark.sql.functions import lit

    raw = raw_rows(spark, [order()], "2026-11-01")
    raw = raw.withColumn(flows.SOURCE_FILE, lit("s3://raw/orders/export.csv"))
    with pytest.raises(RuntimeError, match="without an ingest_date folder"):
        flows.curate(raw, ORDERS, salt=SALT, curated_path=str(tmp_path / "curated"),
                     quarantine_path=f"{tmp_path}/", run_id="r",
                     check_quality=lambda _: [])  # fmt: skip
    assert list(tmp_path.iterdir()) == []


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


def test_the_glue_job_runs_the_flow_and_fails_marked_when_a_rule_fails(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``raw_to_curated.main`` with Glue's modules stubbed: the rows go to ``dq_failed/`` under
    the job run's id, curated stays empty, the bookmark is committed, and the run fails with
    the mark the pipeline looks for."""
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        secret = boto3.client("secretsmanager").create_secret(Name="salt", SecretString=SALT)
        args = {
            "JOB_NAME": "datalake-sandbox-orders-curate",
            "JOB_RUN_ID": "jr_1",
            "dataset_spec": json.dumps(ORDERS),
            "raw_path": "s3://raw/orders/",
            "curated_path": str(tmp_path / "curated"),
            "quarantine_path": f"{tmp_path / 'quarantine'}/",
            "salt_secret_arn": secret["ARN"],
            "dq_ruleset": 'Rules = [ ColumnValues "quantity" > 5 ]',
        }
        stubs = _Stubs(spark, raw_rows(spark, [order(order_id="O-1"), order(order_id="O-2")],
                                       "2026-11-01"), args)  # fmt: skip
        for name, module in stubs.modules.items():
            monkeypatch.setitem(sys.modules, name, module)
        with pytest.raises(RuntimeError) as failure:
            raw_to_curated.main()
    assert str(failure.value) == (
        f'{raw_to_curated.DATA_QUALITY_FAILED} for orders: ColumnValues "quantity" > 5'
    )
    assert stubs.read == raw_to_curated.read_options(ORDERS, "s3://raw/orders/")
    assert stubs.committed
    held = json_rows(spark, tmp_path / "quarantine" / "dq_failed" / "run=jr_1")
    assert sorted(r["order_id"] for r in held) == ["O-1", "O-2"]
    assert not (tmp_path / "curated").exists()
