"""raw -> curated, as plain functions from DataFrame to DataFrame, driven by a dataset spec.

No ``awsglue`` here: ``flows.curate`` calls them for the Glue job (``raw_to_curated.py``) and
the local run alike, and the tests run these same functions on a local SparkSession.

Every input row ends up in exactly one of two outputs: the curated rows, or the quarantine
rows with a reason and the row's raw values. Rows in = rows curated + rows quarantined.

The spec is the dataset's declaration as the stack hands it over (``Dataset.processing_spec``):
``columns`` (name, type, nullable, pii, derived_from), ``primary_key``, ``partition_by``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from glue_jobs.casts import col, typed, well_formed

# Columns the job adds to raw rows before the transform (never declared).
INGEST_DATE = "_ingest_date"
# The lineage column of curated rows: the day their raw file landed (a reserved name).
LINEAGE = "ingest_date"
RAW = "_raw"
REASON = "_reason"
# The file a raw row came from (Glue's ``attachFilename``, Spark's ``input_file_name()``),
# which a runner's read adds: its ``ingest_date=`` folder dates the row, and quarantine names it.
SOURCE_FILE = "_source_file"
# The text of a row the reader could not split into its header's fields (Spark's corrupt
# record column; null for a row that was read whole), and the reason it is quarantined for.
MALFORMED = "_corrupt_record"
MALFORMED_REASONS = {"csv": "field_count", "jsonl": "malformed_json"}


def source_columns(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Declared columns that come from the source file (not derived)."""
    return [c for c in spec["columns"] if not c.get("derived_from")]


def standardize(df: DataFrame, spec: Mapping[str, Any]) -> DataFrame:
    """Every declared source column as a trimmed string, plus the raw row.

    A value equal, once trimmed, to one of the source's ``null_values`` (default ``[""]``:
    an empty value) is null. A declared column missing from the input becomes null (and
    fails its checks if it may not be null); an extra input column (an undeclared name in
    a CSV header) is not carried to curated, but stays in ``_raw``. A row the reader marked
    malformed (``MALFORMED``, its text as it arrived) keeps that text as its ``_raw``.
    """
    internal = (INGEST_DATE, SOURCE_FILE, MALFORMED)
    present = [c for c in df.columns if c not in internal]
    values = F.to_json(F.struct(*[col(c) for c in present]))
    if MALFORMED in df.columns:
        values = F.coalesce(F.col(MALFORMED), values)
    out = df.withColumn(RAW, values)
    nulls = list(spec["source"]["null_values"])
    for column in source_columns(spec):
        name = column["name"]
        value = col(name).cast("string") if name in df.columns else F.lit(None).cast("string")
        trimmed = F.trim(value)
        out = out.withColumn(name, F.when(trimmed.isin(*nulls), None).otherwise(trimmed))
    keep = [c["name"] for c in source_columns(spec)] + [RAW]
    return out.select(*keep, *[c for c in internal if c in df.columns])


def type_and_check(df: DataFrame, spec: Mapping[str, Any]) -> DataFrame:
    """Cast each column to its declared type; set ``_reason`` on the first failure.

    Reasons: ``field_count`` (a CSV row with more or fewer fields than its file's header)
    or ``malformed_json`` (a JSON line that is no object), both marked by the reader;
    ``null_key:<col>`` (a primary-key column is empty), ``missing_value:<col>`` (a column
    declared not nullable is empty), ``uncastable:<col>`` (a value that does not cast to the
    declared type, such as "abc" for an int or 10^20 for a decimal(12,2); "517.0" for an
    int unless the source declares ``float_integers``).
    """
    checks: list[Column] = []
    if MALFORMED in df.columns:
        reason = MALFORMED_REASONS[spec["source"]["format"]]
        checks.append(F.when(F.col(MALFORMED).isNotNull(), F.lit(reason)))
    keys = set(spec["primary_key"])
    floats = spec["source"]["float_integers"]
    for column in source_columns(spec):
        name, type_ = column["name"], column["type"]
        raw = col(name)
        if name in keys:
            checks.append(F.when(raw.isNull(), F.lit(f"null_key:{name}")))
        elif not column.get("nullable", True):
            checks.append(F.when(raw.isNull(), F.lit(f"missing_value:{name}")))
        wrong = (
            ~well_formed(name, type_, float_integers=floats)
            | typed(name, type_, float_integers=floats).isNull()
        )
        checks.append(F.when(raw.isNotNull() & wrong, F.lit(f"uncastable:{name}")))
    out = df.withColumn(REASON, F.coalesce(*checks) if checks else F.lit(None).cast("string"))
    for column in source_columns(spec):
        name = column["name"]
        out = out.withColumn(name, typed(name, column["type"], float_integers=floats))
    return out.drop(MALFORMED)


def event_time_columns(spec: Mapping[str, Any]) -> list[str]:
    """The columns that say when a record happened, latest first in importance: the source
    of each derived partition column, and each timestamp partition column. After the ingest
    date, they decide which record of a key is the latest."""
    types = {c["name"]: c["type"] for c in spec["columns"]}
    names = [c["derived_from"] for c in spec["columns"] if c.get("derived_from")]
    names += [p for p in spec["partition_by"] if types[p] == "timestamp" and p not in names]
    return names


def derive_partitions(df: DataFrame, spec: Mapping[str, Any]) -> DataFrame:
    """Partition columns computed from their source column (a date from a timestamp)."""
    for column in spec["columns"]:
        source = column.get("derived_from")
        if source:
            df = df.withColumn(column["name"], F.to_date(col(source)))
    return df


def deduplicate(df: DataFrame, spec: Mapping[str, Any]) -> DataFrame:
    """Mark all but the latest record of each primary key.

    Latest means the latest ingest date, then the latest value of the timestamp a partition
    is derived from. A row identical to the one kept is an ``exact_duplicate``; an older
    version of the key is ``superseded``. A row that already has a ``_reason`` (it failed
    its checks) keeps it and takes no part: only the rows that passed compete for a key, so
    the transform can rank every row in one pass instead of splitting and re-reading them.
    """
    data = [c["name"] for c in source_columns(spec)]
    passed = F.col(REASON).isNull() if REASON in df.columns else F.lit(True)
    order: list[Column] = []
    if INGEST_DATE in df.columns:
        order.append(F.col(INGEST_DATE).desc_nulls_last())
    order += [col(name).desc_nulls_last() for name in event_time_columns(spec)]
    order.append(F.col(RAW).desc())  # any fixed order, so reruns pick the same row
    keys = [col(k) for k in spec["primary_key"]]
    window = Window.partitionBy(*keys, passed.alias("_passed")).orderBy(*order)
    fingerprint = F.sha2(F.to_json(F.struct(*[col(c) for c in data])), 256)
    ranked = (
        df.withColumn("_rank", F.row_number().over(window))
        .withColumn("_fingerprint", fingerprint)
        .withColumn("_kept_fingerprint", F.first("_fingerprint").over(window))
    )
    reason = (
        F.when(F.col("_rank") == 1, F.lit(None).cast("string"))
        .when(F.col("_fingerprint") == F.col("_kept_fingerprint"), F.lit("exact_duplicate"))
        .otherwise(F.lit("superseded"))
    )
    if REASON in df.columns:
        reason = F.coalesce(F.col(REASON), reason)
    return ranked.withColumn(REASON, reason).drop("_rank", "_fingerprint", "_kept_fingerprint")


def protect_pii(df: DataFrame, spec: Mapping[str, Any], salt: str) -> DataFrame:
    """Hash (salted SHA-256, hex: the same value always hashes the same, so joins still work)
    or drop each personal-data column as declared; ``keep`` leaves it as it is."""
    if any(c.get("pii") == "hash" for c in spec["columns"]) and not salt:
        raise ValueError("a salt is needed to hash personal data, and none was given")
    for column in spec["columns"]:
        name, treatment = column["name"], column.get("pii")
        if treatment == "hash":
            df = df.withColumn(
                name,
                F.when(col(name).isNull(), None).otherwise(
                    F.sha2(F.concat(F.lit(salt), col(name).cast("string")), 256)
                ),
            )
        elif treatment == "drop":
            df = df.drop(name)
    return df


def labelled(df: DataFrame, spec: Mapping[str, Any], *, salt: str) -> DataFrame:
    """Every input row once, as its curated row, with the ``_reason`` it is quarantined for
    (null when it is curated) and its raw values in ``_raw``.

    Both outputs of ``split`` come from this one plan, so a runner that caches it computes
    the transform (casts, checks, the ranking of each key's records, hashing) once, however
    many times it counts, checks and writes the rows afterwards.
    """
    checked = derive_partitions(type_and_check(standardize(df, spec), spec), spec)
    return protect_pii(deduplicate(checked, spec), spec, salt)


def split(labelled_rows: DataFrame, spec: Mapping[str, Any]) -> tuple[DataFrame, DataFrame]:
    """``labelled`` rows -> (curated rows, quarantined rows)."""
    kept = labelled_rows.filter(F.col(REASON).isNull())
    curated_columns = [col(c["name"]) for c in spec["columns"] if c.get("pii") != "drop"]
    lineage = (F.col(INGEST_DATE) if INGEST_DATE in kept.columns else F.lit(None)).cast("date")
    curated = kept.select(*curated_columns, lineage.alias(LINEAGE))
    quarantine = _quarantine_rows(labelled_rows.filter(F.col(REASON).isNotNull()), spec)
    return curated, quarantine


def raw_to_curated(
    df: DataFrame, spec: Mapping[str, Any], *, salt: str
) -> tuple[DataFrame, DataFrame]:
    """The whole transform: (curated rows, quarantined rows).

    Quarantined rows carry ``dataset``, ``reason``, ``raw`` (the row as it arrived: its values
    as JSON, or the line's own text when it could not be split), the ingest date and
    ``source_file`` (the raw file it came from, when the read said); nothing of them is
    hashed or dropped, since they must be fixable.
    """
    return split(labelled(df, spec, salt=salt), spec)


def _quarantine_rows(df: DataFrame, spec: Mapping[str, Any]) -> DataFrame:
    ingest_date = F.col(INGEST_DATE) if INGEST_DATE in df.columns else F.lit(None).cast("date")
    source_file = F.col(SOURCE_FILE) if SOURCE_FILE in df.columns else F.lit(None)
    return df.select(
        F.lit(spec["name"]).alias("dataset"),
        F.col(REASON).alias("reason"),
        F.col(RAW).alias("raw"),
        ingest_date.cast("date").alias("ingest_date"),
        source_file.cast("string").alias("source_file"),
    )


def counts(rows_in: int, curated: DataFrame, quarantine: DataFrame) -> dict[str, Any]:
    """The run's figures; raises if a row went missing."""
    by_reason = {
        row["reason"].split(":")[0]: row["count"]
        for row in quarantine.groupBy(F.split("reason", ":")[0].alias("reason")).count().collect()
    }
    return _figures(rows_in, curated.count(), by_reason)


def tally(rows_in: int, labelled_rows: DataFrame) -> dict[str, Any]:
    """``counts`` of ``labelled`` rows in one aggregation (one Spark job, not three);
    raises if a row went missing."""
    reason = F.split(F.col(REASON), ":")[0].alias("reason")
    by_reason = {r["reason"]: r["count"] for r in labelled_rows.groupBy(reason).count().collect()}
    return _figures(rows_in, by_reason.pop(None, 0), by_reason)


def _figures(rows_in: int, written: int, by_reason: dict[str, int]) -> dict[str, Any]:
    quarantined = sum(by_reason.values())
    if rows_in != written + quarantined:
        raise AssertionError(
            f"rows in {rows_in} != rows written {written} + rows quarantined {quarantined}"
        )
    return {"rows_in": rows_in, "rows_written": written, "rows_quarantined": quarantined,
            "quarantined_by_reason": by_reason}  # fmt: skip
