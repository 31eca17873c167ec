"""Curated tables in a local Iceberg catalog, as the tests of the flows make and read them.

A table is created the way a deploy creates it: the model's definition rendered as the
template's ``IcebergTableInput`` (``local_lake.tables.table_input``) and handed to
``deploy_table``. Each test gets its own database, so tests sharing one session and one
catalog never see each other's tables.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, Row, SparkSession

from glue_jobs import flows
from local_lake.tables import deploy_table, table_input
from model import iceberg
from model.datasets import Dataset
from model.declarations import load_dataset
from tests.conftest import DATASETS

SALT = "test-salt"
ORDERS_TOML = (DATASETS / "orders.toml").read_text()
_DATABASES = itertools.count(1)


def orders_variant(folder: Path, text: str = ORDERS_TOML) -> Dataset:
    """The orders declaration as ``text`` says (a variant of the shipped one)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "orders.toml"
    path.write_text(text)
    return load_dataset(path)


def without_marts(text: str) -> str:
    return text[: text.index("# Analytics")]


def unpartitioned(folder: Path) -> Dataset:
    text = without_marts(ORDERS_TOML).replace('partition_by = ["order_date"]\n', "")
    return orders_variant(folder, text[: text.index('[[columns]]\nname = "order_date"')])


def by_day_of_ordered_at(folder: Path) -> Dataset:
    """Partitioned by the timestamp itself (Iceberg's day transform), no derived column."""
    text = without_marts(ORDERS_TOML).replace(
        'partition_by = ["order_date"]', 'partition_by = ["ordered_at"]'
    )
    text = text[: text.index('[[columns]]\nname = "order_date"')]
    return orders_variant(folder, text)


def new_table(spark: SparkSession, lake: str, dataset: Dataset) -> str:
    """A new curated table for ``dataset`` in a database of its own: ``lake.dbN.name``."""
    table = f"{lake}.curated_{next(_DATABASES)}.{dataset.name}"
    deploy_table(spark, table, table_input(iceberg.curated_table(dataset), "unused"))
    return table


def order(**values: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "order_id": "O-1", "ordered_at": "2026-11-01T09:00:00Z", "customer_id": "C-1",
        "customer_email": "ann@example.com", "customer_name": "Ann Example",
        "shipping_country": "DE", "segment": "consumer", "quantity": "2", "amount": "12.50",
        "status": "placed",
    }  # fmt: skip
    row.update(values)
    return row


def raw_rows(
    spark: SparkSession, spec: dict[str, Any], rows: list[dict[str, str | None]], day: str
) -> DataFrame:
    """Rows as a runner's read gives them: every value as text, and the file each came from."""
    header = list(spec["source"]["columns"])
    source = f"s3://raw/orders/ingest_date={day}/export-{day}.csv"
    schema = ", ".join(f"`{c}` string" for c in [*header, flows.SOURCE_FILE])
    return spark.createDataFrame([[*(r.get(c) for c in header), source] for r in rows], schema)


def curate(
    spark: SparkSession,
    spec: dict[str, Any],
    table: str,
    folder: Path,
    rows: list[dict[str, str | None]],
    *,
    day: str,
    run_id: str = "r",
    check_quality: flows.QualityCheck = lambda _: [],
) -> flows.CurationRun:
    """One run of the job's flow on ``rows`` from a raw file of ingest date ``day``."""
    return flows.curate(
        raw_rows(spark, spec, rows, day),
        spec,
        salt=SALT,
        table=table,
        quarantine_path=f"{folder / 'quarantine'}/",
        run_id=run_id,
        check_quality=check_quality,
    )


def rows_by_key(spark: SparkSession, table: str, key: str = "order_id") -> dict[str, Row]:
    rows = spark.table(table).collect()
    by_key = {row[key]: row for row in rows}
    assert len(by_key) == len(rows), f"a key is in {table} more than once"
    return by_key


def metadata(spark: SparkSession, table: str, what: str, column: str, where: str = "") -> list[Any]:
    """One column of one of the table's metadata tables (``snapshots``, ``files``, ...)."""
    sql = f"SELECT {column} AS value FROM {table}.{what} {where}"  # noqa: S608
    return [r["value"] for r in spark.sql(sql).collect()]


def snapshots(spark: SparkSession, table: str) -> list[int]:
    """The table's snapshot ids, oldest first."""
    return metadata(spark, table, "snapshots", "snapshot_id", "ORDER BY committed_at")


def data_files(spark: SparkSession, table: str) -> set[str]:
    """The data files the table's current snapshot references (no delete files)."""
    return set(metadata(spark, table, "data_files", "file_path"))


def table_folder(spark: SparkSession, table: str) -> Path:
    (row,) = spark.sql(f"DESCRIBE TABLE EXTENDED {table}").filter("col_name = 'Location'").collect()
    return Path(row["data_type"].removeprefix("file:"))
