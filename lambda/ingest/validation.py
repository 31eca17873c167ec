"""Checks a landed file against its dataset's declaration, before anything is copied.

Each check returns a reason code (stable, used in metrics, tags and the reason object) and a
sentence a person can act on; ``None`` means the file passed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# How much of a file content checks read: enough for a header or a sample of records.
SAMPLE_BYTES = 64 * 1024
SAMPLE_RECORDS = 20
EXTENSIONS = {"csv": (".csv",), "jsonl": (".jsonl", ".json", ".ndjson"), "parquet": (".parquet",)}


@dataclass(frozen=True)
class Rejection:
    reason: str  # a code: unknown_dataset, wrong_extension, empty_file, too_large, ...
    detail: str  # what was found and what was expected


def check_name(key: str, specs: Mapping[str, Any]) -> tuple[str | None, Rejection | None]:
    """The dataset a key belongs to (its first folder), and whether its extension fits."""
    dataset, _, rest = key.partition("/")
    if not rest or dataset not in specs:
        known = ", ".join(sorted(specs))
        return None, Rejection(
            "unknown_dataset",
            f"{key!r} is not under a declared dataset's folder; expected <dataset>/<file> with "
            f"a dataset among {known}",
        )
    allowed = EXTENSIONS[specs[dataset]["format"]]
    if not rest.lower().endswith(allowed):
        return dataset, Rejection(
            "wrong_extension",
            f"{key!r} does not end in {' or '.join(allowed)}, as a {specs[dataset]['format']} "
            "file must",
        )
    return dataset, None


def check_size(size: int, max_bytes: int) -> Rejection | None:
    if size == 0:
        return Rejection("empty_file", "the file has no content")
    if size > max_bytes:
        return Rejection("too_large", f"the file has {size} bytes; the limit is {max_bytes} bytes")
    return None


def check_content(spec: Mapping[str, Any], sample: bytes, size: int) -> Rejection | None:
    """Format-specific checks on the first bytes of the file."""
    if spec["format"] == "csv":
        return _check_csv(spec, sample)
    if spec["format"] == "jsonl":
        return _check_json_lines(sample, complete=len(sample) >= size)
    return _check_parquet(sample)


def _check_csv(spec: Mapping[str, Any], sample: bytes) -> Rejection | None:
    text = sample.decode("utf-8-sig", errors="replace")
    first_line = text.splitlines()[0] if text else ""
    if not spec["header"]:
        fields = next(csv.reader(io.StringIO(first_line), delimiter=spec["delimiter"]), [])
        if len(fields) != len(spec["columns"]):
            return Rejection(
                "header_mismatch",
                f"the first row has {len(fields)} fields; the declaration has "
                f"{len(spec['columns'])} columns",
            )
        return None
    header = next(csv.reader(io.StringIO(first_line), delimiter=spec["delimiter"]), [])
    header = [name.strip() for name in header]
    if header != list(spec["columns"]):
        return Rejection(
            "header_mismatch",
            f"the header is {header}; the declaration expects {list(spec['columns'])}",
        )
    return None


def _check_json_lines(sample: bytes, *, complete: bool) -> Rejection | None:
    lines = sample.split(b"\n")
    if not complete:
        lines = lines[:-1]  # the last line of a partial read may be cut short
    checked = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            return Rejection("malformed_json", f"line {number} is not valid JSON: {error}")
        if not isinstance(record, dict):
            return Rejection("malformed_json", f"line {number} is not a JSON object")
        checked += 1
        if checked >= SAMPLE_RECORDS:
            break
    if checked == 0:
        return Rejection("malformed_json", "no JSON record in the first bytes of the file")
    return None


def _check_parquet(sample: bytes) -> Rejection | None:
    if not sample.startswith(b"PAR1"):
        return Rejection("not_parquet", "the file does not start with the Parquet magic bytes")
    return None
