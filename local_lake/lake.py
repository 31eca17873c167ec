"""The lake: moto's buckets, a local Iceberg catalog, and the stages that move data through them.

Each stage runs what deploys: the ingest function's synthesized bundle (in a process of its
own, ``lambda_process``), the curation job's flow and the marts job's flow
(``glue_jobs.flows``, which the Glue scripts call too). What is local is only what AWS would
do around that code: putting files into landing and sending the events, reading raw (Glue's
reader and its bookmark do not run here), and counting what happened.

Landing, raw and quarantine are moto's S3, as deployed. The curated and analytics tables are
Iceberg tables in a Hadoop catalog on ``<workdir>/warehouse``: Iceberg's S3 file IO needs the
AWS SDK for Java, which no package available offline ships, so they cannot live in moto's
buckets; each is created from its template's
``IcebergTableInput`` (``local_lake.tables.deploy_table``).
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from glue_jobs import erasure, flows, iceberg
from local_lake import athena, lambda_process, quality, time_travel
from local_lake.assembly import REGION, Assembly, DatasetPlan
from local_lake.aws import LocalAws, S3Folders, split
from local_lake.forget import Forgotten, new_request, other_rows, places_holding, run_request
from local_lake.report import DatasetFigures, DayFigures, Progress, QueryResult
from local_lake.samples import ARRIVALS, SUFFIX, generated_file, sample_file
from local_lake.spark import iceberg_catalog, read_raw
from local_lake.tables import deploy_table


class LocalLake:
    """The zone buckets and the salt the stacks declare, created in moto, and the Iceberg
    tables they declare, created in a local catalog."""

    def __init__(self, assembly: Assembly, aws: LocalAws, workdir: Path) -> None:
        self.assembly, self.aws, self.workdir = assembly, aws, workdir
        self.s3, self.secrets = aws.client("s3"), aws.client("secretsmanager")
        self.folders = S3Folders(self.s3, workdir / "s3")
        self.warehouse = workdir / "warehouse"
        self.catalog = ""
        # The raw keys each dataset's curation has read: what Glue's job bookmark records.
        self.bookmarks: dict[str, set[str]] = {plan.dataset.name: set() for plan in assembly.plans}
        location = {"LocationConstraint": REGION}
        for bucket in assembly.buckets.values():
            self.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=location)
            self.s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        self.salt = self.secrets.create_secret(
            Name=assembly.salt_secret_name, SecretString=os.urandom(24).hex()
        )["ARN"]

    def create_tables(self, spark: SparkSession) -> list[str]:
        """Each curated table and mart of the templates, in the catalog on the warehouse."""
        self.catalog = iceberg_catalog(spark, self.warehouse)
        names = []
        for table in self.assembly.tables:
            names.append(f"{self.catalog}.{table.database}.{table.name}")
            deploy_table(spark, names[-1], table.iceberg_input)
        return names

    def tables(self) -> dict[str, Path]:
        """``database.table`` -> its folder (the Hadoop catalog's ``<warehouse>/<db>/<table>``)."""
        return {f"{t.database}.{t.name}": self.warehouse / t.database / t.name
                for t in self.assembly.tables}  # fmt: skip

    def land(
        self, samples: Path, day: int, figures: dict[str, DatasetFigures]
    ) -> list[dict[str, Any]]:
        """Each dataset's file of ``day`` put into landing (on day 1, rows made from the
        declaration when it ships no sample, and an empty file); the EventBridge event of
        each, timed at the day's arrival: the ingest function files it under that date."""
        landing = self.assembly.buckets["landing"]
        staged = self.workdir / "generated"
        staged.mkdir(exist_ok=True)
        events = []
        for plan in self.assembly.plans:
            dataset = plan.dataset
            sample = sample_file(dataset, samples, day)
            if sample is None and day > 1:
                continue  # no later file shipped: nothing arrives that day
            if sample is None:
                sample = generated_file(dataset, staged)
                figures[dataset.name].on(day).sample = f"{sample.name} (made from the declaration)"
            else:
                figures[dataset.name].on(day).sample = sample.relative_to(samples.parent).as_posix()
            files = [(f"{dataset.name}/{sample.name}", sample.read_bytes())]
            if day == 1:  # shows a rejection
                files.append((f"{dataset.name}/empty-export{SUFFIX[dataset.source.format]}", b""))
            for key, body in files:
                version = self.s3.put_object(Bucket=landing, Key=key, Body=body)["VersionId"]
                events.append({
                    "source": "aws.s3",
                    "detail-type": "Object Created",
                    "time": ARRIVALS[day - 1].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "detail": {"bucket": {"name": landing},
                               "object": {"key": key, "version-id": version}},
                })  # fmt: skip
                figures[dataset.name].on(day).landed += 1
        return events

    def ingest(
        self, events: list[dict[str, Any]], figures: dict[str, DayFigures], progress: Progress
    ) -> None:
        """The function's bundle handles each event in its own process, as Lambda would;
        ``figures``: each dataset's figures of the day."""
        results = lambda_process.invoke(
            self.assembly.ingest_code,
            self.assembly.ingest_handler,
            {**self.aws.environment, **self.assembly.ingest_environment},
            events,
            self.workdir / "ingest-function.log",
        )
        for index, (event, result) in enumerate(zip(events, results, strict=True), 1):
            key = event["detail"]["object"]["key"]
            name = key.partition("/")[0]
            if result["status"] == "ingested":
                figures[name].ingested += 1
            elif result["status"] == "quarantined":
                figures[name].quarantined_files[result["reason"]] += 1
            where = result["destination"]
            progress.item(index, len(events), f"{key}: {result['status']}"
                          + (f" ({result['reason']}: {result['detail']})" if result["reason"]
                             else "")
                          + f" -> s3://{self.assembly.buckets['raw']}/{where}")  # fmt: skip
            for note in result.get("notes", []):
                progress.item(index, len(events), f"{key}: {note}")

    def _new_raw_files(self, plan: DatasetPlan, day: int) -> tuple[Path, list[str]]:
        """The dataset's raw files its curation has not read yet, copied down under their
        keys (so each path keeps its ``ingest_date=`` folder): the job bookmark's part."""
        bucket, prefix = split(plan.paths["raw_path"])
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        read = self.bookmarks[plan.dataset.name]
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])
                if o["Key"] not in read]  # fmt: skip
        folder = self.workdir / "raw-read" / f"{plan.dataset.name}-day{day}"
        for key in keys:
            (folder / key).parent.mkdir(parents=True, exist_ok=True)
            self.s3.download_file(bucket, key, str(folder / key))
        return folder, keys

    def curate(
        self, spark: SparkSession, plan: DatasetPlan, day: int, figures: DatasetFigures
    ) -> bool:
        """The curation job's flow (``flows.curate``) over the raw files not read before,
        with the local evaluation of the dataset's quality rules, merged into the curated
        table; quarantine copied back to moto. False when there was nothing new to read."""
        folder, keys = self._new_raw_files(plan, day)
        if not keys:
            return False
        figures.table = f"{self.catalog}.{plan.curated_table}"
        today = figures.on(day)
        run_id = f"local-day{day}"  # Glue's job run id: one folder per run
        raw = read_raw(spark, plan.spec, folder)
        quarantine = self.folders.download(plan.paths["quarantine_path"])

        def check_quality(rows: DataFrame) -> list[str]:
            today.rules = quality.evaluate(rows, plan.ruleset)
            return quality.failed(today.rules)

        run = flows.curate(
            raw,
            plan.spec,
            salt=self.secrets.get_secret_value(SecretId=self.salt)["SecretString"],
            table=figures.table,
            quarantine_path=f"{quarantine.as_posix()}/",
            run_id=run_id,
            check_quality=check_quality,
        )
        self.bookmarks[plan.dataset.name].update(keys)  # the job commits its bookmark either way
        self.folders.upload(quarantine, plan.paths["quarantine_path"])
        today.raw_files, today.rows_in = len(keys), run.figures["rows_in"]
        today.rows_quarantined = Counter(run.figures["quarantined_by_reason"])
        if run.failed_rules:
            today.rows_failed_quality = run.figures["rows_written"]
            today.held_back_in = f"{plan.paths['quarantine_path']}dq_failed/run={run_id}/"
        else:
            today.rows_curated = run.figures["rows_written"]
            for change in ("inserted", "updated", "unchanged"):
                setattr(today, f"rows_{change}", run.figures[f"rows_{change}"])
            today.snapshot_id = run.figures["snapshot_id"]
        figures.table_rows = spark.table(figures.table).count()
        return True

    def time_travel(self, spark: SparkSession, plan: DatasetPlan, figures: DatasetFigures) -> None:
        """A key the later days changed, as of the first day's snapshot and now."""
        first = figures.days.get(1)
        latest = iceberg.current_snapshot(spark, figures.table) if figures.table else None
        if first is None or first.snapshot_id is None or latest == first.snapshot_id:
            return
        figures.time_travel = time_travel.changed_key(
            spark, figures.table, plan.spec["primary_key"], first.snapshot_id
        )

    def build_marts(self, spark: SparkSession, plan: DatasetPlan, figures: DatasetFigures) -> None:
        """The marts job's flow (``flows.write_marts``) from the curated table."""
        curated = f"{self.catalog}.{plan.curated_table}"
        if iceberg.current_snapshot(spark, curated) is None:
            return  # nothing curated (a quality failure): the job would find no data either
        figures.mart_rows = flows.write_marts(
            spark,
            plan.marts,
            curated_table=curated,
            analytics_database=f"{self.catalog}.{plan.analytics_database}",
        )

    def forget(self, spark: SparkSession, value: str) -> Forgotten:
        """One person forgotten by every dataset's erasure job flow, with the searches before
        and after, a second request, and the other people's curated rows compared."""
        plans = [plan for plan in self.assembly.plans if plan.erasure]
        salt = self.secrets.get_secret_value(SecretId=self.salt)["SecretString"]
        hashed = erasure.subject_hash(salt, value)
        zones = {z: b for z, b in self.assembly.buckets.items() if z != "audit"}  # holds hashes
        done = Forgotten(value, requested_by=self.aws.client("sts").get_caller_identity()["Arn"])
        done.held_before = places_holding(self.s3, zones, self.warehouse, value, hashed)
        tables = {p.dataset.name: (f"{self.catalog}.{p.curated_table}", p.erasure["subject_column"],
                                   hashed if _hashed(p) else value) for p in plans}  # fmt: skip
        before = {name: other_rows(spark, *table) for name, table in tables.items()}
        request = new_request(value, done.requested_by)
        done.request_id = request.request_id
        for name, (record, uri) in run_request(spark, self.s3, plans, self.catalog, salt,
                                               request).items():  # fmt: skip
            done.records[name], done.record_uris[name] = record, uri
        # The run's own working copies of raw and quarantine files (Glue keeps none).
        for scratch in ("raw-read", "s3"):
            shutil.rmtree(self.workdir / scratch, ignore_errors=True)
        done.held_after = places_holding(self.s3, zones, self.warehouse, value, hashed)
        for name, table in tables.items():
            after = other_rows(spark, *table)
            done.others[name] = (len(before[name]), len(after), after == before[name])
        again = run_request(spark, self.s3, plans, self.catalog, salt,
                            new_request(value, done.requested_by))  # fmt: skip
        done.again = {name: record["outcome"] for name, (record, _) in again.items()}
        return done

    def query(self) -> list[QueryResult]:
        """Every saved query, on DuckDB in Athena's place, over the Iceberg tables."""
        return athena.query(self.assembly, self.tables())


def _hashed(plan: DatasetPlan) -> bool:
    column = plan.erasure["subject_column"]
    return any(c["name"] == column and c["pii"] == "hash" for c in plan.spec["columns"])
