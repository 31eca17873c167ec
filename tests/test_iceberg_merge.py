"""Every way the curated zone could lose data, on local Spark with real Iceberg tables.

Each test runs the job's own flow (``flows.curate`` / ``flows.merge_curated`` /
``flows.write_marts``) on a table created as a deploy creates it, and reads back what the
table holds: rows and values, snapshot ids, the data files the table references.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")

from pyspark.sql import DataFrame, SparkSession

from glue_jobs import flows, iceberg, transforms
from local_lake import quality
from local_lake.tables import deploy_table, table_input
from model.datasets import Dataset
from model.declarations import load_dataset
from model.iceberg import curated_table, mart_table
from tests.conftest import DATASETS
from tests.iceberg_lake import (
    ORDERS_TOML,
    SALT,
    by_day_of_ordered_at,
    curate,
    data_files,
    metadata,
    new_table,
    order,
    orders_variant,
    raw_rows,
    rows_by_key,
    snapshots,
    table_folder,
    unpartitioned,
    without_marts,
)

ORDERS = load_dataset(DATASETS / "orders.toml")


def curated_rows(spark: SparkSession, spec: dict[str, Any], rows: list[dict[str, Any]],
                 day: str) -> DataFrame:  # fmt: skip
    """The run's curated rows, as ``flows.curate`` hands them to ``merge_curated``."""
    raw = raw_rows(spark, spec, rows, day)
    df = raw.withColumn(transforms.INGEST_DATE, flows.ingest_dates(raw, flows.SOURCE_FILE))
    curated, _ = transforms.raw_to_curated(df.drop(flows.SOURCE_FILE), spec, salt=SALT)
    return curated


def test_an_unpartitioned_table_keeps_every_earlier_row_over_three_runs(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    dataset = unpartitioned(tmp_path / "declarations")
    spec = dataset.processing_spec()
    assert spec["partition_by"] == []
    table = new_table(spark, lake, dataset)
    curate(spark, spec, table, tmp_path, [order(order_id="O-1"), order(order_id="O-2")],
           day="2026-11-01")  # fmt: skip
    curate(spark, spec, table, tmp_path, [order(order_id="O-3")], day="2026-11-02")
    third = curate(spark, spec, table, tmp_path, [order(order_id="O-1", status="shipped")],
                   day="2026-11-03")  # fmt: skip
    rows = rows_by_key(spark, table)
    assert sorted(rows) == ["O-1", "O-2", "O-3"]
    assert {k: r["status"] for k, r in rows.items()} == {
        "O-1": "shipped", "O-2": "placed", "O-3": "placed"}  # fmt: skip
    assert (third.figures["rows_inserted"], third.figures["rows_updated"]) == (0, 1)
    assert len(snapshots(spark, table)) == 3


def test_a_key_whose_partition_value_changes_leaves_one_row_in_the_new_partition(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    spec = ORDERS.processing_spec()
    table = new_table(spark, lake, ORDERS)
    curate(spark, spec, table, tmp_path,
           [order(order_id="O-1", ordered_at="2026-11-01T09:00:00Z"), order(order_id="O-2")],
           day="2026-11-01")  # fmt: skip
    moved = curate(spark, spec, table, tmp_path,
                   [order(order_id="O-1", ordered_at="2026-11-04T09:00:00Z")],
                   day="2026-11-05")  # fmt: skip
    assert moved.figures["rows_updated"] == 1
    placed = spark.table(table).select("order_id", "_partition.order_date").collect()
    assert sorted((r[0], str(r[1])) for r in placed) == [
        ("O-1", "2026-11-04"), ("O-2", "2026-11-01")]  # fmt: skip
    days = metadata(spark, table, "files", "partition.order_date", "WHERE content = 0")
    assert "2026-11-04" in {str(d) for d in days}


def test_rerunning_the_same_raw_rows_changes_nothing(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    spec = ORDERS.processing_spec()
    table = new_table(spark, lake, ORDERS)
    rows = [order(order_id="O-1"), order(order_id="O-2", ordered_at="2026-11-02T10:00:00Z")]
    first = curate(spark, spec, table, tmp_path, rows, day="2026-11-01")
    before = sorted(map(tuple, spark.table(table).collect()))
    rerun = curate(spark, spec, table, tmp_path, rows, day="2026-11-01")
    assert (rerun.figures["rows_inserted"], rerun.figures["rows_updated"],
            rerun.figures["rows_unchanged"]) == (0, 0, 2)  # fmt: skip
    assert rerun.figures["snapshot_id"] == first.figures["snapshot_id"]
    assert snapshots(spark, table) == [first.figures["snapshot_id"]]
    assert sorted(map(tuple, spark.table(table).collect())) == before


def test_the_same_values_sent_again_on_a_later_day_change_nothing(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    # An export that repeats yesterday's rows (a full extract, a resend): no update, no
    # delete file, no snapshot; the row keeps the day it first arrived. A changed value on
    # the same later day is an update.
    spec = ORDERS.processing_spec()
    table = new_table(spark, lake, ORDERS)
    rows = [order(order_id="O-1"), order(order_id="O-2")]
    first = curate(spark, spec, table, tmp_path, rows, day="2026-11-01")
    again = curate(spark, spec, table, tmp_path, rows, day="2026-11-02")
    assert (again.figures["rows_inserted"], again.figures["rows_updated"],
            again.figures["rows_unchanged"]) == (0, 0, 2)  # fmt: skip
    assert snapshots(spark, table) == [first.figures["snapshot_id"]]
    assert {str(r["ingest_date"]) for r in rows_by_key(spark, table).values()} == {"2026-11-01"}
    changed = curate(spark, spec, table, tmp_path,
                     [order(order_id="O-1", status="paid"), order(order_id="O-2")],
                     day="2026-11-03")  # fmt: skip
    assert (changed.figures["rows_updated"], changed.figures["rows_unchanged"]) == (1, 1)
    after = rows_by_key(spark, table)
    assert (after["O-1"]["status"], str(after["O-1"]["ingest_date"])) == ("paid", "2026-11-03")
    assert str(after["O-2"]["ingest_date"]) == "2026-11-01"


def test_an_older_record_arriving_later_never_overwrites_a_newer_one(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    spec = ORDERS.processing_spec()
    table = new_table(spark, lake, ORDERS)
    curate(spark, spec, table, tmp_path, [
        order(order_id="O-1", status="shipped"),
        order(order_id="O-2", status="paid", ordered_at="2026-11-01T12:00:00Z"),
    ], day="2026-11-03")  # fmt: skip
    snapshot = iceberg.current_snapshot(spark, table)
    # An earlier ingest date loses, whatever its event time; the same ingest date with an
    # earlier event time loses too.
    late = curate(spark, spec, table, tmp_path, [
        order(order_id="O-1", status="placed", ordered_at="2026-11-01T10:00:00Z"),
    ], day="2026-11-01")  # fmt: skip
    same_day = curate(spark, spec, table, tmp_path, [
        order(order_id="O-2", status="placed", ordered_at="2026-11-01T08:00:00Z"),
    ], day="2026-11-03")  # fmt: skip
    assert late.figures["rows_unchanged"] == same_day.figures["rows_unchanged"] == 1
    assert iceberg.current_snapshot(spark, table) == snapshot
    assert {k: r["status"] for k, r in rows_by_key(spark, table).items()} == {
        "O-1": "shipped", "O-2": "paid"}  # fmt: skip
    # The same ingest date with a later event time wins.
    curate(spark, spec, table, tmp_path, [
        order(order_id="O-2", status="cancelled", ordered_at="2026-11-01T13:00:00Z"),
    ], day="2026-11-03")  # fmt: skip
    assert rows_by_key(spark, table)["O-2"]["status"] == "cancelled"


def test_a_quality_failure_commits_nothing_and_holds_the_rows_in_dq_failed(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    spec = ORDERS.processing_spec()
    table = new_table(spark, lake, ORDERS)
    curate(spark, spec, table, tmp_path, [order(order_id="O-1")], day="2026-11-01")
    snapshot = iceberg.current_snapshot(spark, table)
    ruleset = 'Rules = [ ColumnValues "quantity" < 5 ]'

    def check(rows: DataFrame) -> list[str]:
        return quality.failed(quality.evaluate(rows, ruleset))

    run = curate(spark, spec, table, tmp_path,
                 [order(order_id="O-1", quantity="9"), order(order_id="O-2", quantity="7")],
                 day="2026-11-02", run_id="bad", check_quality=check)  # fmt: skip
    assert run.failed_rules == ['ColumnValues "quantity" < 5']
    assert snapshots(spark, table) == [snapshot]
    assert {k: r["quantity"] for k, r in rows_by_key(spark, table).items()} == {"O-1": 2}
    held = spark.read.json(str(tmp_path / "quarantine" / "dq_failed" / "run=bad")).collect()
    assert sorted((r["order_id"], r["quantity"]) for r in held) == [("O-1", 9), ("O-2", 7)]


def _parquet_files(folder: Path) -> set[str]:
    return {os.path.join(root, name) for root, _, names in os.walk(folder)
            for name in names if name.endswith(".parquet")}  # fmt: skip


def test_a_write_that_fails_after_writing_data_files_leaves_the_previous_snapshot(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    """The MERGE's write stage fails mid-way: one partition's folder cannot be created (a
    file stands where it should be), so that partition's writer fails while the other
    partition's files are written. Nothing is committed: the table reads exactly as before
    and references none of the files the failed run wrote."""
    spec = ORDERS.processing_spec()
    table = new_table(spark, lake, ORDERS)
    curate(spark, spec, table, tmp_path,
           [order(order_id=f"O-{i}", ordered_at="2026-11-01T09:00:00Z") for i in range(3)],
           day="2026-11-01")  # fmt: skip
    snapshot = iceberg.current_snapshot(spark, table)
    before = sorted(map(tuple, spark.table(table).collect()))
    files_before = data_files(spark, table)
    data = table_folder(spark, table) / "data"
    (data / "order_date=2026-11-09").write_text("not a folder")
    seen: set[str] = set()
    done = threading.Event()

    def watch() -> None:  # every data file that exists at any moment of the run
        while not done.is_set():
            seen.update(_parquet_files(data))
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    run = [order(order_id=f"O-{i}", status="shipped", ordered_at="2026-11-01T09:00:00Z")
           for i in range(3)]  # fmt: skip
    run += [order(order_id="O-9", ordered_at="2026-11-09T09:00:00Z")]
    try:
        with pytest.raises(Exception, match="order_date=2026-11-09"):
            flows.merge_curated(curated_rows(spark, spec, run, "2026-11-02"), spec, table)
    finally:
        done.set()
        watcher.join()
    assert iceberg.current_snapshot(spark, table) == snapshot
    assert sorted(map(tuple, spark.table(table).collect())) == before
    assert data_files(spark, table) == files_before
    written = seen - files_before
    assert written, "the failed run wrote no data file: the failure came too early"
    assert not written & data_files(spark, table)
    # What is left of them on disk is an orphan: no snapshot refers to it.
    referenced = set(metadata(spark, table, "all_data_files", "file_path"))
    assert not (_parquet_files(data) - files_before) & referenced


def test_two_concurrent_writers_lose_nothing_and_double_nothing(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    spec = ORDERS.processing_spec()
    table = new_table(spark, lake, ORDERS)
    curate(spark, spec, table, tmp_path, [order(order_id="O-0")], day="2026-11-01")
    runs = {
        "a": curated_rows(spark, spec, [order(order_id=k, status="paid")
                                        for k in ("O-0", "O-1", "O-2")], "2026-11-02"),
        "b": curated_rows(spark, spec, [order(order_id=k, status="shipped")
                                        for k in ("O-2", "O-3", "O-4")], "2026-11-03"),
    }  # fmt: skip
    outcome: dict[str, Any] = {}
    start = threading.Barrier(2)

    def write(name: str) -> None:
        start.wait()
        try:
            outcome[name] = flows.merge_curated(runs[name], spec, table)
        except Exception as error:  # a conflicting commit fails the run
            outcome[name] = error

    threads = [threading.Thread(target=write, args=(name,)) for name in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = [name for name, result in outcome.items() if isinstance(result, Exception)]
    assert len(failed) < 2, outcome
    rows = rows_by_key(spark, table)  # raises if a key is there twice
    for name, result in outcome.items():
        if name not in failed:
            assert result["snapshot_id"] in snapshots(spark, table)
    for name in failed:  # the pipeline reruns a failed run: it converges
        flows.merge_curated(runs[name], spec, table)
    rows = rows_by_key(spark, table)
    assert sorted(rows) == ["O-0", "O-1", "O-2", "O-3", "O-4"], outcome
    expected = {
        "O-0": "paid",
        "O-1": "paid",
        "O-2": "shipped",
        "O-3": "shipped",
        "O-4": "shipped",
    }  # fmt: skip  (O-2: b's ingest date is later)
    assert {k: r["status"] for k, r in rows.items()} == expected


def test_a_column_added_to_the_declaration_is_added_without_rewriting_data(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    text = without_marts(ORDERS_TOML)
    dataset = orders_variant(tmp_path / "v1", text)
    table = new_table(spark, lake, dataset)
    curate(spark, dataset.processing_spec(), table, tmp_path, [order(order_id="O-1")],
           day="2026-11-01")  # fmt: skip
    files = sorted(metadata(spark, table, "files", "file_path"))
    snapshot = iceberg.current_snapshot(spark, table)
    evolved = orders_variant(tmp_path / "v2", text + '[[columns]]\nname = "channel"\n'
                             'type = "string"\ndescription = "Sales channel."\n')  # fmt: skip
    added = deploy_table(spark, table, table_input(curated_table(evolved), "unused"))
    assert added == ["channel"]
    assert sorted(metadata(spark, table, "files", "file_path")) == files  # no file rewritten
    assert iceberg.current_snapshot(spark, table) == snapshot
    assert rows_by_key(spark, table)["O-1"]["channel"] is None
    curate(spark, evolved.processing_spec(), table, tmp_path,
           [order(order_id="O-2", channel="web")], day="2026-11-02")  # fmt: skip
    rows = rows_by_key(spark, table)
    assert {k: r["channel"] for k, r in rows.items()} == {"O-1": None, "O-2": "web"}
    assert set(files) <= set(metadata(spark, table, "files", "file_path"))


def test_a_timestamp_partition_is_the_day_of_it(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    dataset = by_day_of_ordered_at(tmp_path / "declarations")
    spec = dataset.processing_spec()
    assert "order_date" not in [c["name"] for c in spec["columns"]]
    table = new_table(spark, lake, dataset)
    curate(spark, spec, table, tmp_path, [
        order(order_id="O-1", ordered_at="2026-11-01T09:00:00Z"),
        order(order_id="O-2", ordered_at="2026-11-01T23:59:00Z"),
        order(order_id="O-3", ordered_at="2026-11-02T00:01:00Z"),
    ], day="2026-11-02")  # fmt: skip
    days = metadata(spark, table, "partitions", "partition.ordered_at_day")
    assert sorted(str(d) for d in days) == ["2026-11-01", "2026-11-02"]
    moved = curate(spark, spec, table, tmp_path,
                   [order(order_id="O-1", ordered_at="2026-11-03T09:00:00Z", status="paid")],
                   day="2026-11-04")  # fmt: skip
    assert moved.figures["rows_updated"] == 1
    rows = rows_by_key(spark, table)
    assert sorted(rows) == ["O-1", "O-2", "O-3"]
    assert rows["O-1"]["status"] == "paid"
    placed = spark.table(table).select("order_id", "_partition.ordered_at_day").collect()
    assert {r[0]: str(r[1]) for r in placed}["O-1"] == "2026-11-03"


def mart_tables(spark: SparkSession, lake: str, dataset: Dataset, database: str) -> None:
    for mart in dataset.marts:
        deploy_table(spark, f"{lake}.{database}.{mart.name}",
                     table_input(mart_table(dataset, mart), "unused"))  # fmt: skip


def test_each_mart_rebuild_is_one_snapshot_and_the_previous_stays_readable(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    spec = ORDERS.processing_spec()
    table = new_table(spark, lake, ORDERS)
    database = table.split(".")[1] + "_analytics"
    mart_tables(spark, lake, ORDERS, database)
    (mart,) = ORDERS.marts
    mart_name = f"{lake}.{database}.{mart.name}"
    curate(spark, spec, table, tmp_path, [
        order(order_id="O-1", segment="consumer"), order(order_id="O-2", segment="business"),
    ], day="2026-11-01")  # fmt: skip
    marts_spec = [m.spec() for m in ORDERS.marts]

    def build() -> dict[str, int]:
        return flows.write_marts(spark, marts_spec, curated_table=table,
                                 analytics_database=f"{lake}.{database}")  # fmt: skip

    assert build() == {mart.name: 2}
    first = sorted(map(tuple, spark.table(mart_name).collect()))
    assert build() == {mart.name: 2}
    assert sorted(map(tuple, spark.table(mart_name).collect())) == first
    assert len(snapshots(spark, mart_name)) == 2  # one per rebuild
    curate(spark, spec, table, tmp_path, [order(order_id="O-3", segment="consumer")],
           day="2026-11-02")  # fmt: skip
    build()
    _, two, _ = snapshots(spark, mart_name)
    now = {r["segment"]: r["orders"] for r in spark.table(mart_name).collect()}
    assert now == {"consumer": 2, "business": 1}
    earlier = spark.sql(f"SELECT * FROM {mart_name} VERSION AS OF {two}").collect()  # noqa: S608
    assert sorted(map(tuple, earlier)) == first


def test_a_text_partition_is_its_value_and_a_key_moving_value_leaves_one_row(
    spark: SparkSession, lake: str, tmp_path: Path
) -> None:
    text = without_marts(ORDERS_TOML).replace(
        'partition_by = ["order_date"]', 'partition_by = ["shipping_country"]'
    )
    dataset = orders_variant(tmp_path / "declarations", text[: text.index(
        '[[columns]]\nname = "order_date"')])  # fmt: skip
    (field,) = curated_table(dataset).partition_fields
    assert (field.name, field.transform) == ("shipping_country", "identity")
    spec = dataset.processing_spec()
    table = new_table(spark, lake, dataset)
    curate(spark, spec, table, tmp_path, [order(order_id="O-1", shipping_country="FR"),
           order(order_id="O-2", shipping_country="DE")], day="2026-11-01")  # fmt: skip
    curate(spark, spec, table, tmp_path, [order(order_id="O-1", shipping_country="BE")],
           day="2026-11-02")  # fmt: skip
    placed = spark.table(table).select("order_id", "_partition.shipping_country").collect()
    assert sorted((r[0], r[1]) for r in placed) == [("O-1", "BE"), ("O-2", "DE")]
