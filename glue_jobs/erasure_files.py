"""One file's bytes without a data subject's records: what an erasure writes back to S3.

A file of the lake's landing, raw or quarantine zones is rewritten record by record, and every
byte of every other record is kept as it was: a CSV record is its physical lines (a quoted
line break included), a JSON line its line, in the file's own encoding; a gzip file is
decompressed, rewritten and compressed again. Only a Parquet file is written anew (by pyarrow),
since its bytes are pages, not records. A record is the subject's when:

- its subject column, trimmed as the curation trims it, equals the value (a file of the
  dataset's format: landing, raw, a quarantined file); the hash, for a curated row that failed
  a quality rule (``dq_failed/``: curated rows, already hashed);
- it could not be split as its file says (a CSV record with another number of fields than
  its header, a line that is no JSON object, a quarantined row's raw text), and the value
  stands in it as a whole token (not inside a longer id: ``C-20`` is not in ``C-2003``).

A file that cannot be read record by record at all (a quarantined file in a broken encoding
or a broken gzip stream) is searched as text for the token: if the value is there the whole
file must go (``Rewrite.delete``), since no record can be cut out of it; if it is not, it is
left. A Parquet file that does not open cannot be searched: ``Rewrite.unsearched`` says so
and the erasure reports it, never calls it clean.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

from glue_jobs.erasure_json import json_document, json_lines
from glue_jobs.erasure_subject import Rewrite, Subject, as_text

GZIP_MAGIC = b"\x1f\x8b"
# Objects that are one JSON document, not records: the reasons beside a quarantined file.
DOCUMENT_SUFFIXES = (".reason.json",)
PARQUET_MAGIC = b"PAR1"
# Parquet's codec names as pyarrow writes them.
_CODECS = {"UNCOMPRESSED": "NONE", "LZ4_RAW": "LZ4"}
csv.field_size_limit(sys.maxsize)


def rewrite(body: bytes, spec: Mapping[str, Any], subject: Subject, name: str = "") -> Rewrite:
    """``body`` (the object ``name`` of the dataset's folders) without the subject's records."""
    if name.endswith(DOCUMENT_SUFFIXES):
        return json_document(body, subject)
    if body[:2] == GZIP_MAGIC:
        try:
            inner = gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as error:
            return as_text(body, subject, f"a broken gzip stream ({error})")
        result = rewrite(inner, spec, subject, name.removesuffix(".gz"))
        if result.body is None:
            return result
        return Rewrite(result.removed, gzip.compress(result.body, mtime=0))
    if body[:4] == PARQUET_MAGIC:
        return _parquet(body, subject)
    if _json_lines(body):
        return json_lines(body, subject)
    source = spec["source"]
    if source["format"] == "csv":
        return _csv(body, source, subject)
    return json_lines(body, subject)


def _json_lines(body: bytes) -> bool:
    """Whether the file's first line is a JSON object (JSON lines: a source's, or the rows
    the curation quarantined, which Spark writes as JSON whatever the source)."""
    first = body.lstrip()[:1]
    return first == b"{"


def _records(text: str, delimiter: str) -> Iterator[tuple[list[str], str]]:
    """Each CSV record of ``text`` with the exact text it was read from (its lines)."""
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        # Split at \r, \n and \r\n only, as CSV does: str.splitlines would also split at
        # U+2028, a form feed or latin-1's 0x85 inside a field, cutting one record in two.
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    for fields in csv.reader(lines(), delimiter=delimiter, quotechar='"', doublequote=True):
        yield fields, "".join(consumed)
        consumed.clear()


def _csv(body: bytes, source: Mapping[str, Any], subject: Subject) -> Rewrite:
    """CSV in the declared encoding (bytes it cannot decode kept as they are): the subject
    column found by the file's header (or declared order without one)."""
    text = body.decode(source["encoding"], errors="surrogateescape")
    names = list(source["columns"])
    kept: list[str] = []
    removed = 0
    try:
        for index, (fields, raw) in enumerate(_records(text, source["delimiter"])):
            if index == 0 and source["header"]:
                names = [f.strip().lstrip("\ufeff") for f in fields]
                kept.append(raw)
                continue
            if _csv_record_holds(fields, names, subject):
                removed += 1
            else:
                kept.append(raw)
    except csv.Error as error:
        return as_text(body, subject, f"not CSV ({error})")
    if not removed:
        return Rewrite()
    return Rewrite(removed, "".join(kept).encode(source["encoding"], errors="surrogateescape"))


def _csv_record_holds(fields: list[str], names: list[str], subject: Subject) -> bool:
    if not fields or fields == [""]:
        return False
    if len(fields) != len(names):  # malformed: the columns cannot be told apart
        return any(subject.holds(f) for f in fields)
    if subject.column not in names:  # a header without it (quarantined as a mismatch)
        return any(subject.holds(f) for f in fields)
    return fields[names.index(subject.column)].strip() == subject.value


def _parquet(body: bytes, subject: Subject) -> Rewrite:
    """A Parquet file without the subject's rows, written with the codec it had."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(io.BytesIO(body))
        table = parquet.read()
        groups = parquet.metadata.num_row_groups
        codec = parquet.metadata.row_group(0).column(0).compression if groups else "ZSTD"
        if subject.column not in table.column_names:
            return Rewrite()
        text = pc.utf8_trim_whitespace(pc.cast(table[subject.column], pa.string()))
    except (pa.ArrowException, OSError) as error:
        return Rewrite(unsearched=f"a Parquet file that cannot be searched ({error})")
    match = pc.fill_null(pc.is_in(text, value_set=pa.array([subject.value, subject.hash])), False)
    removed = pc.sum(match).as_py() or 0
    if not removed:
        return Rewrite()
    # Timestamps written as INT96 (Spark's old default) are written back so; pyarrow would
    # otherwise write the nanoseconds it reads them as, which Spark and Glue refuse.
    int96 = any(parquet.schema.column(i).physical_type == "INT96"
                for i in range(len(parquet.schema)))  # fmt: skip
    out = io.BytesIO()
    pq.write_table(table.filter(pc.invert(match)), out, compression=_CODECS.get(codec, codec),
                   use_deprecated_int96_timestamps=int96)  # fmt: skip
    return Rewrite(removed, out.getvalue())
