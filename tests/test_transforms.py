"""raw -> curated on a local SparkSession (pyspark pinned to Glue 5.1's Spark 3.5.6).

Each test asserts count conservation: rows in = rows curated + rows quarantined.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from model.declarations import load_dataset
from tests.conftest import DATASETS

pyspark = pytest.importorskip("pyspark")

from pyspark.sql import SparkSession  # noqa: E402

from glue_jobs import flows, marts, transforms  # noqa: E402
from tests.iceberg_lake import data_files, metadata, new_table, rows_by_key  # noqa: E402

SALT = "test-salt"
DATASET = load_dataset(DATASETS / "orders.toml")
ORDERS = DATASET.processing_spec()
HEADER = [c["name"] for c in transforms.source_columns(ORDERS)]


def order(**values: Any) -> dict[str, Any]:
    row = {
        "order_id": "O-1", "ordered_at": "2026-11-01T09:00:00Z", "customer_id": "C-1",
        "customer_email": "ann@example.com", "customer_name": "Ann Example",
        "shipping_country": "DE", "segment": "consumer", "quantity": "2", "amount": "12.50",
        "status": "paid", "_ingest_date": "2026-11-02",
    }  # fmt: skip
    row.update(values)
    return row


def run(
    spark: SparkSession, rows: list[dict[str, Any]], spec: dict[str, Any] = ORDERS
) -> tuple[list[Any], list[Any]]:
    columns = list(rows[0]) if rows else [*HEADER, "_ingest_date"]
    df = spark.createDataFrame([[r.get(c) for c in columns] for r in rows],
                               schema=", ".join(f"`{c}` string" for c in columns))  # fmt: skip
    df = df.withColumn("_ingest_date", df["_ingest_date"].cast("date"))
    curated, quarantine = transforms.raw_to_curated(df, spec, salt=SALT)
    figures = transforms.counts(len(rows), curated, quarantine)  # raises unless conserved
    assert figures["rows_in"] == figures["rows_written"] + figures["rows_quarantined"]
    return curated.collect(), quarantine.collect()


def salted(value: str) -> str:
    return hashlib.sha256(f"{SALT}{value}".encode()).hexdigest()


def test_a_good_row_is_typed_protected_and_partitioned(spark: SparkSession) -> None:
    (row,), quarantined = run(spark, [order()])
    assert quarantined == []
    assert row["order_id"] == "O-1"
    assert row["ordered_at"] == datetime(2026, 11, 1, 9, 0)
    assert row["quantity"] == 2
    assert row["amount"] == Decimal("12.50")
    assert row["order_date"] == date(2026, 11, 1)
    assert row["customer_email"] == salted("ann@example.com")  # hashed, joinable
    assert row["customer_id"] == salted("C-1")
    assert "customer_name" not in row.asDict()  # dropped
    declared = [c["name"] for c in ORDERS["columns"] if c["pii"] != "drop"]
    assert list(row.asDict()) == [*declared, "ingest_date"]
    assert row["ingest_date"] == date(2026, 11, 2)  # lineage: the day the raw file landed


def test_uncastable_values_are_quarantined_with_the_column_and_raw_values(
    spark: SparkSession,
) -> None:
    curated, quarantined = run(spark, [
        order(order_id="O-1", quantity="two"),
        order(order_id="O-2", amount="99999999999999.99"),  # too wide for decimal(12,2)
        order(order_id="O-3", ordered_at="yesterday"),
        order(order_id="O-4"),
    ])  # fmt: skip
    assert [r["order_id"] for r in curated] == ["O-4"]
    reasons = {json.loads(r["raw"])["order_id"]: r["reason"] for r in quarantined}
    assert reasons == {"O-1": "uncastable:quantity", "O-2": "uncastable:amount",
                       "O-3": "uncastable:ordered_at"}  # fmt: skip
    raw = json.loads(next(r["raw"] for r in quarantined if r["reason"] == "uncastable:quantity"))
    assert raw["quantity"] == "two"
    assert raw["customer_name"] == "Ann Example"  # quarantine keeps the row as it arrived


def test_null_keys_and_missing_required_values_are_quarantined(spark: SparkSession) -> None:
    curated, quarantined = run(spark, [
        order(order_id=None), order(order_id="  "), order(order_id="O-9", quantity=None),
    ])  # fmt: skip
    assert curated == []
    assert sorted(r["reason"] for r in quarantined) == [
        "missing_value:quantity", "null_key:order_id", "null_key:order_id",
    ]  # fmt: skip


def test_exact_duplicates_are_removed_and_recorded(spark: SparkSession) -> None:
    curated, quarantined = run(spark, [order(), order(), order()])
    assert len(curated) == 1
    assert [r["reason"] for r in quarantined] == ["exact_duplicate", "exact_duplicate"]


def test_the_latest_record_of_a_key_wins(spark: SparkSession) -> None:
    curated, quarantined = run(spark, [
        order(status="placed", _ingest_date="2026-11-01"),
        order(status="shipped", _ingest_date="2026-11-03"),
        order(status="paid", _ingest_date="2026-11-02"),
    ])  # fmt: skip
    assert [r["status"] for r in curated] == ["shipped"]
    assert sorted(json.loads(r["raw"])["status"] for r in quarantined) == ["paid", "placed"]
    assert {r["reason"] for r in quarantined} == {"superseded"}


def test_pii_in_each_treatment(spark: SparkSession) -> None:
    spec = json.loads(json.dumps(ORDERS))
    for column in spec["columns"]:
        if column["name"] == "customer_name":
            column["pii"] = "keep"
    (kept,), _ = run(spark, [order()], spec)
    assert kept["customer_name"] == "Ann Example"  # keep: as it was
    (hashed,), _ = run(spark, [order()])
    assert hashed["customer_email"] != "ann@example.com"
    assert hashed["customer_email"] == salted("ann@example.com")
    assert "customer_name" not in hashed.asDict()  # drop: gone
    (null_email,), _ = run(spark, [order(customer_email=None)])
    assert null_email["customer_email"] is None  # no hash of nothing


def test_hashing_without_a_salt_is_refused(spark: SparkSession) -> None:
    df = spark.createDataFrame([order()])
    with pytest.raises(ValueError, match="salt"):
        transforms.raw_to_curated(df, ORDERS, salt="")


def test_empty_input_writes_nothing_and_quarantines_nothing(spark: SparkSession) -> None:
    curated, quarantined = run(spark, [])
    assert (curated, quarantined) == ([], [])


def test_a_missing_column_is_null_where_allowed_and_quarantined_where_not(
    spark: SparkSession,
) -> None:
    rows = [{k: v for k, v in order().items() if k != "segment"}]
    (row,), quarantined = run(spark, rows)  # segment may be null
    assert row["segment"] is None
    assert quarantined == []
    rows = [{k: v for k, v in order().items() if k != "quantity"}]
    curated, quarantined = run(spark, rows)  # quantity may not
    assert curated == []
    assert [r["reason"] for r in quarantined] == ["missing_value:quantity"]


def test_an_extra_column_is_left_out_of_curated_but_kept_in_raw(spark: SparkSession) -> None:
    (row,), _ = run(spark, [order(coupon="WINTER")])
    assert "coupon" not in row.asDict()
    _, (quarantined,) = run(spark, [order(coupon="WINTER", quantity="x")])
    assert json.loads(quarantined["raw"])["coupon"] == "WINTER"


def test_the_sample_file_goes_through(spark: SparkSession) -> None:
    df = (
        spark.read.option("header", True)
        .csv(str(DATASETS / "samples" / "orders.csv"))
        .withColumn("_ingest_date", pyspark.sql.functions.lit("2026-11-21").cast("date"))
    )
    rows_in = df.count()
    curated, quarantine = transforms.raw_to_curated(df, ORDERS, salt=SALT)
    figures = transforms.counts(rows_in, curated, quarantine)
    # The sample ends with two bad rows, to show what the job does with them: a quantity
    # of "two", and an order sent twice.
    assert figures["rows_written"] == rows_in - 2
    assert figures["quarantined_by_reason"] == {"uncastable": 1, "exact_duplicate": 1}
    assert curated.filter("customer_email like '%@%'").count() == 0


def test_every_declared_mart_builds_its_declared_columns_from_curated(spark: SparkSession) -> None:
    """The mart's query and its declared columns (the catalog table) cannot drift apart."""
    from model.declarations import load_datasets

    for dataset in load_datasets(DATASETS):
        if not dataset.marts:
            continue
        spec = dataset.processing_spec()
        sample = DATASETS / "samples" / f"{dataset.name}.csv"
        df = (
            spark.read.option("header", True)
            .csv(str(sample))
            .withColumn("_ingest_date", pyspark.sql.functions.lit("2026-11-21").cast("date"))
        )
        curated, _ = transforms.raw_to_curated(df, spec, salt=SALT)
        for mart in dataset.marts:
            table = marts.build_mart(curated, mart.spec())
            declared = [(c.name, c.type) for c in mart.columns]
            assert [(f.name, f.dataType.simpleString()) for f in table.schema.fields] == declared
            assert table.count() > 0


def test_daily_totals_by_segment_add_up(spark: SparkSession) -> None:
    (mart,) = load_dataset(DATASETS / "orders.toml").marts
    rows = [
        order(order_id="O-1", segment="consumer", quantity="2", amount="10.00"),
        order(order_id="O-2", segment="consumer", quantity="1", amount="5.50"),
        order(order_id="O-3", segment="business", quantity="4", amount="100.00"),
        order(order_id="O-4", segment="business", status="cancelled", amount="7.00"),
    ]
    df = spark.createDataFrame(rows).withColumn(
        "_ingest_date", pyspark.sql.functions.col("_ingest_date").cast("date")
    )
    curated, _ = transforms.raw_to_curated(df, ORDERS, salt=SALT)
    result = {r["segment"]: r for r in marts.build_mart(curated, mart.spec()).collect()}
    assert (result["consumer"]["orders"], result["consumer"]["items"]) == (2, 3)
    assert result["consumer"]["revenue"] == Decimal("15.50")
    assert (result["business"]["orders"], result["business"]["revenue"]) == (1, Decimal("100.00"))


def test_a_mart_query_missing_a_declared_column_fails_before_writing(spark: SparkSession) -> None:
    df = spark.createDataFrame([{"a": 1}])
    mart = {"name": "m", "sql": "SELECT a FROM curated", "partition_by": []}
    with pytest.raises(ValueError, match="returns no column"):
        marts.build_mart(df, {**mart, "columns": [{"name": "b", "type": "int"}]})


def test_lenient_casts_are_refused_not_rounded(spark: SparkSession) -> None:
    curated, quarantined = run(spark, [
        order(order_id="O-1", quantity="2.5"),  # Spark alone would make it 2
        order(order_id="O-2", amount="12.345"),  # would round to 12.35
        order(order_id="O-3", ordered_at="2026"),  # would read as 2026-01-01 00:00
        order(order_id="O-4", quantity="NaN"),
        order(order_id="O-5", amount="-3.10", quantity="+4"),  # fine
    ])  # fmt: skip
    assert [(r["order_id"], r["amount"], r["quantity"]) for r in curated] == [
        ("O-5", Decimal("-3.10"), 4)
    ]
    reasons = {json.loads(r["raw"])["order_id"]: r["reason"] for r in quarantined}
    assert reasons == {
        "O-1": "uncastable:quantity", "O-2": "uncastable:amount",
        "O-3": "uncastable:ordered_at", "O-4": "uncastable:quantity",
    }  # fmt: skip


def test_an_input_key_with_a_dot_does_not_break_the_run(spark: SparkSession) -> None:
    (row,), _ = run(spark, [order(**{"promo.code": "WINTER"})])
    assert row["order_id"] == "O-1"


def test_the_ingest_date_comes_from_the_raw_folder(spark: SparkSession) -> None:
    df = spark.createDataFrame(
        [("s3://raw/orders/ingest_date=2026-11-21/abc-day.csv",), ("s3://raw/orders/day.csv",)],
        "source string",
    )
    days = [r["d"] for r in df.select(flows.ingest_dates(df, "source").alias("d")).collect()]
    assert days == [date(2026, 11, 21), None]


def test_a_later_run_replaces_an_earlier_record_of_the_same_key(
    spark: SparkSession, lake: str
) -> None:
    """The job's MERGE of a second run into what the first committed: the key's later
    record replaces the earlier one, a key the run does not carry is kept."""
    table = new_table(spark, lake, DATASET)
    first, _ = run_frames(
        spark,
        [
            order(order_id="O-1", status="placed", _ingest_date="2026-11-01"),
            order(order_id="O-2", ordered_at="2026-11-05T10:00:00Z"),
        ],
    )
    assert flows.merge_curated(first, ORDERS, table)["rows_inserted"] == 2
    second, _ = run_frames(
        spark, [order(order_id="O-1", status="shipped", _ingest_date="2026-11-03")]
    )
    figures = flows.merge_curated(second, ORDERS, table)
    assert (figures["rows_inserted"], figures["rows_updated"]) == (0, 1)
    rows = rows_by_key(spark, table)
    assert {k: r["status"] for k, r in rows.items()} == {"O-1": "shipped", "O-2": "paid"}


def test_an_older_late_arrival_does_not_replace_a_newer_record(
    spark: SparkSession, lake: str
) -> None:
    table = new_table(spark, lake, DATASET)
    newer, _ = run_frames(spark, [order(status="shipped", _ingest_date="2026-11-03")])
    older, _ = run_frames(spark, [order(status="placed", _ingest_date="2026-11-01")])
    before = flows.merge_curated(newer, ORDERS, table)["snapshot_id"]
    figures = flows.merge_curated(older, ORDERS, table)
    assert figures["rows_unchanged"] == 1
    assert figures["snapshot_id"] == before  # nothing committed
    (row,) = spark.table(table).collect()
    assert row["status"] == "shipped"


def run_frames(spark: SparkSession, rows: list[dict[str, Any]]) -> Any:
    columns = list(rows[0])
    df = spark.createDataFrame([[r.get(c) for c in columns] for r in rows],
                               schema=", ".join(f"`{c}` string" for c in columns))  # fmt: skip
    df = df.withColumn("_ingest_date", df["_ingest_date"].cast("date"))
    return transforms.raw_to_curated(df, ORDERS, salt=SALT)


def test_repeated_hashes_are_stored_once_per_file(
    spark: SparkSession, lake: str, tmp_path: Any
) -> None:
    """100,000 orders of 20,000 customers in one partition: with Parquet's default dictionary
    page (1 MiB) the 64-character hashes overflow it and every row stores its own; the curated
    table's properties keep them dictionary-encoded, so its files are several times smaller."""
    from pyspark.sql import functions as F

    customer = (F.col("id") % 20_000).cast("string")
    raw = spark.range(100_000).select(
        *[F.lit(v).alias(k) for k, v in order().items()
          if k not in ("order_id", "customer_id", "customer_email")],
        F.concat(F.lit("O-"), F.col("id").cast("string")).alias("order_id"),
        F.concat(F.lit("C-"), customer).alias("customer_id"),
        F.concat(F.lit("c"), customer, F.lit("@example.com")).alias("customer_email"),
    )  # fmt: skip
    raw = raw.withColumn("_ingest_date", raw["_ingest_date"].cast("date"))
    curated, _ = transforms.raw_to_curated(raw, ORDERS, salt=SALT)
    curated = curated.cache()
    table = new_table(spark, lake, DATASET)
    assert flows.merge_curated(curated, ORDERS, table)["rows_inserted"] == 100_000
    curated.repartition(1).write.parquet(str(tmp_path / "default"))
    curated.unpersist()

    table_bytes = sum(metadata(spark, table, "data_files", "file_size_in_bytes"))
    default_bytes = sum(p.stat().st_size for p in (tmp_path / "default").rglob("*.parquet"))
    assert spark.table(table).count() == 100_000
    assert len(data_files(spark, table)) <= 2
    assert table_bytes < default_bytes / 3
