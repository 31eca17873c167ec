"""The local run: land, ingest, curate, check, build marts, query, and say what happened.

Each stage does on this machine what its AWS counterpart does after a deploy:

1. synthesize the app; read every name, job argument, table and saved query from it;
2. moto, as a server on 127.0.0.1, gets the zone buckets, the salt, the databases and the
   tables the stacks declare;
3. every dataset's sample file (and an empty file, to show a rejection) is put into landing
   and handed to the ingest function's synthesized bundle, in a process of its own as in
   Lambda, as EventBridge would;
4. per dataset, the curation job's flow (``glue_jobs.flows.curate``) runs on a local
   SparkSession over raw as read here, with the dataset's quality ruleset;
5. the marts job's flow (``glue_jobs.flows.write_marts``) builds each analytics table;
6. DuckDB, standing in for Athena, runs the saved queries over the tables the Glue catalog
   lists, reading the Parquet that S3 holds.

Spark reads and writes local folders: each read first copies the S3 prefix down, each write is
copied up, so every byte between stages passes through moto's S3.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from local_lake.assembly import stderr_to, synthesize
from local_lake.aws import moto_server
from local_lake.lake import LocalLake
from local_lake.report import DatasetFigures, Progress, Report, render
from local_lake.spark import spark_session

ROOT = Path(__file__).resolve().parent.parent


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
    progress = Progress(6, out)
    with progress.stage("Synthesizing the app (the cloud assembly is what runs below)"):
        assembly = synthesize(env, datasets, workdir / "cdk.out")
    figures = {plan.dataset.name: DatasetFigures() for plan in assembly.plans}
    with moto_server(workdir / "moto.log") as aws:
        with progress.stage("Creating the buckets, the salt and the Glue catalog in moto"):
            lake = LocalLake(assembly, aws, workdir)
        with progress.stage("Landing each dataset's sample and running the ingest function"):
            events = lake.land(samples or datasets / "samples", figures)
            lake.ingest(events, figures, progress)
        with progress.stage("Starting Spark, then raw -> curated with the quality rules"):
            with stderr_to(workdir / "spark.log"):  # the JVM's own log lines
                spark = spark_session()
            for index, plan in enumerate(assembly.plans, 1):
                lake.curate(spark, plan, figures[plan.dataset.name])
                f = figures[plan.dataset.name]
                quarantined = sum(f.rows_quarantined.values())
                progress.item(index, len(assembly.plans), f"{plan.dataset.name}: {f.rows_in} "
                              f"rows in, {f.rows_curated} curated, {quarantined} quarantined, "
                              f"{f.rows_failed_quality} failed quality")  # fmt: skip
        with progress.stage("curated -> analytics: the marts"):
            with_marts = [plan for plan in assembly.plans if plan.marts]
            for index, plan in enumerate(with_marts, 1):
                lake.build_marts(spark, plan, figures[plan.dataset.name])
                built = ", ".join(
                    f"{m} ({n} rows)" for m, n in figures[plan.dataset.name].mart_rows.items()
                )
                progress.item(index, len(with_marts), f"{plan.dataset.name}: {built}")
        with progress.stage("Querying with DuckDB in Athena's place: the saved queries"):
            queries = lake.query()
    report = Report(figures, queries, time.perf_counter() - start)
    for line in render(report):
        out(line)
    return report
