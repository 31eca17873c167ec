"""The local run: land, ingest, curate on two days, build marts, query, and say what happened.

Each stage does on this machine what its AWS counterpart does after a deploy:

1. synthesize the app; read every name, job argument, table and saved query from it;
2. moto, as a server on 127.0.0.1, gets the zone buckets and the salt; a local SparkSession
   gets an Iceberg catalog on ``<workdir>/warehouse`` with the curated and analytics tables
   the stacks declare (Iceberg's S3 file IO needs the AWS SDK for Java, not available
   offline: those tables live in that folder);
3. on each day (``samples.ARRIVALS``), every dataset's file of the day (on the first, also an
   empty file, to show a rejection) is put into landing and handed to the ingest function's
   synthesized bundle, in a process of its own as in Lambda, as EventBridge would, with the
   event time of that day: the function files it in raw under that ``ingest_date=``;
4. then, per dataset, the curation job's flow (``glue_jobs.flows.curate``) runs on the raw
   files not read before (the job bookmark's part) with the dataset's quality ruleset, and
   merges them into the curated table in one commit; after the second day, one key it changed
   is read as of the first day's snapshot (time travel);
5. the marts job's flow (``glue_jobs.flows.write_marts``) rebuilds each analytics table;
6. DuckDB, standing in for Athena, runs the saved queries over the Iceberg tables, read
   through their metadata by pyiceberg;
7. one customer of the samples asks to be forgotten: each dataset's erasure job flow
   (``glue_jobs.erasure.forget``) erases them from every zone, and a search of every object
   version and table file shows they are gone (``local_lake.forget``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pyspark.sql import SparkSession

from local_lake.assembly import Assembly, stderr_to, synthesize
from local_lake.aws import moto_server
from local_lake.lake import LocalLake
from local_lake.report import DatasetFigures, Progress, Report, render
from local_lake.samples import ARRIVALS, FORGOTTEN
from local_lake.spark import spark_session
from local_lake.spark_progress import spark_progress

ROOT = Path(__file__).resolve().parent.parent
DAYS = len(ARRIVALS)


def run(
    *,
    env: str = "sandbox",
    datasets: Path = ROOT / "datasets",
    samples: Path | None = None,
    workdir: Path,
    out: Callable[[str], None] = print,
) -> Report:
    """Run the whole data path locally in ``workdir``; print progress and results to ``out``."""
    start = time.perf_counter()
    progress = Progress(5 + 2 * DAYS, out)
    with progress.stage("Synthesizing the app (the cloud assembly is what runs below)"):
        assembly = synthesize(env, datasets, workdir / "cdk.out")
    figures = {plan.dataset.name: DatasetFigures() for plan in assembly.plans}
    with moto_server(workdir / "moto.log") as aws:
        with progress.stage("Creating the buckets and the salt in moto, starting Spark, "
                            "creating the Iceberg tables in a local catalog"):  # fmt: skip
            lake = LocalLake(assembly, aws, workdir)
            with stderr_to(workdir / "spark.log"):  # the JVM's own log lines
                spark = spark_session()
            tables = lake.create_tables(spark)
            out(
                f"      {len(tables)} tables in the catalog {lake.catalog} on {lake.warehouse}; "
                "Iceberg's S3 file IO needs the AWS SDK,"
            )
            out("      so the curated and analytics tables live there, landing, raw and "
                "quarantine in moto's S3")  # fmt: skip
        with spark_progress(spark, out):
            for day in range(1, DAYS + 1):
                _day(day, lake, spark, assembly, figures, samples or datasets / "samples",
                     progress)  # fmt: skip
            _marts(lake, spark, assembly, figures, progress)
        with progress.stage("Querying with DuckDB in Athena's place: the saved queries, over "
                            "the Iceberg tables read by pyiceberg"):  # fmt: skip
            queries = lake.query()
        with progress.stage(f"Forgetting a person: {FORGOTTEN}, by each dataset's erasure job "
                            "flow, then searching every zone for them"):  # fmt: skip
            forgotten = lake.forget(spark, FORGOTTEN)
            for name, record in forgotten.records.items():
                out(f"      {name}: {record['outcome']}, the search after it found "
                    f"{len(record['verification']['found'])} places")  # fmt: skip
    report = Report(figures, queries, time.perf_counter() - start, lake.warehouse, lake.tables(),
                    forgotten)  # fmt: skip
    for line in render(report):
        out(line)
    return report


def _marts(
    lake: LocalLake,
    spark: SparkSession,
    assembly: Assembly,
    figures: dict[str, DatasetFigures],
    progress: Progress,
) -> None:
    with progress.stage("curated -> analytics: the marts, from the curated tables"):
        with_marts = [plan for plan in assembly.plans if plan.marts]
        for index, plan in enumerate(with_marts, 1):
            lake.build_marts(spark, plan, figures[plan.dataset.name])
            built = ", ".join(
                f"{m} ({n} rows)" for m, n in figures[plan.dataset.name].mart_rows.items()
            )
            progress.item(index, len(with_marts), f"{plan.dataset.name}: {built}")


def _day(
    day: int,
    lake: LocalLake,
    spark: SparkSession,
    assembly: Assembly,
    figures: dict[str, DatasetFigures],
    samples: Path,
    progress: Progress,
) -> None:
    """One day: its files land and are ingested, then each dataset's new raw files are
    curated; after a later day, a key it changed is read as of the first day's snapshot."""
    arrival = ARRIVALS[day - 1].strftime("%Y-%m-%d %H:%M UTC")
    with progress.stage(f"Day {day}, {arrival}: landing each dataset's file of the day, "
                        "then the ingest function"):  # fmt: skip
        events = lake.land(samples, day, figures)
        lake.ingest(events, {n: f.days[day] for n, f in figures.items() if day in f.days},
                    progress)  # fmt: skip
    with progress.stage(f"Day {day}: raw -> curated, the raw files not read before, one MERGE "
                        "by key per dataset"):  # fmt: skip
        for index, plan in enumerate(assembly.plans, 1):
            name, count = plan.dataset.name, len(assembly.plans)
            f = figures[name]
            if not lake.curate(spark, plan, day, f):
                progress.item(index, count, f"{name}: no new raw files, nothing to do")
                continue
            d = f.days[day]
            progress.item(index, count, f"{name}: {d.raw_files} new raw file(s), {d.rows_in} "
                          f"rows in, {d.rows_curated} curated ({d.rows_inserted} inserted, "
                          f"{d.rows_updated} updated, {d.rows_unchanged} unchanged), "
                          f"{sum(d.rows_quarantined.values())} quarantined, "
                          f"{d.rows_failed_quality} failed quality; {f.table} holds "
                          f"{f.table_rows} rows, snapshot {d.snapshot_id}")  # fmt: skip
            if day > 1:
                lake.time_travel(spark, plan, f)
                if f.time_travel:
                    t = f.time_travel
                    progress.item(index, count, f"{name}: time travel: {t.sql}")
                    shown = [f"{c} {a} -> {b}" for c, a, b in zip(t.columns, t.then, t.now,
                                                                strict=True) if a != b]  # fmt: skip
                    progress.item(index, count, f"{name}: {t.then[0]} as of day 1 -> now: "
                                  + ", ".join(shown))  # fmt: skip
