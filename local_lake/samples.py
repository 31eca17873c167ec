"""The files the local run lands: each dataset's sample, or rows made from its declaration.

A dataset ships a sample as ``datasets/samples/<name>.<csv|jsonl|parquet>`` (a CSV or JSON-lines
sample may be gzipped: ``<name>.csv.gz``, ``<name>.jsonl.gz``), and may ship
what arrives on a later day as ``<name>-day2.<ext>`` (an update to a key it already has, a key
whose partition value changes, new keys). One declared without a sample still runs: rows are
made from its columns, within what its quality rules allow (``ColumnValues "c" in [...]``
picks from the list, a lower bound is kept), so a newly onboarded dataset can be tried before
it has real data; it has no second day.

``ARRIVALS`` are the days the files land on: the time of each EventBridge event, from which the
ingest function takes the ``ingest_date=`` folder in raw (as it does in AWS, where the event's
time is when S3 stored the object), so the second day's rows are later than the first's.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from model.datasets import Dataset

SUFFIX = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}
# Formats whose sample may also ship gzipped (``.gz`` after the format's suffix).
GZIPPED = ("csv", "jsonl")
GENERATED_ROWS = 24
_ALLOWED = re.compile(r'^ColumnValues\s+"(?P<column>[^"]+)"\s+in\s*\[(?P<values>[^\]]*)\]$')
_LOWER = re.compile(r'^ColumnValues\s+"(?P<column>[^"]+)"\s*(?P<op>>=?)\s*(?P<value>-?\d+)')
_START = datetime(2026, 11, 2, 8, 0)  # the samples' first day
# When each day's files land (the event time): the orders export of 2026-11-01..12, then the
# next night's export with 2026-11-13's orders and the changes to earlier ones.
# The customer the local run forgets: in both days' orders files (an order of theirs changes
# on day 2), among the quarantined rows (a quantity of "two") and in the daily mart.
FORGOTTEN = "C-2003"
ARRIVALS = (datetime(2026, 11, 13, 1, 30, tzinfo=UTC), datetime(2026, 11, 14, 1, 30, tzinfo=UTC))


def sample_file(dataset: Dataset, samples: Path, day: int = 1) -> Path | None:
    """The dataset's file for ``day`` (1: ``<name>.<ext>``, n: ``<name>-day<n>.<ext>``), or
    the same gzipped (``.<ext>.gz``) for CSV and JSON lines; both at once is an error."""
    stem = dataset.name if day == 1 else f"{dataset.name}-day{day}"
    path = samples / f"{stem}{SUFFIX[dataset.source.format]}"
    candidates = [path]
    if dataset.source.format in GZIPPED:
        candidates.append(path.with_name(f"{path.name}.gz"))
    found = [p for p in candidates if p.is_file()]
    if len(found) > 1:
        raise ValueError(f"two samples for one day, ship one: {', '.join(p.name for p in found)}")
    return found[0] if found else None


def extension(sample: Path) -> str:
    """A sample's extension, the format's with ``.gz`` after it for a gzipped one."""
    return "".join(sample.suffixes[-2:]) if sample.suffix == ".gz" else sample.suffix


def generated_rows(dataset: Dataset, count: int = GENERATED_ROWS) -> list[dict[str, Any]]:
    """Rows of the landed file's columns (derived columns are the job's to add)."""
    allowed: dict[str, list[str]] = {}
    lowest: dict[str, int] = {}
    for rule in dataset.quality_rules:
        if match := _ALLOWED.match(rule.strip()):
            allowed[match["column"]] = re.findall(r'"([^"]*)"', match["values"])
        elif match := _LOWER.match(rule.strip()):
            lowest[match["column"]] = int(match["value"]) + (match["op"] == ">")
    columns = [c for c in dataset.columns if not c.derived_from]
    return [
        {c.name: _value(c.name, c.type, i, allowed.get(c.name), lowest.get(c.name, 1))
         for c in columns}
        for i in range(count)
    ]  # fmt: skip


def _value(name: str, type_: str, i: int, allowed: list[str] | None, lowest: int) -> Any:
    if allowed:
        return allowed[i % len(allowed)]
    moment = _START + timedelta(hours=5 * i)
    if type_ == "string":
        return f"{name}-{i + 1:04d}"
    if type_ in ("int", "bigint"):
        return lowest + i % 7
    if type_ == "double" or type_.startswith("decimal("):
        return f"{lowest + i % 7}.25"
    if type_ == "boolean":
        return i % 2 == 0
    if type_ == "date":
        return date.isoformat(moment.date())
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # timestamp


def generated_file(dataset: Dataset, folder: Path) -> Path:
    """Write the generated rows in the dataset's landing format; return the file."""
    rows = generated_rows(dataset)
    source = dataset.source
    path = folder / f"{dataset.name}-generated{SUFFIX[source.format]}"
    delimiter = source.delimiter if source.format == "csv" else ","
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]), delimiter=delimiter)
    if source.header or source.format == "parquet":
        writer.writeheader()
    writer.writerows(rows)
    if source.format == "csv":
        path.write_text(text.getvalue())
    elif source.format == "jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:  # Parquet of text values, as exports from other systems often are: the job types them
        import duckdb

        staged = path.with_suffix(".csv")
        staged.write_text(text.getvalue())
        relation = duckdb.read_csv(str(staged), all_varchar=True)
        relation.write_parquet(str(path))
        staged.unlink()
    return path
