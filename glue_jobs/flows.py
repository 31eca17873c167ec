"""The curation and marts flows: what a job does with the data, whichever runner runs it.

Two runners call these functions: the Glue entry points (``raw_to_curated.py``,
``curated_to_analytics.py``) on ``s3://`` paths, and the local run (``local_lake``) on local
folders it copies from and back to moto's S3. A runner reads raw its own way and passes in
the quality check it has (Glue Data Quality in Glue, ``local_lake/quality.py`` locally);
everything after the read is here, once, so how a job counts, checks and writes cannot drift
between what deploys and what runs locally.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_jobs import marts, transforms

# The column a runner's read adds to every raw row: the file it came from (Glue's
# ``attachFilename``, Spark's ``input_file_name()``). The ingest date is taken from it.
SOURCE_FILE = "_source_file"
# The run's curated rows -> the names of the declared rules they fail ([] when all pass).
QualityCheck = Callable[[DataFrame], list[str]]


@dataclass(frozen=True)
class CurationRun:
    """What one curation run did: its figures (``transforms.counts``) and the failed rules."""

    figures: dict[str, Any]
    failed_rules: list[str]


def ingest_dates(df: DataFrame, source_column: str) -> Column:
    """The raw file's ``ingest_date=YYYY-MM-DD`` folder, as a date column, for every row."""
    day = F.regexp_extract(F.col(source_column), r"ingest_date=(\d{4}-\d{2}-\d{2})", 1)
    return F.to_date(F.when(day == "", None).otherwise(day))


def read_existing(spark: SparkSession, path: str) -> DataFrame | None:
    """What earlier runs wrote to curated, or None before the first run."""
    try:
        return spark.read.parquet(path)
    except Exception as error:  # Spark raises AnalysisException for a path with no data
        if "Path does not exist" in str(error) or "Unable to infer schema" in str(error):
            return None
        raise


def curate(
    raw: DataFrame,
    spec: Mapping[str, Any],
    *,
    salt: str,
    curated_path: str,
    quarantine_path: str,
    run_id: str,
    check_quality: QualityCheck,
) -> CurationRun:
    """raw rows as read (with ``SOURCE_FILE``) -> curated, quarantine or ``dq_failed/``.

    Every row gets the ingest date of its file's folder (a row without one stops the run:
    deduplication could not tell which record is latest), then ``transforms.raw_to_curated``
    splits them; ``transforms.counts`` raises unless rows in = curated + quarantined. The
    quality check sees the run's curated rows before anything is published: if a rule fails,
    they go to ``<quarantine_path>dq_failed/run=<run_id>/`` and nothing reaches curated;
    otherwise they are merged with what ``curated_path`` holds and written. Quarantined rows
    go to ``<quarantine_path>run=<run_id>/`` in both cases.
    """
    df = raw.withColumn(transforms.INGEST_DATE, ingest_dates(raw, SOURCE_FILE))
    df = df.drop(SOURCE_FILE).cache()
    rows_in = df.count()
    if rows_in and df.filter(df[transforms.INGEST_DATE].isNull()).limit(1).count():
        raise RuntimeError("raw rows without an ingest_date folder: dedup order is unknown")

    curated, quarantine = transforms.raw_to_curated(df, spec, salt=salt)
    figures = transforms.counts(rows_in, curated, quarantine)
    failed_rules = check_quality(curated) if figures["rows_written"] else []
    if failed_rules:
        curated.write.mode("append").json(f"{quarantine_path}dq_failed/run={run_id}/")
    elif figures["rows_written"]:
        write_curated(curated, spec, curated_path)
    if figures["rows_quarantined"]:
        quarantine.write.mode("append").json(f"{quarantine_path}run={run_id}/")
    return CurationRun(figures, failed_rules)


def write_curated(curated: DataFrame, spec: Mapping[str, Any], curated_path: str) -> None:
    """Rewrite the partitions the run's rows touch with each key's latest record.

    Dynamic partition overwrite replaces only the partitions written; raw stays the
    replayable record.
    """
    spark = curated.sparkSession
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    existing = read_existing(spark, curated_path)
    merged = transforms.merge_with_existing(curated, existing, spec).cache()
    merged.count()  # materialize before the partitions it was read from are replaced
    transforms.parquet_writer(
        transforms.layout_for_writing(merged, spec), spec["partition_by"]
    ).mode("overwrite").parquet(curated_path)


def write_marts(
    spark: SparkSession,
    marts_spec: Sequence[Mapping[str, Any]],
    *,
    curated_path: str,
    analytics_path: str,
) -> dict[str, int]:
    """Build each mart from the whole curated table and write it to ``<analytics_path><mart>/``.

    The partitions written are overwritten (dynamic partition overwrite), so a rerun gives
    the same result. Returns each mart's rows.
    """
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    curated = spark.read.parquet(curated_path)
    rows = {}
    for mart in marts_spec:
        table = marts.build_mart(curated, mart)
        writer = transforms.parquet_writer(table, mart["partition_by"]).mode("overwrite")
        writer.parquet(f"{analytics_path}{mart['name']}/")
        rows[mart["name"]] = table.count()
    return rows
