"""The lake in moto, and the stages that move data through it, each with the deployed code.

Each stage runs what deploys: the ingest function's synthesized bundle (in a process of its
own, ``lambda_process``), the curation job's flow and the marts job's flow
(``glue_jobs.flows``, which the Glue scripts call too). What is local is only what AWS would
do around that code: putting files into landing and sending the events, reading raw (Glue's
reader does not run here), copying S3 prefixes to the local folders Spark reads and writes
and back, and counting what happened.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from glue_jobs import flows
from local_lake import athena, lambda_process, quality
from local_lake.assembly import REGION, Assembly, DatasetPlan
from local_lake.aws import LocalAws, S3Folders
from local_lake.report import DatasetFigures, Progress, QueryResult
from local_lake.samples import generated_file, sample_file
from local_lake.spark import read_raw

RUN_ID = "local"  # the run=<id> folder of quarantined and dq_failed rows (Glue's job run id)


class LocalLake:
    """The zone buckets, the salt and the Glue catalog the stacks declare, created in moto."""

    def __init__(self, assembly: Assembly, aws: LocalAws, workdir: Path) -> None:
        self.assembly, self.aws, self.workdir = assembly, aws, workdir
        self.s3, self.glue = aws.client("s3"), aws.client("glue")
        self.secrets = aws.client("secretsmanager")
        self.folders = S3Folders(self.s3, workdir / "s3")
        location = {"LocationConstraint": REGION}
        for bucket in assembly.buckets.values():
            self.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration=location)
            self.s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        for database in assembly.databases:
            self.glue.create_database(DatabaseInput=database)
        for database_name, table in assembly.tables:
            self.glue.create_table(DatabaseName=database_name, TableInput=table)
        self.salt = self.secrets.create_secret(
            Name=assembly.salt_secret_name, SecretString=os.urandom(24).hex()
        )["ARN"]

    def land(self, samples: Path, figures: dict[str, DatasetFigures]) -> list[dict[str, Any]]:
        """Each dataset's sample (or rows made from its declaration) and an empty file, put
        into landing; the EventBridge event of each."""
        landing = self.assembly.buckets["landing"]
        staged = self.workdir / "generated"
        staged.mkdir(exist_ok=True)
        events = []
        for plan in self.assembly.plans:
            dataset = plan.dataset
            sample = sample_file(dataset, samples)
            if sample is None:
                sample = generated_file(dataset, staged)
                figures[dataset.name].sample = f"{sample.name} (made from the declaration)"
            else:
                figures[dataset.name].sample = sample.relative_to(samples.parent).as_posix()
            for key, body in (
                (f"{dataset.name}/{sample.name}", sample.read_bytes()),
                (f"{dataset.name}/empty-export{sample.suffix}", b""),  # shows a rejection
            ):
                version = self.s3.put_object(Bucket=landing, Key=key, Body=body)["VersionId"]
                events.append({
                    "source": "aws.s3",
                    "detail-type": "Object Created",
                    "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "detail": {"bucket": {"name": landing},
                               "object": {"key": key, "version-id": version}},
                })  # fmt: skip
                figures[dataset.name].landed += 1
        return events

    def ingest(
        self, events: list[dict[str, Any]], figures: dict[str, DatasetFigures], progress: Progress
    ) -> None:
        """The function's bundle handles each event in its own process, as Lambda would."""
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
                          + (f" ({result['reason']})" if result["reason"] else "")
                          + f" -> s3://{self.assembly.buckets['raw']}/{where}")  # fmt: skip

    def curate(self, spark: SparkSession, plan: DatasetPlan, figures: DatasetFigures) -> None:
        """The curation job's flow (``flows.curate``) over raw as read here, with the local
        evaluation of the dataset's quality rules; curated and quarantine copied back."""
        paths = plan.paths
        raw = read_raw(
            spark, plan.spec, paths["raw_path"], self.folders.download(paths["raw_path"])
        )
        curated = self.folders.download(paths["curated_path"])
        quarantine = self.folders.download(paths["quarantine_path"])

        def check_quality(rows: DataFrame) -> list[str]:
            figures.rules = quality.evaluate(rows, plan.ruleset)
            return quality.failed(figures.rules)

        run = flows.curate(
            raw,
            plan.spec,
            salt=self.secrets.get_secret_value(SecretId=self.salt)["SecretString"],
            curated_path=str(curated),
            quarantine_path=f"{quarantine.as_posix()}/",
            run_id=RUN_ID,
            check_quality=check_quality,
        )
        self.folders.upload(curated, paths["curated_path"])
        self.folders.upload(quarantine, paths["quarantine_path"])
        figures.rows_in = run.figures["rows_in"]
        figures.rows_quarantined = Counter(run.figures["quarantined_by_reason"])
        if run.failed_rules:
            figures.rows_failed_quality = run.figures["rows_written"]
        else:
            figures.rows_curated = run.figures["rows_written"]

    def build_marts(self, spark: SparkSession, plan: DatasetPlan, figures: DatasetFigures) -> None:
        """The marts job's flow (``flows.write_marts``) from curated; analytics copied back."""
        curated = self.folders.download(plan.paths["curated_path"])
        if not any(curated.rglob("*.parquet")):
            return  # nothing curated (a quality failure): the job would find no data either
        analytics = self.folders.download(plan.paths["analytics_path"])
        figures.mart_rows = flows.write_marts(
            spark,
            plan.marts,
            curated_path=str(curated),
            analytics_path=f"{analytics.as_posix()}/",
        )
        self.folders.upload(analytics, plan.paths["analytics_path"])

    def query(self) -> list[QueryResult]:
        """Every saved query, on DuckDB in Athena's place."""
        return athena.query(self.assembly, self.glue, self.folders)
