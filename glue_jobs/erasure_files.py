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

import base64
import csv
import gzip
import io
import json
import re
import sys
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

GZIP_MAGIC = b"\x1f\x8b"
# Objects that are one JSON document, not records: the reasons beside a quarantined file.
DOCUMENT_SUFFIXES = (".reason.json",)
ERASED = "[erased]"
PARQUET_MAGIC = b"PAR1"
# Characters an identifier or an e-mail address may continue with: a value found with one of
# them beside it is part of a longer token, not the subject's value.
_TOKEN_CHARS = r"A-Za-z0-9@._+\-"  # noqa: S105 - a character class, no password
# Parquet's codec names as pyarrow writes them.
_CODECS = {"UNCOMPRESSED": "NONE", "LZ4_RAW": "LZ4"}
csv.field_size_limit(sys.maxsize)


@dataclass(frozen=True)
class Subject:
    """The person an erasure looks for, in one dataset: the value as given (trimmed), its
    salted hash as curated holds a hashed column, and the declared subject column."""

    value: str
    hash: str
    column: str
    hashed: bool

    def holds(self, text: str) -> bool:
        """Whether the clear value (or the hash) stands in ``text`` as a whole token."""
        return any(_token(v).search(text) for v in (self.value, self.hash))

    def curated_value(self) -> str:
        """What the curated table's subject column holds for this person."""
        return self.hash if self.hashed else self.value


@dataclass(frozen=True)
class Rewrite:
    """What erasing the subject from one file's bytes gives.

    ``removed``: the subject's records cut out; ``body``: the file without them (None when
    nothing was removed, or the whole file must go); ``delete``: why the whole file must go;
    ``unsearched``: why the file could not be searched at all."""

    removed: int = 0
    body: bytes | None = None
    delete: str | None = None
    unsearched: str | None = None


def _token(value: str) -> re.Pattern[str]:
    return re.compile(f"(?<![{_TOKEN_CHARS}]){re.escape(value)}(?![{_TOKEN_CHARS}])")


def rewrite(body: bytes, spec: Mapping[str, Any], subject: Subject, name: str = "") -> Rewrite:
    """``body`` (the object ``name`` of the dataset's folders) without the subject's records."""
    if name.endswith(DOCUMENT_SUFFIXES):
        return _document(body, subject)
    if body[:2] == GZIP_MAGIC:
        try:
            inner = gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as error:
            return _as_text(body, subject, f"a broken gzip stream ({error})")
        result = rewrite(inner, spec, subject, name.removesuffix(".gz"))
        if result.body is None:
            return result
        return Rewrite(result.removed, gzip.compress(result.body, mtime=0))
    if body[:4] == PARQUET_MAGIC:
        return _parquet(body, subject)
    if _json_lines(body):
        return _lines(body, subject)
    source = spec["source"]
    if source["format"] == "csv":
        return _csv(body, source, subject)
    return _lines(body, subject)


def _json_lines(body: bytes) -> bool:
    """Whether the file's first line is a JSON object (JSON lines: a source's, or the rows
    the curation quarantined, which Spark writes as JSON whatever the source)."""
    first = body.lstrip()[:1]
    return first == b"{"


def _as_text(body: bytes, subject: Subject, why: str) -> Rewrite:
    """A file no record can be cut from: it goes whole if the value is in its text."""
    if subject.holds(body.decode("latin-1")):
        return Rewrite(delete=f"holds the subject and cannot be rewritten: {why}")
    return Rewrite()


def _text_value(value: Any) -> str | None:
    """A JSON value as the curation reads it as text: a string trimmed, a number as written."""
    if isinstance(value, str):
        return value.strip()
    if value is None or isinstance(value, bool | dict | list):
        return None
    return json.dumps(value)


def _record_holds(record: Mapping[str, Any], subject: Subject) -> bool:
    """A JSON object of the subject: a source record, a quarantined row (its ``raw`` text is
    the row as it arrived), a curated row held back by a quality rule, a Firehose error
    record (its ``rawData``, base64)."""
    if "raw" in record and "reason" in record and isinstance(record["raw"], str):
        return _raw_text_holds(record["raw"], subject)
    if "rawData" in record and isinstance(record["rawData"], str):
        try:
            return _raw_text_holds(base64.b64decode(record["rawData"]).decode("utf-8"), subject)
        except ValueError:
            return subject.holds(record["rawData"])
    found = _text_value(record.get(subject.column))
    return found is not None and found in (subject.value, subject.hash)


def _raw_text_holds(text: str, subject: Subject) -> bool:
    try:
        record = json.loads(text)
    except ValueError:
        return subject.holds(text)
    if isinstance(record, dict):
        return _record_holds(record, subject)
    return subject.holds(text)


def _lines(body: bytes, subject: Subject) -> Rewrite:
    """JSON lines: each line is a record, or several written without a line break between
    them (Firehose keeps records as they are put), cut one by one; a line that is no JSON
    is text, cut whole when the value stands in it."""
    kept: list[bytes] = []
    removed = 0
    for line in body.splitlines(keepends=True):
        text = line.decode("utf-8", errors="surrogateescape")
        spans = _values(text)
        holding = [(a, b) for a, b, value in spans if _value_holds(value, text[a:b], subject)]
        if not spans and text.strip() and subject.holds(text):
            removed += 1
            continue
        for start, end in reversed(holding):
            text = text[:start] + text[end:]
        removed += len(holding)
        if holding and not text.strip():
            continue  # every record of the line was the subject's
        kept.append(text.encode("utf-8", errors="surrogateescape") if holding else line)
    return Rewrite(removed, b"".join(kept)) if removed else Rewrite()


def _values(text: str) -> list[tuple[int, int, Any]]:
    """The JSON values of one line, with where each starts and ends; [] when the line is not
    all JSON values (then it is text)."""
    decoder, index = json.JSONDecoder(), 0
    spans: list[tuple[int, int, Any]] = []
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index == len(text):
            return spans
        try:
            value, end = decoder.raw_decode(text, index)
        except ValueError:
            return []
        spans.append((index, end, value))
        index = end


def _value_holds(value: Any, text: str, subject: Subject) -> bool:
    if isinstance(value, dict):
        return _record_holds(value, subject)
    return subject.holds(text)


def _document(body: bytes, subject: Subject) -> Rewrite:
    """One JSON document (the reasons beside a quarantined file): each text in it holding
    the value becomes ``[erased]``; the document stays valid JSON, its other fields kept."""
    try:
        document = json.loads(body)
    except ValueError:
        return _as_text(body, subject, "not the JSON document its name says")
    found = 0

    def redact(value: Any) -> Any:
        nonlocal found
        if isinstance(value, dict):
            return {k: redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [redact(v) for v in value]
        if isinstance(value, str) and subject.holds(value):
            found += 1
            return ERASED
        return value

    redacted = redact(document)
    if not found:
        return Rewrite()
    return Rewrite(found, json.dumps(redacted, indent=2).encode())


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
        return _as_text(body, subject, f"not CSV ({error})")
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
