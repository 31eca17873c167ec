"""Forgetting a person, on local Spark with real Iceberg tables and moto's versioned S3.

Each test builds the places a person's data reaches (the curated table after two runs, its
mart, raw files, quarantined files and rows, a file waiting in landing, earlier object
versions), runs the erasure (``erasure.forget``), then searches every place for the value, in
clear and hashed, with a search of its own: every object version's bytes (gzip opened), every
Parquet file under each table's folder read whole, every snapshot left.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

pytest.importorskip("pyspark")

import pyarrow.parquet as pq
from moto import mock_aws
from pyspark.sql import SparkSession

from glue_jobs import erasure, flows
from model.declarations import load_dataset
from tests.conftest import DATASETS
from tests.iceberg_lake import SALT, curate, new_table, order, snapshots, table_folder
from tests.test_iceberg_merge import mart_tables

ORDERS = load_dataset(DATASETS / "orders.toml")
SPEC = ORDERS.processing_spec()
PERSON = "C-3"
HASH = erasure.subject_hash(SALT, PERSON)
# The value where it is not part of a longer one (C-30 is someone else).
PERSON_BYTES = re.compile(rb"(?<![0-9A-Za-z-])C-3(?![0-9A-Za-z-])")
REGION = "eu-west-1"
HEADER = ",".join(SPEC["source"]["columns"])


def csv_line(**values: str) -> str:
    row = order(**values)
    return ",".join(str(row[c] or "") for c in SPEC["source"]["columns"])


@pytest.fixture(scope="module")
def s3() -> Any:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        for bucket in ("landing", "raw"):
            where = {"LocationConstraint": REGION}
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration=where)
            client.put_bucket_versioning(Bucket=bucket,
                                         VersioningConfiguration={"Status": "Enabled"})  # fmt: skip
        yield client


FOLDERS = {"landing": "s3://landing/orders/", "raw": "s3://raw/orders/",
           "quarantine": "s3://raw/_quarantine/orders/"}  # fmt: skip


def target(table: str, database: str, *, folders: dict[str, str] = FOLDERS) -> erasure.Target:
    return erasure.Target(
        spec=SPEC,
        subject_column="customer_id",
        marts=[m.spec() for m in ORDERS.marts],
        curated_table=table,
        analytics_database=database,
        folders=folders,
    )


def request(request_id: str = "req-1") -> erasure.Request:
    return erasure.Request(request_id, f" {PERSON} ", "GDPR article 17", "arn:aws:iam::1:user/a",
                           "2026-12-01T10:00:00+00:00")  # fmt: skip


def every_version(s3: Any) -> dict[str, bytes]:
    """Every version of every object in landing and raw, opened where it is gzip."""
    found = {}
    for bucket in ("landing", "raw"):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for v in page.get("Versions", []):
                body = s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
                data = body["Body"].read()
                found[f"s3://{bucket}/{v['Key']}@{v['VersionId']}"] = (
                    gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
                )
    return found


def parquet_values(folder: Path) -> list[str]:
    """Every value of every Parquet file under ``folder``, as text."""
    values = []
    for path in folder.rglob("*.parquet"):
        for column in pq.read_table(path).to_pylist():
            values += [str(v) for v in column.values()]
    return values


def places_holding(s3: Any, folders: list[Path]) -> list[str]:
    """The independent search: any object version or table file holding the value or hash."""
    hits = [where for where, data in every_version(s3).items()
            if PERSON_BYTES.search(data) or HASH.encode() in data]  # fmt: skip
    for folder in folders:
        hits += [f"{folder}: {v}" for v in parquet_values(folder)
                 if PERSON_BYTES.search(v.encode()) or HASH in v]  # fmt: skip
    return hits


DAY1 = [order(order_id="O-1", customer_id="C-1"), order(order_id="O-2", customer_id=PERSON),
        order(order_id="O-3", customer_id=PERSON, status="paid"),
        order(order_id="O-4", customer_id="C-30")]  # fmt: skip


def build_tables(spark: SparkSession, lake: str, tmp_path: Path) -> tuple[str, str]:
    """Two days of orders (the person's order updated on day 2, a merge-on-read change, so
    its first version stays in a data file, masked) and the mart built."""
    table = new_table(spark, lake, ORDERS)
    database = table.split(".")[1] + "_analytics"
    mart_tables(spark, lake, ORDERS, database)
    curate(spark, SPEC, table, tmp_path, DAY1, day="2026-11-01")
    curate(spark, SPEC, table, tmp_path, [order(order_id="O-3", customer_id=PERSON,
                                                  status="shipped")], day="2026-11-02")  # fmt: skip
    flows.write_marts(spark, [m.spec() for m in ORDERS.marts], curated_table=table,
                      analytics_database=f"{lake}.{database}")  # fmt: skip
    return table, database


def put_objects(s3: Any) -> None:
    """The person's data in every folder: raw (plain and gzip, with an earlier version), a
    quarantined row, a row held back by a quality rule, a quarantined file in a broken
    encoding, a file still waiting in landing."""
    raw1 = "\n".join([HEADER, *(csv_line(**r) for r in DAY1)]) + "\n"  # type: ignore[arg-type]
    key1 = "orders/ingest_date=2026-11-01/aaaa-orders.csv"
    s3.put_object(Bucket="raw", Key=key1, Body=raw1.encode(), Metadata={"content-sha256": "x"})
    s3.put_object(Bucket="raw", Key=key1, Body=raw1.encode(), Metadata={"content-sha256": "x"})
    day2 = f"{HEADER}\n{csv_line(order_id='O-3', customer_id=PERSON, status='shipped')}\n"
    s3.put_object(Bucket="raw", Key="orders/ingest_date=2026-11-02/bbbb-orders.csv.gz",
                  Body=gzip.compress(day2.encode()))  # fmt: skip
    rows = "".join(
        json.dumps({"dataset": "orders", "reason": "uncastable:quantity",
                    "raw": json.dumps({"customer_id": customer})}) + "\n"
        for customer in (PERSON, "C-30")
    )  # fmt: skip
    s3.put_object(Bucket="raw", Key="_quarantine/orders/processing/run=r/part-0.json", Body=rows)
    held = f'{{"order_id":"O-9","customer_id":"{HASH}"}}\n{{"order_id":"O-8","customer_id":"x"}}\n'
    s3.put_object(Bucket="raw", Key="_quarantine/orders/processing/dq_failed/run=r/part-0.json",
                  Body=held)  # fmt: skip
    broken = f"{HEADER}\n{csv_line(order_id='O-7', customer_id=PERSON)}\n".encode() + b"\xff\xfe"
    s3.put_object(Bucket="raw", Key="_quarantine/orders/ingest_date=2026-11-01/e-orders.csv",
                  Body=broken, Tagging="reason=not_utf-8")  # fmt: skip
    waiting = f"{HEADER}\n{csv_line(order_id='O-5', customer_id=PERSON)}\n"
    waiting += f"{csv_line(order_id='O-6', customer_id='C-1')}\n"
    s3.put_object(Bucket="landing", Key="orders/late.csv", Body=waiting)


@dataclass(frozen=True)
class Erased:
    """The lake before and after one erasure of the person."""

    table: str
    database: str
    folders: list[Path]
    held_before: list[str]
    others: dict[str, Any]
    snapshots_before: list[int]
    record: dict[str, Any]


@pytest.fixture(scope="module")
def erased(spark: SparkSession, lake: str, s3: Any, tmp_path_factory: Any) -> Erased:
    table, database = build_tables(spark, lake, tmp_path_factory.mktemp("erasure"))
    put_objects(s3)
    mart = f"{lake}.{database}.{ORDERS.marts[0].name}"
    folders = [table_folder(spark, table), table_folder(spark, mart)]
    held, before = places_holding(s3, folders), snapshots(spark, table)
    others = {r["order_id"]: r for r in spark.table(table).collect() if r["customer_id"] != HASH}
    record = erasure.forget(spark, s3, request(), target(table, f"{lake}.{database}"), salt=SALT)
    return Erased(table, f"{lake}.{database}", folders, held, others, before, record)


def test_a_person_is_gone_from_every_zone_version_and_snapshot_and_nobody_else_is(
    spark: SparkSession, s3: Any, erased: Erased
) -> None:
    assert len(erased.held_before) >= 8  # the search finds the person before, everywhere
    assert len(erased.snapshots_before) == 2
    record = erased.record
    assert places_holding(s3, erased.folders) == []
    assert record["verification"]["found"] == []
    assert record["verification"]["snapshots_searched"] == 1  # the one left, after the erasure
    assert {r["order_id"]: r for r in spark.table(erased.table).collect()} == erased.others
    assert len(snapshots(spark, erased.table)) == 1
    zones = record["zones"]
    assert record["outcome"] == "erased"
    assert zones["curated"]["rows_deleted"] == 2
    assert zones["curated"]["data_files_holding"] >= 2  # the masked first version of O-3 too
    assert zones["raw"]["records_removed"] == 3  # two rows of day 1, one of day 2
    assert sorted(zones["raw"]["rewritten"]) == [
        "orders/ingest_date=2026-11-01/aaaa-orders.csv",
        "orders/ingest_date=2026-11-02/bbbb-orders.csv.gz",
    ]
    assert zones["raw"]["versions_deleted"] == 3  # both versions of day 1, the gzip's one
    assert zones["landing"]["records_removed"] == 1
    # The quarantined row, the row held back, the row of the file in a broken encoding.
    assert zones["quarantine"]["records_removed"] == 3
    assert zones["quarantine"]["deleted"] == []
    assert PERSON_BYTES.search(str(record).encode()) is None  # the hash, never the value
    assert record["subject_hash"] == HASH


def test_every_other_byte_of_a_rewritten_object_stays_with_its_metadata_and_tags(
    s3: Any, erased: Erased
) -> None:
    raw1 = s3.get_object(Bucket="raw", Key="orders/ingest_date=2026-11-01/aaaa-orders.csv")
    assert raw1["Body"].read().decode() == (
        f"{HEADER}\n{csv_line(order_id='O-1', customer_id='C-1')}\n"
        f"{csv_line(order_id='O-4', customer_id='C-30')}\n"
    )
    assert raw1["Metadata"] == {"content-sha256": "x", "erasure-request": "req-1",
                                "erasure-records-removed": "2"}  # fmt: skip
    key = "_quarantine/orders/ingest_date=2026-11-01/e-orders.csv"
    broken = s3.get_object(Bucket="raw", Key=key)["Body"].read()
    assert broken == f"{HEADER}\n".encode() + b"\xff\xfe"  # its bad bytes kept
    assert s3.get_object_tagging(Bucket="raw", Key=key)["TagSet"] == [
        {"Key": "reason", "Value": "not_utf-8"}
    ]
    landing = s3.get_object(Bucket="landing", Key="orders/late.csv")["Body"].read().decode()
    assert landing == f"{HEADER}\n{csv_line(order_id='O-6', customer_id='C-1')}\n"


def test_the_marts_are_rebuilt_without_the_person_and_their_earlier_builds_expired(
    spark: SparkSession, lake: str, erased: Erased
) -> None:
    mart = f"{erased.database}.{ORDERS.marts[0].name}"
    assert {r["segment"]: r["orders"] for r in spark.table(mart).collect()} == {"consumer": 2}
    assert len(snapshots(spark, mart)) == 1
    (built,) = erased.record["zones"]["analytics"]["marts"].values()
    assert (built["rows_before"], built["rows_after"]) == (1, 1)


def test_a_second_and_third_request_find_nothing_to_do_and_change_nothing(
    spark: SparkSession, s3: Any, erased: Erased
) -> None:
    kept, versions = snapshots(spark, erased.table), every_version(s3)
    for attempt in ("req-2", "req-3"):
        again = erasure.forget(spark, s3, request(attempt),
                               target(erased.table, erased.database), salt=SALT)  # fmt: skip
        assert again["outcome"] == "nothing_found"
        assert again["zones"]["curated"]["rows_deleted"] == 0
        assert again["zones"]["analytics"]["marts"] == {}
        assert all(not again["zones"][z]["rewritten"] for z in FOLDERS)
        assert again["verification"]["found"] == []
        assert snapshots(spark, erased.table) == kept  # time travel after the erasure stays
        assert every_version(s3) == versions


def test_someone_never_in_the_lake_leaves_every_snapshot_and_object_as_it_was(
    spark: SparkSession, s3: Any, erased: Erased
) -> None:
    before, versions = snapshots(spark, erased.table), every_version(s3)
    stranger = erasure.Request("req-9", "C-404", "test", "a", "t")
    record = erasure.forget(spark, s3, stranger, target(erased.table, erased.database),
                            salt=SALT)  # fmt: skip
    assert record["outcome"] == "nothing_found"
    assert snapshots(spark, erased.table) == before
    assert every_version(s3) == versions


def test_an_orphan_file_holding_the_person_goes_and_a_young_one_fails_the_search(
    spark: SparkSession, lake: str, s3: Any, tmp_path: Path
) -> None:
    """A failed write leaves data files no snapshot references: the erasure removes those
    older than the margin, and its search finds a younger one (a write maybe in flight)."""
    table, database = build_tables(spark, lake, tmp_path)
    folder = table_folder(spark, table)
    source = next(p for p in folder.rglob("*.parquet") if _holds(p))
    old = source.with_name("00000-failed-write-old.parquet")
    young = source.with_name("00000-failed-write-young.parquet")
    for orphan in (old, young):
        orphan.write_bytes(source.read_bytes())
    two_hours_ago = time.time() - 2 * 3600
    os.utime(old, (two_hours_ago, two_hours_ago))
    record = erasure.forget(spark, s3, request(), target(table, f"{lake}.{database}", folders={}),
                            salt=SALT)  # fmt: skip
    assert not old.exists()
    assert young.exists()
    assert record["zones"]["curated"]["orphan_files_removed"] == 1
    assert any(young.name in place for place in record["verification"]["found"])
    assert "still in" in erasure.remains(record)


def _holds(path: Path) -> bool:
    return any(HASH in map(str, row.values()) for row in pq.read_table(path).to_pylist())
