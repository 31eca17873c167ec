"""Reads a landed file once: its SHA-256 as it arrived, and every check of its content.

gzip is recognised by its magic bytes, whatever the name says, and its decompressed content
is checked. CSV is decoded strictly in the declared encoding and parsed row by row (quoted
line breaks included); JSON lines are parsed line by line. A file that fails a check is
rejected at once; rows the curation job will quarantine one by one (a wrong number of
fields, a line that is no JSON object) are counted and located, and the file is ingested.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from streams import GZIP_MAGIC, MAX_LINE_CHARS, Arrival, decode, gunzip, peek, split_lines
from validation import Rejected, Rejection, check_header

SAMPLE_RECORDS = 20  # the first records of a JSON lines file must all be JSON objects
LISTED = 20  # how many lines (or new names) a record lists
PARQUET_MAGIC = b"PAR1"

csv.field_size_limit(MAX_LINE_CHARS)  # a field may fill a line, not more


@dataclass
class Findings:
    """What reading the content found; recorded in the ledger and the log line."""

    compression: str | None = None  # "gzip", or None
    content_bytes: int = 0  # decompressed, as far as it was read
    rows: int | None = None  # data rows (CSV) or non-blank lines (JSON lines) that arrived
    rows_with_wrong_field_count: int | None = None
    wrong_field_counts: list[tuple[int, int]] = field(default_factory=list)  # (line, fields)
    lines_not_json_objects: int | None = None
    not_json_object_lines: list[int] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # names the declaration lacks
    notes: list[str] = field(default_factory=list)  # the above, for a person


@dataclass(frozen=True)
class Scan:
    sha256: str | None  # of the bytes as they arrived; None when reading stopped early
    findings: Findings
    rejection: Rejection | None


def scan(
    body: Any, spec: Mapping[str, Any], *, max_bytes: int, gz_name: bool, chunk_size: int = 0
) -> Scan:
    """Hash and check one landed object's body in a single pass."""
    arrival = Arrival(body, chunk_size)
    findings = Findings()
    head, chunks = peek(arrival.chunks(), len(GZIP_MAGIC))
    try:
        content: Iterable[bytes] = chunks
        if head == GZIP_MAGIC:
            findings.compression = "gzip"
            content = gunzip(chunks, max_bytes)
        elif gz_name:
            raise Rejected("not_gzip", "the name ends in .gz but the content is not gzip")
        CHECKS[spec["format"]](spec, _counted(content, findings), findings)
    except Rejected as rejected:
        return Scan(None, findings, rejected.rejection)
    for _ in chunks:  # a check that needs no more of the content: still hash every byte
        pass
    return Scan(arrival.digest.hexdigest(), findings, None)


def _counted(chunks: Iterable[bytes], findings: Findings) -> Iterator[bytes]:
    for chunk in chunks:
        findings.content_bytes += len(chunk)
        yield chunk
    if findings.content_bytes == 0:
        raise Rejected("empty_file", "the file decompresses to no content")


def _where(findings: Findings) -> str:
    return " of the decompressed content" if findings.compression else ""


def check_csv(spec: Mapping[str, Any], content: Iterable[bytes], findings: Findings) -> None:
    encoding = str(spec.get("encoding") or "utf-8").lower()
    lines = split_lines(decode(content, encoding, _where(findings)))
    reader = csv.reader(lines, delimiter=spec["delimiter"])
    columns = list(spec["columns"])
    try:
        first = next(reader, None)
        if first is None:
            raise Rejected("empty_file", "the file has no content")
        if spec["header"]:
            rejection, unexpected = check_header(
                [name.strip() for name in first], columns, spec.get("new_columns", "ignore")
            )
            if rejection is not None:
                raise Rejected(rejection.reason, rejection.detail)
            _note_ignored(findings, unexpected)
            expected, rows, has = len(first), 0, "the header has"
        elif len(first) != len(columns):
            raise Rejected(
                "header_mismatch",
                f"the first row has {len(first)} fields; the declaration has {len(columns)} "
                "columns",
            )
        else:
            expected, rows, has = len(columns), 1, "the declaration has"
        _count_rows(reader, expected, rows, findings)
    except csv.Error as error:
        raise Rejected("malformed_csv", f"line {reader.line_num}: {error}") from None
    if findings.rows_with_wrong_field_count:
        listed = ", ".join(f"line {n}: {k} fields" for n, k in findings.wrong_field_counts)
        more = findings.rows_with_wrong_field_count - len(findings.wrong_field_counts)
        listed += f" and {more} more" if more else ""
        findings.notes.append(
            f"rows_with_wrong_field_count: {findings.rows_with_wrong_field_count} "
            f"({listed}; {has} {expected})"
        )


def _count_rows(reader: Any, expected: int, rows: int, findings: Findings) -> None:
    """Count the data rows, and locate those whose number of fields is not ``expected``."""
    wrong, located = 0, findings.wrong_field_counts
    start = reader.line_num + 1  # a row's first physical line (a quoted field may span more)
    for row in reader:
        if row:  # a blank line is no row
            rows += 1
            if len(row) != expected:
                wrong += 1
                if len(located) < LISTED:
                    located.append((start, len(row)))
        start = reader.line_num + 1
    findings.rows, findings.rows_with_wrong_field_count = rows, wrong


def check_json_lines(spec: Mapping[str, Any], content: Iterable[bytes], findings: Findings) -> None:
    """Each line a JSON object (the first SAMPLE_RECORDS must be); JSON lines are UTF-8."""
    declared = set(spec["columns"])
    strict_keys = spec.get("new_columns") == "quarantine"
    rows = bad = 0
    new_keys: dict[str, None] = {}
    for number, line in enumerate(split_lines(decode(content, "utf-8", _where(findings))), 1):
        if not line.strip():
            continue
        rows += 1
        problem, keys = _json_object(line)
        if problem and rows <= SAMPLE_RECORDS:
            raise Rejected("malformed_json", f"line {number} {problem}")
        if problem:
            bad += 1
            if len(findings.not_json_object_lines) < LISTED:
                findings.not_json_object_lines.append(number)
            continue
        extra = [k for k in keys if k not in declared]
        if extra and strict_keys:
            raise Rejected(
                "unexpected_keys",
                f"line {number} has keys the declaration lacks: {', '.join(extra)}",
            )
        new_keys.update(dict.fromkeys(extra[:LISTED]))
    if rows == 0:
        raise Rejected("malformed_json", "the file has no JSON record, only blank lines")
    findings.rows, findings.lines_not_json_objects = rows, bad
    _note_ignored(findings, list(new_keys))
    if bad:
        listed = ", ".join(f"line {n}" for n in findings.not_json_object_lines)
        more = f" and {bad - len(findings.not_json_object_lines)} more" if bad > LISTED else ""
        findings.notes.append(f"lines_not_json_objects: {bad} ({listed}{more})")


def _json_object(line: str) -> tuple[str | None, list[str]]:
    """What is wrong with a line (None: nothing), and its keys."""
    try:
        record = json.loads(line)
    except ValueError as error:
        return f"is not valid JSON: {error}", []
    except RecursionError:
        return "is not valid JSON: nested too deeply", []
    if not isinstance(record, dict):
        return "is not a JSON object", []
    return None, list(record)


def check_parquet(spec: Mapping[str, Any], content: Iterable[bytes], findings: Findings) -> None:
    if findings.compression:
        raise Rejected(
            "not_parquet",
            "the file is gzip-compressed; Parquet compresses inside the file: land the "
            ".parquet file itself",
        )
    head = tail = b""
    for chunk in content:
        if len(head) < len(PARQUET_MAGIC):
            head += chunk[: len(PARQUET_MAGIC) - len(head)]
        tail = (tail + chunk[-len(PARQUET_MAGIC) :])[-len(PARQUET_MAGIC) :]
    if head != PARQUET_MAGIC:
        raise Rejected("not_parquet", "the file does not start with the Parquet magic bytes")
    if tail != PARQUET_MAGIC or findings.content_bytes < 2 * len(PARQUET_MAGIC):
        raise Rejected(
            "not_parquet",
            "the file does not end with the Parquet magic bytes: it is cut short (an "
            "interrupted upload?)",
        )


def _note_ignored(findings: Findings, names: list[str]) -> None:
    if names:
        findings.ignored_columns = names[:LISTED]
        findings.notes.append(
            f"ignored_columns: {', '.join(n or '(one without a name)' for n in names[:LISTED])} "
            "(the declaration lacks them; "
            'accepted as new_columns = "ignore")'
        )


CHECKS: dict[str, Callable[[Mapping[str, Any], Iterable[bytes], Findings], None]] = {
    "csv": check_csv,
    "jsonl": check_json_lines,
    "parquet": check_parquet,
}
