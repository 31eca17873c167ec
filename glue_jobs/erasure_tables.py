"""A data subject erased from an Iceberg table: its rows, the files that hold their bytes,
and the snapshots that still reach them.

A ``DELETE`` alone hides rows, it does not erase them: the tables write changes as delete
files (merge-on-read), so the deleted rows stay in their data files, masked, and so do the
earlier versions of any row a merge updated; every earlier snapshot still reads them. So, for
a table where the subject's value is in any data file of any snapshot:

1. ``DELETE`` the live rows (one commit);
2. rewrite every data file of the table with its deletes applied (``rewrite_data_files``,
   ``rewrite-all``), then drop the delete files left pointing at replaced files
   (``rewrite_position_delete_files``): no current file holds a masked row;
3. expire every snapshot but the current one: Iceberg deletes the data, delete, manifest and
   manifest-list files only they reached (this ends time travel to before the erasure);
4. remove orphan files (files under the table that no metadata references, such as those a
   failed write left) older than ``orphans_before``: Iceberg's action, not its procedure,
   whose 24-hour floor would keep a failed run's files of yesterday evening.

A table where the value is in no data file of any snapshot is left as it is, its snapshots
and time travel too: a second request for the same person finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from glue_jobs import flows
from glue_jobs.erasure_subject import Subject


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def matching(subject: Subject) -> str:
    """SQL condition: the row is the subject's (the curated column's value or hash)."""
    return f"CAST(`{subject.column}` AS STRING) = {_quoted(subject.curated_value())}"


def _jvm(spark: SparkSession) -> Any:
    """The session's JVM: Iceberg's and Hadoop's Java APIs, where SQL has no statement."""
    return spark.sparkContext._jvm


def _iceberg_table(spark: SparkSession, table: str) -> Any:
    util = _jvm(spark).org.apache.iceberg.spark.Spark3Util
    return util.loadIcebergTable(spark._jsparkSession, table)


def location(spark: SparkSession, table: str) -> str:
    """The table's folder (``s3://bucket/prefix`` in Glue, a local path in the local run)."""
    return str(_iceberg_table(spark, table).location())


def list_files(spark: SparkSession, folder: str) -> list[str]:
    """Every file under ``folder`` (a local one: the local run's catalog), through the
    session's Hadoop FileSystem."""
    path = _jvm(spark).org.apache.hadoop.fs.Path(folder)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(path):
        return []
    found, files = [], fs.listFiles(path, True)
    while files.hasNext():
        found.append(str(files.next().getPath().toString()))
    return sorted(found)


def files_holding(spark: SparkSession, files: Sequence[str], subject: Subject) -> list[str]:
    """Those of ``files`` (Parquet data files) that hold the subject in any row, live or
    masked by a delete file: read as Parquet, not through the table."""
    if not files:
        return []
    rows = spark.read.option("mergeSchema", "true").parquet(*files)
    if subject.column not in rows.columns:
        return []
    holding = rows.where(matching(subject)).select(F.input_file_name().alias("f")).distinct()
    return sorted(r["f"] for r in holding.collect())


def _data_files(spark: SparkSession, table: str, metadata_table: str) -> list[str]:
    query = f"SELECT DISTINCT file_path FROM {table}.{metadata_table} WHERE content = 0"
    return [r["file_path"] for r in spark.sql(query).collect()]


def _call(spark: SparkSession, table: str, procedure: str, arguments: str) -> list[Any]:
    catalog, identifier = table.split(".", 1)
    return spark.sql(
        f"CALL {catalog}.system.{procedure}(table => '{identifier}', {arguments})"
    ).collect()


def _snapshots(spark: SparkSession, table: str) -> int:
    return int(spark.sql(f"SELECT count(*) FROM {table}.snapshots").first()[0])  # type: ignore[index]


def expire_all_but_current(spark: SparkSession, table: str) -> dict[str, int]:
    """Every snapshot but the current one expired, with the files only they reached."""
    before = _snapshots(spark, table)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    result = _call(spark, table, "expire_snapshots",
                   f"older_than => TIMESTAMP '{now}', retain_last => 1")[0]  # fmt: skip
    return {"snapshots_expired": before - _snapshots(spark, table),
            "files_deleted": sum(int(v) for v in result.asDict().values())}  # fmt: skip


def remove_orphans(spark: SparkSession, table: str, older_than: datetime) -> int:
    """Files under the table's folder that no metadata references, written before
    ``older_than``, deleted; how many."""
    jss = spark._jsparkSession
    actions = _jvm(spark).org.apache.iceberg.spark.actions.SparkActions
    millis = int(older_than.timestamp() * 1000)
    # Listed through the table's own file IO (S3FileIO in Glue: a prefix listing of its
    # folder), not a Hadoop file system walking it folder by folder.
    iceberg_table = _iceberg_table(spark, table)
    action = actions.get(jss).deleteOrphanFiles(iceberg_table).olderThan(millis)
    # The folder with its slash: a prefix of ``orders`` alone is also ``orders_eu/``, another
    # table's files, which would all look like orphans of this one.
    folder = str(iceberg_table.location()).rstrip("/") + "/"
    result = action.location(folder).usePrefixListing(True)
    locations = result.execute().orphanFileLocations().iterator()
    count = 0
    while locations.hasNext():
        locations.next()
        count += 1
    return count


def erase_rows(
    spark: SparkSession, table: str, subject: Subject, *, orphans_before: datetime
) -> dict[str, Any]:
    """The subject erased from ``table`` (steps 1 to 4 of the module's docstring); what was
    found and done, for the audit record."""
    figures: dict[str, Any] = {"table": table, "rows_deleted": 0}
    holding = files_holding(spark, _data_files(spark, table, "all_data_files"), subject)
    figures["data_files_holding"] = len(holding)
    if holding:
        live = spark.sql(f"SELECT count(*) FROM {table} WHERE {matching(subject)}").first()
        figures["rows_deleted"] = int(live[0])  # type: ignore[index]
        if figures["rows_deleted"]:
            spark.sql(f"DELETE FROM {table} WHERE {matching(subject)}")
        rewritten = _call(spark, table, "rewrite_data_files",
                          "options => map('rewrite-all', 'true')")[0]  # fmt: skip
        figures["data_files_rewritten"] = int(rewritten["rewritten_data_files_count"])
        # The delete files now point at files the rewrite replaced: dropped, not left dangling.
        dangling = _call(spark, table, "rewrite_position_delete_files",
                         "options => map('rewrite-all', 'true')")[0]  # fmt: skip
        figures["delete_files_removed"] = int(dangling["rewritten_delete_files_count"])
        figures.update(expire_all_but_current(spark, table))
    figures["orphan_files_removed"] = remove_orphans(spark, table, orphans_before)
    return figures


def rebuild_marts(
    spark: SparkSession,
    marts: Sequence[Mapping[str, Any]],
    *,
    curated_table: str,
    analytics_database: str,
) -> dict[str, dict[str, int]]:
    """Each mart rebuilt from the curated table as it is now (the marts job's own flow),
    then its earlier builds expired: they aggregated the erased rows."""
    before = {m["name"]: _rows(spark, f"{analytics_database}.{m['name']}") for m in marts}
    after = flows.write_marts(
        spark, marts, curated_table=curated_table, analytics_database=analytics_database
    )
    return {
        name: {"rows_before": before[name], "rows_after": rows,
               **expire_all_but_current(spark, f"{analytics_database}.{name}")}
        for name, rows in after.items()
    }  # fmt: skip


def _rows(spark: SparkSession, table: str) -> int:
    return int(spark.table(table).count())


def search(
    spark: SparkSession, table: str, files: Iterable[str], subject: Subject
) -> tuple[int, list[str]]:
    """After an erasure: where the subject still is in ``table``: each snapshot that reads a
    row of it, and each of ``files`` (every Parquet file under the table's folder,
    referenced or not) that holds it; with the number of snapshots searched (none in a mart,
    which has no personal-data column: its files are searched)."""
    found = []
    snapshot_ids = [r[0] for r in spark.sql(f"SELECT snapshot_id FROM {table}.snapshots").collect()]
    if subject.column not in spark.table(table).columns:
        snapshot_ids = []
    for snapshot in snapshot_ids:
        rows = spark.sql(
            f"SELECT count(*) FROM {table} VERSION AS OF {snapshot} WHERE {matching(subject)}"
        ).first()
        if rows[0]:  # type: ignore[index]
            found.append(f"{table} snapshot {snapshot}: {rows[0]} rows")  # type: ignore[index]
    data = [f for f in files if f.endswith(".parquet") and not f.endswith("-deletes.parquet")]
    found += [f"{file}: rows in the file" for file in files_holding(spark, data, subject)]
    return len(snapshot_ids), found
