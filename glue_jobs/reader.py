"""The one read of raw files, shared by the Glue job and the local run.

``read_raw(spark, spec, files)`` gives every row of ``files`` with each declared value as
text, the file it came from (``transforms.SOURCE_FILE``) and, for a row that could not be
split as its file says, that row's text as it arrived (``transforms.MALFORMED``), which the
transform quarantines (``field_count``, ``malformed_json``). Both runners call it, so they
decode and split rows the same way; the Glue job calls it on the files its bookmarked read
found new (``raw_to_curated``).

CSV (Spark's CSV reader, PERMISSIVE, with the corrupt-record column in the schema):

- the bytes are decoded in the declared ``encoding`` (Spark's ``encoding`` option);
- columns are mapped by name: each file's header is read first (through the session's Hadoop
  FileSystem, so ``s3://`` in Glue and local paths alike, a ``.gz`` file through Hadoop's
  codec, decoded in the declared encoding), files are grouped by header, and each group is
  read with a schema of its header's names (Spark maps a schema to the fields by position,
  so a schema in the header's own order is a mapping by name); the groups are then unioned
  by name, a column one header lacks being null in its rows. A header name the declaration
  lacks is read too: it is kept in the row's raw values, never curated;
- a row with more or fewer fields than its header is malformed: Spark 3.5 marks both, but
  only while it parses every column (with CSV column pruning, a query that selects some
  columns sees a row with a field too many as whole), so the read turns pruning off;
- fields are quoted with ``"`` and a quote inside a quoted field is doubled (RFC 4180); a
  quoted delimiter is part of its field, and so is a quoted line break: a file is read as
  whole records (``multiLine``), as the ingest function counted them, one task per file.
  Spark reads an empty field as null.

JSON lines: Spark's JSON reader, every declared name as text (a number as written, a nested
value as its JSON text), keys the declaration lacks left out; a line that is not a JSON
object is malformed. Parquet: Spark's Parquet reader, typed as written.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from glue_jobs.transforms import MALFORMED, SOURCE_FILE

# Spark's CSV column pruning parses only the fields a query selects, and then does not see a
# row's extra fields: with it off, every row is split whole and its field count checked.
SESSION_SETTINGS = {"spark.sql.csv.parser.columnPruning.enabled": "false"}
# The declared encodings by their Java names (Spark's ``encoding`` option and Hadoop's side).
CHARSETS = {"utf-8": "UTF-8", "iso-8859-1": "ISO-8859-1", "iso-8859-15": "ISO-8859-15",
            "windows-1252": "windows-1252"}  # fmt: skip
_HEADER_READERS = 16
_PERMISSIVE = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": MALFORMED}


def read_raw(spark: SparkSession, spec: Mapping[str, Any], files: Sequence[str]) -> DataFrame:
    """Every row of ``files`` (paths or URIs of one dataset's raw files), as the spec's
    ``source`` says; an empty frame of the declared columns when there are none."""
    source = spec["source"]
    if not files:
        names = [*source["columns"], SOURCE_FILE]
        return spark.createDataFrame([], StructType([StructField(n, StringType()) for n in names]))
    if source["format"] == "parquet":
        frames = [spark.read.parquet(*files)]
    elif source["format"] == "jsonl":
        frames = [spark.read.schema(_text_schema(source["columns"])).options(**_PERMISSIVE)
                  .json(list(files))]  # fmt: skip
    else:
        for key, value in SESSION_SETTINGS.items():
            spark.conf.set(key, value)
        frames = [_read_csv(spark, source, names, group)
                  for names, group in _by_header(spark, source, files).items()]  # fmt: skip
    frames = [frame.withColumn(SOURCE_FILE, F.input_file_name()) for frame in frames]
    raw = frames[0]
    for frame in frames[1:]:
        raw = raw.unionByName(frame, allowMissingColumns=True)
    return raw


def _text_schema(names: Sequence[str]) -> StructType:
    """Each name as text, and the corrupt-record column last."""
    return StructType([StructField(n, StringType()) for n in [*names, MALFORMED]])


def _read_csv(
    spark: SparkSession, source: Mapping[str, Any], names: Sequence[str], files: list[str]
) -> DataFrame:
    return (
        spark.read.schema(_text_schema(names))
        .options(header=source["header"], sep=source["delimiter"], quote='"', escape='"',
                 multiLine=True,
                 encoding=CHARSETS[source["encoding"]], **_PERMISSIVE)
        .csv(files)
    )  # fmt: skip


def _by_header(
    spark: SparkSession, source: Mapping[str, Any], files: Sequence[str]
) -> dict[tuple[str, ...], list[str]]:
    """The files by the column names of their header (the declared names when the files
    have no header); a file without a first line has no rows and is left out."""
    if not source["header"]:
        return {tuple(source["columns"]): list(files)}
    charset = CHARSETS[source["encoding"]]
    # One round trip to S3 per file: a backfill of many files reads its headers side by side.
    with ThreadPoolExecutor(max_workers=_HEADER_READERS) as pool:
        lines = list(pool.map(lambda file: first_line(spark, file, charset), files))
    groups: dict[tuple[str, ...], list[str]] = {}
    for file, line in zip(files, lines, strict=True):
        if line is not None:
            names = header_names(line, source["delimiter"], file)
            groups.setdefault(names, []).append(file)
    return groups


def header_names(line: str, delimiter: str, file: str = "") -> tuple[str, ...]:
    """The column names of a header line (quoted as the rows are, trimmed, without a BOM)."""
    fields = next(csv.reader([line.removeprefix("\ufeff")], delimiter=delimiter), [])
    names = tuple(name.strip() for name in fields)
    folded = [name.lower() for name in names]  # Spark resolves names case-insensitively
    repeated = sorted({name for name in folded if folded.count(name) > 1})
    if repeated:
        raise ValueError(f"{file}: the header names {', '.join(repeated)} more than once")
    return names


def first_line(spark: SparkSession, file: str, charset: str) -> str | None:
    """The first line of ``file`` decoded with ``charset`` (None for an empty file), read
    through the session's Hadoop FileSystem and, for ``.gz`` and other compressed files,
    the codec Hadoop picks by the name: the reader's own view of the file."""
    jvm: Any = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(file)
    stream = path.getFileSystem(conf).open(path)
    try:
        codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(conf).getCodec(path)
        if codec is not None:
            stream = codec.createInputStream(stream)
        text = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, charset))
        line = text.readLine()
        return None if line is None else str(line)
    finally:
        stream.close()
