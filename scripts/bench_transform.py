#!/usr/bin/env python3
"""Time the curation job's own flow (``glue_jobs.flows.curate``) into an Iceberg table.

Each shape generates orders as raw CSV (``bench_orders.py``), creates the curated table as
the template defines it (``model.iceberg.curated_table``, deployed by ``local_lake.tables``
into a local Iceberg catalog) and runs ``flows.curate`` as the local run does: raw read by
``local_lake.spark.read_raw``, the declared quality rules evaluated by ``local_lake.quality``,
rows merged by key in one commit. Figures are printed, never asserted:

- daily export: one day of ``--rows`` orders (the orders declaration's shape): initial load
  in rows/s, curated bytes / raw CSV bytes (goal <= 0.25), then a second day with 1% of the
  orders updated and 1% new ones merged in: seconds, and the files the merge added or
  rewrote (merge-on-read: delete files added, no data file rewritten);
- many partitions: ``--partition-rows`` orders over ``--days`` daily partitions (the size of
  a real public dataset whose curation was slow), in rows/s (target >= 20k on 2 CPUs).

Each run also prints the Spark jobs the flow started (and how many of them were the quality
evaluation): a figure that grows with the number of actions, not with the data.

    python3 tasks.py bench-transform      # or: python scripts/bench_transform.py --rows 1000000
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_orders  # noqa: E402

from model.declarations import load_dataset  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="daily export orders")
    parser.add_argument("--partition-rows", type=int, default=336_776)
    parser.add_argument("--days", type=int, default=366, help="many-partition shape's days")
    parser.add_argument("--shape", choices=("all", "daily", "many"), default="all")
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args()
    os.environ.setdefault(
        "PYSPARK_SUBMIT_ARGS", f"--driver-memory {args.driver_memory} pyspark-shell"
    )
    from local_lake.spark import spark_session

    spark = spark_session()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"transform benchmark: {os.cpu_count()} CPUs, {platform.machine()}, {memory:.0f} GiB, "
          f"Python {platform.python_version()}, local Spark {spark.version} "
          f"({spark.sparkContext.master}, driver {args.driver_memory}), "
          f"load average {load}")  # fmt: skip
    try:
        if args.shape in ("all", "daily"):
            daily(spark, args.rows)
        if args.shape in ("all", "many"):
            many_partitions(spark, args.partition_rows, args.days)
    finally:
        spark.stop()


class Bench:
    """One shape's folder, curated table and runs of ``flows.curate``."""

    def __init__(self, spark: Any, work: Path) -> None:
        from local_lake import tables
        from local_lake.spark import iceberg_catalog
        from model import iceberg

        dataset = load_dataset(ROOT / "datasets" / "orders.toml")
        self.spark, self.work = spark, work
        self.spec = dataset.processing_spec()
        self.ruleset = "Rules = [\n    " + ",\n    ".join(dataset.quality_rules) + "\n]"
        self.table = f"{iceberg_catalog(spark, work / 'warehouse')}.curated.orders"
        definition = iceberg.curated_table(dataset)
        tables.deploy_table(spark, self.table, tables.table_input(definition, "x"))

    def raw_file(self, day: str) -> Path:
        return self.work / "raw" / f"ingest_date={day}" / "orders.csv"

    def curate(self, day: str) -> dict[str, Any]:
        """``flows.curate`` on one day's raw folder: its figures, seconds and Spark jobs."""
        from glue_jobs import flows
        from local_lake import quality
        from local_lake.spark import read_raw

        raw = read_raw(self.spark, self.spec, self.raw_file(day).parent)
        checked: dict[str, Any] = {}

        def check_quality(rows: Any) -> list[str]:
            with jobs(self.spark, "quality") as counted, timer() as took:
                results = quality.evaluate(rows, self.ruleset)
            checked.update(jobs=counted[0], seconds=took[0], failed=quality.failed(results))
            return checked["failed"]

        with jobs(self.spark, "curate") as counted, timer() as took:
            run = flows.curate(raw, self.spec, salt="benchmark-salt", table=self.table,
                               quarantine_path=f"{(self.work / 'quarantine').as_posix()}/",
                               run_id=day, check_quality=check_quality)  # fmt: skip
        if run.failed_rules:
            raise RuntimeError(f"quality rules failed: {run.failed_rules}")
        total = counted[0] + checked.get("jobs", 0)
        return {**run.figures, "seconds": took[0], "cpu": took[1], "jobs": total,
                "quality": checked}  # fmt: skip

    def files(self) -> dict[str, tuple[int, int]]:
        """file path -> (content: 0 data, 1 position deletes, 2 equality deletes; bytes)."""
        files = self.spark.table(f"{self.table}.files")
        rows = files.select("file_path", "content", "file_size_in_bytes").collect()
        return {r["file_path"]: (r["content"], r["file_size_in_bytes"]) for r in rows}

    def last_summary(self) -> dict[str, str]:
        snapshots = self.spark.table(f"{self.table}.snapshots")
        row = snapshots.orderBy(snapshots["committed_at"].desc()).select("summary").first()
        return dict(row["summary"]) if row else {}


@contextmanager
def timer() -> Iterator[list[float]]:
    """Wall-clock seconds of the block, and the CPU seconds this process and the Spark JVM
    (its child) used meanwhile: on a shared machine, rows per CPU second is the steadier
    figure (wall-clock seconds grow with other processes' load)."""
    took = [0.0, 0.0]
    began, cpu = time.perf_counter(), _cpu_seconds()
    yield took
    took[0], took[1] = time.perf_counter() - began, _cpu_seconds() - cpu


def _cpu_seconds() -> float:
    own, children = os.times(), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():  # the JVM pyspark started
            children += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own.user + own.system + children


@contextmanager
def jobs(spark: Any, group: str) -> Iterator[list[int]]:
    """The Spark jobs started inside the block (a job group, read from the status tracker)."""
    context = spark.sparkContext
    tracker = context.statusTracker()
    outer = context.getLocalProperty("spark.jobGroup.id")
    before = set(tracker.getJobIdsForGroup(group))
    context.setJobGroup(group, group)
    counted = [0]
    try:
        yield counted
    finally:
        counted[0] = len(set(tracker.getJobIdsForGroup(group)) - before)
        context.setJobGroup(outer or "other", outer or "other")


def report_run(title: str, rows: int, run: dict[str, Any]) -> None:
    quality = run["quality"]
    cpus = os.cpu_count() or 1
    print(f"  {title:<22} {run['seconds']:7.1f} s  {rows / run['seconds']:>9,.0f} rows/s;  "
          f"{run['cpu']:.1f} CPU s: {rows / run['cpu'] * cpus:,.0f} rows/s on {cpus} CPUs "
          f"of our own; {run['jobs']} Spark jobs (quality rules "
          f"{quality.get('seconds', 0):.1f} s, {quality.get('jobs', 0)} jobs)")  # fmt: skip
    reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(run["quarantined_by_reason"].items()))
    print(f"    rows in {run['rows_in']:,} = written {run['rows_written']:,} + quarantined "
          f"{run['rows_quarantined']:,} ({reasons}); inserted {run['rows_inserted']:,}, "
          f"updated {run['rows_updated']:,}, unchanged {run['rows_unchanged']:,}")  # fmt: skip


def report_size(bench: Bench, raw_bytes: int) -> None:
    files = bench.files().values()
    data = sum(b for content, b in files if content == 0)
    deletes = sum(b for content, b in files if content != 0)
    ratio = (data + deletes) / raw_bytes
    verdict = "met" if ratio <= 0.25 else "MISSED"
    print(f"  raw CSV {raw_bytes / 1e6:.1f} MB; curated {data / 1e6:.1f} MB in "
          f"{sum(1 for c, _ in files if c == 0)} data files + {deletes / 1e6:.2f} MB in "
          f"{sum(1 for c, _ in files if c != 0)} delete files; "
          f"ratio {ratio:.3f} (goal <= 0.25: {verdict})")  # fmt: skip


def daily(spark: Any, rows: int) -> None:
    print(f"daily export: {rows:,} orders of one day, then a day of 1% updates + 1% new orders")
    with workspace() as work:
        bench = Bench(spark, work)
        bench_orders.generate(bench.raw_file("2026-11-21"), rows, days=1)
        raw_bytes = bench_orders.size(bench.raw_file("2026-11-21"))
        report_run("initial load", rows, bench.curate("2026-11-21"))
        report_size(bench, raw_bytes)
        changes = bench_orders.generate_changes(
            bench.raw_file("2026-11-21"), bench.raw_file("2026-11-22"), 0.01, days=1
        )
        before = bench.files()
        merge = bench.curate("2026-11-22")
        after = bench.files()
        report_run("merge of the changes", changes, merge)
        data_before = {p for p, (content, _) in before.items() if content == 0}
        data_after = {p for p, (content, _) in after.items() if content == 0}
        deletes_added = {p for p, (content, _) in after.items() if content != 0} - set(before)
        summary = bench.last_summary()
        print(f"    data files rewritten {len(data_before - data_after)} of {len(data_before)}; "
              f"added {len(data_after - data_before)} data and {len(deletes_added)} delete "
              f"files (snapshot: added-data-files {summary.get('added-data-files', 0)}, "
              f"deleted-data-files {summary.get('deleted-data-files', 0)}, "
              f"added-delete-files {summary.get('added-delete-files', 0)}, "
              f"added-position-deletes {summary.get('added-position-deletes', 0)})")  # fmt: skip
        report_size(bench, raw_bytes + bench_orders.size(bench.raw_file("2026-11-22")))


def many_partitions(spark: Any, rows: int, days: int) -> None:
    """The many-partition shape, twice, each into a new table: the JVM compiles the flow's
    code during the first pass (tens of CPU seconds, paid once per process, not per row), so
    the second is the flow's own speed, as in a job that has run for a minute."""
    print(f"many partitions: {rows:,} orders over {days} daily partitions")
    for title, count in (("first load (JIT warm-up)", rows), ("initial load", rows)):
        with workspace() as work:
            bench = Bench(spark, work)
            bench_orders.generate(bench.raw_file("2026-11-21"), count, days=days)
            raw_bytes = bench_orders.size(bench.raw_file("2026-11-21"))
            run = bench.curate("2026-11-21")
            report_run(title, count, run)
            if title == "initial load":
                report_size(bench, raw_bytes)
    wall, own = rows / run["seconds"], rows / run["cpu"] * (os.cpu_count() or 1)
    print(f"  target >= 20,000 rows/s on 2 CPUs: {'met' if wall >= 20_000 else 'MISSED'} "
          f"(wall clock), {'met' if own >= 20_000 else 'MISSED'} (by CPU seconds)")  # fmt: skip


@contextmanager
def workspace() -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="bench-transform-"))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
