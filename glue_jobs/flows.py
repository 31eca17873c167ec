"""The curation and marts flows: what a job does with the data, whichever runner runs it.

Two runners call these functions: the Glue entry points (``raw_to_curated.py``,
``curated_to_analytics.py``) on the Glue Data Catalog's Iceberg tables, and the local
run (``local_lake``) on the same tables in a local Iceberg catalog (``glue_jobs.iceberg``).
Both read raw with ``reader.read_raw`` (Glue first learns which files are new from its
bookmarked read) and pass in the quality check they have (Glue Data Quality in Glue,
``local_lake/quality.py`` locally);
everything after the read is here, once, so how a job counts, checks and writes cannot drift
between what deploys and what runs locally.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from glue_jobs import iceberg, marts, transforms

# The column a runner's read adds to every raw row: the file it came from (Glue's
# ``attachFilename``, Spark's ``input_file_name()``). The ingest date is taken from it, and
# a quarantined row names it (``source_file``).
SOURCE_FILE = transforms.SOURCE_FILE
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


def curate(
    raw: DataFrame,
    spec: Mapping[str, Any],
    *,
    salt: str,
    table: str,
    quarantine_path: str,
    run_id: str,
    check_quality: QualityCheck,
) -> CurationRun:
    """raw rows as read (with ``SOURCE_FILE``) -> the curated table, quarantine or
    ``dq_failed/``.

    Every row gets the ingest date of its file's folder (a row without one stops the run:
    deduplication could not tell which record is latest), then ``transforms.raw_to_curated``
    splits them; ``transforms.counts`` raises unless rows in = curated + quarantined. The
    quality check sees the run's curated rows before anything is published: if a rule fails,
    they go to ``<quarantine_path>dq_failed/run=<run_id>/`` and the table is not touched;
    otherwise they are merged into ``table`` (``merge_curated``: one commit). Quarantined
    rows go to ``<quarantine_path>run=<run_id>/`` in both cases.
    """
    df = raw.withColumn(transforms.INGEST_DATE, ingest_dates(raw, SOURCE_FILE))
    df = df.cache()
    read = df.agg(F.count(F.lit(1)).alias("rows"),
                  F.count(F.when(df[transforms.INGEST_DATE].isNull(), 1)).alias("undated"),
                  ).first()  # fmt: skip
    rows_in = read["rows"]  # type: ignore[index]
    if read["undated"]:  # type: ignore[index]
        raise RuntimeError("raw rows without an ingest_date folder: dedup order is unknown")

    # The transform runs once: every row labelled (curated, or quarantined with its reason),
    # cached, counted by one aggregation; the check, the merge and the quarantine write read
    # the cache. Each count() on an uncached plan would recompute the whole transform.
    labelled = transforms.labelled(df, spec, salt=salt).cache()
    figures = transforms.tally(rows_in, labelled)
    df.unpersist()
    curated, quarantine = transforms.split(labelled, spec)
    failed_rules = check_quality(curated) if figures["rows_written"] else []
    if failed_rules:
        curated.write.mode("append").json(f"{quarantine_path}dq_failed/run={run_id}/")
    else:
        figures.update(merge_curated(curated, spec, table))
    if figures["rows_quarantined"]:
        quarantine.write.mode("append").json(f"{quarantine_path}run={run_id}/")
    labelled.unpersist()
    return CurationRun(figures, failed_rules)


def _content(alias: str, columns: Sequence[str]) -> str:
    """SQL for a hash of a record's values, its lineage (the day it arrived) left out."""
    row = ", ".join(f"{alias}.`{c}`" for c in columns if c != transforms.LINEAGE)
    return f"sha2(to_json(struct({row})), 256)"


def _order(alias: str, spec: Mapping[str, Any], columns: Sequence[str]) -> str:
    """SQL for a record's place in "which is latest": ingest date, then event time, then the
    hash of its values (any fixed order, so a tie is broken the same way every time)."""
    parts = [f"{alias}.`{transforms.LINEAGE}`"]
    parts += [f"{alias}.`{name}`" for name in transforms.event_time_columns(spec)]
    parts.append(_content(alias, columns))
    return f"struct({', '.join(parts)})"


def merge_curated(curated: DataFrame, spec: Mapping[str, Any], table: str) -> dict[str, Any]:
    """Merge the run's rows into ``table`` by primary key, in one commit (or none).

    A key the table lacks is inserted; a key it holds is updated when the run's record is
    later (``_order``) and holds other values, wherever its partition: a record whose
    partition value changed moves, it is not kept twice. A record whose values the table
    already holds (sent again, even on a later day: its row keeps the day it first arrived),
    or an older one, changes nothing, so a rerun of the same raw files, or an export that
    repeats yesterday's rows, commits nothing for them. The MERGE repeats the "later"
    condition, so a record committed meanwhile by another writer is never overwritten by an
    older one; a conflicting commit fails the run (Iceberg's validation) and loses nothing.
    Returns rows inserted, updated and unchanged, and the table's snapshot after the run.
    """
    spark = curated.sparkSession
    columns = list(curated.columns)
    keys = list(spec["primary_key"])
    on = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)
    later = (
        f"{_order('s', spec, columns)} > {_order('t', spec, columns)} "
        f"AND {_content('s', columns)} <> {_content('t', columns)}"
    )
    # Views named for this call alone: two merges on one session (two threads) must never
    # read each other's rows through a shared view name.
    suffix = uuid.uuid4().hex
    run_view = f"run_rows_{suffix}"
    curated.createOrReplaceTempView(run_view)
    classified: DataFrame | None = None
    if iceberg.current_snapshot(spark, table) is None:
        # The first run: every row is new, so no join classifies them (the MERGE below is
        # the same, and still checks against a writer that committed meanwhile).
        figures: dict[str, Any] = {
            "rows_inserted": curated.count(), "rows_updated": 0, "rows_unchanged": 0
        }  # fmt: skip
        changes_view = run_view
    else:
        classified = spark.sql(
            f"SELECT s.*, CASE WHEN t.`{keys[0]}` IS NULL THEN 'inserted' "
            f"WHEN {later} THEN 'updated' ELSE 'unchanged' END AS _change "
            f"FROM {run_view} s LEFT JOIN {table} t ON {on}"
        ).cache()
        counted = classified.groupBy("_change").count().collect()
        by_change = {r["_change"]: r["count"] for r in counted}
        figures = {f"rows_{change}": by_change.get(change, 0)
                   for change in ("inserted", "updated", "unchanged")}  # fmt: skip
        changes_view = f"changed_rows_{suffix}"
        changed = classified.filter("_change != 'unchanged'").drop("_change")
        changed.createOrReplaceTempView(changes_view)
    if figures["rows_inserted"] or figures["rows_updated"]:
        names = ", ".join(f"`{c}`" for c in columns)
        spark.sql(
            f"MERGE INTO {table} t USING {changes_view} s ON {on} "
            f"WHEN MATCHED AND {later} THEN UPDATE SET "
            + ", ".join(f"t.`{c}` = s.`{c}`" for c in columns)
            + f" WHEN NOT MATCHED THEN INSERT ({names}) VALUES ("
            + ", ".join(f"s.`{c}`" for c in columns)
            + ")"
        )
    if classified is not None:
        classified.unpersist()
        spark.catalog.dropTempView(changes_view)
    spark.catalog.dropTempView(run_view)
    figures["snapshot_id"] = iceberg.current_snapshot(spark, table)
    return figures


def write_marts(
    spark: SparkSession,
    marts_spec: Sequence[Mapping[str, Any]],
    *,
    curated_table: str,
    analytics_database: str,
) -> dict[str, int]:
    """Build each mart from the whole curated table and replace the mart's table with it.

    Each mart is replaced in one commit (an Iceberg overwrite of every row): a reader sees
    the previous build or the new one, never a partition missing in between, and a rerun
    gives the same result. Returns each mart's rows.
    """
    curated = spark.table(curated_table)
    rows = {}
    for mart in marts_spec:
        table = marts.build_mart(curated, mart).cache()
        table.writeTo(f"{analytics_database}.{mart['name']}").overwrite(F.lit(True))
        rows[mart["name"]] = table.count()
        table.unpersist()
    return rows
