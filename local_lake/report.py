"""What the local run tells: its progress while it runs, its figures and results at the end.

Kept apart from the stages so that they only record what happened (``DatasetFigures``, one
``DayFigures`` per day a file arrived) and the tests can check the figures without reading the
printed text.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_lake.forget import Forgotten
from local_lake.quality import RuleResult

SHOWN_ROWS = 10


@dataclass
class DayFigures:
    """What one day's arrival did to one dataset: its files, its rows, the commit."""

    sample: str = ""
    landed: int = 0
    ingested: int = 0
    quarantined_files: Counter[str] = field(default_factory=Counter)
    raw_files: int = 0  # new raw files the curation read (the bookmark's part)
    rows_in: int = 0
    rows_curated: int = 0  # the run's curated rows: inserted + updated + unchanged
    rows_quarantined: Counter[str] = field(default_factory=Counter)
    rows_failed_quality: int = 0
    held_back_in: str = ""  # where rows that failed a rule went (dq_failed/run=<id>/)
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    snapshot_id: int | None = None  # the curated table's snapshot after the run
    rules: list[RuleResult] = field(default_factory=list)


@dataclass(frozen=True)
class TimeTravel:
    """One key the second day changed, read as of the first day's snapshot and now."""

    sql: str  # the query against the earlier snapshot, as it ran
    snapshot_id: int
    columns: list[str]  # the key, then the columns that changed
    then: tuple[Any, ...]
    now: tuple[Any, ...]
    rows_then: int
    rows_now: int


@dataclass
class DatasetFigures:
    """What happened to one dataset's data, day by day, and what its tables hold after."""

    days: dict[int, DayFigures] = field(default_factory=dict)
    table: str = ""  # the curated table, catalog.database.table in the local catalog
    table_rows: int = 0
    mart_rows: dict[str, int] = field(default_factory=dict)
    time_travel: TimeTravel | None = None

    def on(self, day: int) -> DayFigures:
        return self.days.setdefault(day, DayFigures())


@dataclass(frozen=True)
class QueryResult:
    dataset: str
    name: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


@dataclass
class Report:
    figures: dict[str, DatasetFigures]
    queries: list[QueryResult]
    seconds: float
    warehouse: Path  # the local Iceberg catalog's folder
    tables: dict[str, Path] = field(default_factory=dict)  # database.table -> its folder
    forgotten: Forgotten | None = None  # the erasure of one person, last


class Progress:
    """Numbered stages with their time, and a line per item inside the long ones."""

    def __init__(self, stages: int, out: Callable[[str], None]) -> None:
        self.stages, self.done, self.out = stages, 0, out

    @contextlib.contextmanager
    def stage(self, title: str) -> Iterator[None]:
        self.done += 1
        self.out(f"[{self.done}/{self.stages}] {title} ...")
        start = time.perf_counter()
        yield
        self.out(f"      done in {time.perf_counter() - start:.1f} s")

    def item(self, index: int, count: int, text: str) -> None:
        self.out(f"      ({index}/{count}) {text}")


def render(report: Report) -> list[str]:
    """The summary: each dataset's figures per day, its tables, then each query's result."""
    lines = ["", f"Local run finished in {report.seconds:.1f} s.", "",
             f"The curated and analytics tables are Iceberg tables in a local catalog on "
             f"{report.warehouse}", "(Iceberg's S3 file IO needs the AWS SDK for Java, not "
             "available offline); landing, raw and quarantine are moto's S3.", ""]  # fmt: skip
    header = ("dataset", "day", "landed", "ingested", "quarantined files", "raw rows",
              "curated rows", "quarantined rows", "failed quality", "inserted", "updated",
              "unchanged", "snapshot")  # fmt: skip
    rows = [
        (name, str(day), str(d.landed), str(d.ingested), _reasons(d.quarantined_files),
         str(d.rows_in), str(d.rows_curated), _reasons(d.rows_quarantined),
         str(d.rows_failed_quality), str(d.rows_inserted), str(d.rows_updated),
         str(d.rows_unchanged), _cell(d.snapshot_id))
        for name, f in report.figures.items() for day, d in sorted(f.days.items())
    ]  # fmt: skip
    lines += _table(header, rows)
    lines.append("")
    lines += _table(("dataset", "curated table", "rows now", "mart rows"), [
        (name, f.table, str(f.table_rows),
         ", ".join(f"{m} {n}" for m, n in f.mart_rows.items()) or "-")
        for name, f in report.figures.items()
    ])  # fmt: skip
    for name, f in report.figures.items():
        for day, d in sorted(f.days.items()):
            lines += ["", f"{name}, day {day}: landed {d.sample}; quality rules:"]
            lines += [f"  {r.outcome:<8} {r.rule}  ({r.detail})" for r in d.rules] or ["  none run"]
            if d.rows_failed_quality:
                lines.append(f"  -> {d.rows_failed_quality} rows held back in {d.held_back_in}; "
                             "the curated table was not touched")  # fmt: skip
        lines += _time_travel(name, f.time_travel)
    for result in report.queries:
        lines += ["", f"Query {result.name} ({len(result.rows)} rows):"]
        shown = [tuple(_cell(v) for v in row) for row in result.rows[:SHOWN_ROWS]]
        lines += _table(tuple(result.columns), shown)
        if len(result.rows) > SHOWN_ROWS:
            lines.append(f"... and {len(result.rows) - SHOWN_ROWS} more rows")
    return lines + (report.forgotten.lines() if report.forgotten else [])


def _time_travel(name: str, travel: TimeTravel | None) -> list[str]:
    if travel is None:
        return []
    values = [("as of day 1", *map(_cell, travel.then)), ("now", *map(_cell, travel.now))]
    return [
        "",
        f"{name}, time travel to day 1's snapshot {travel.snapshot_id}:",
        f"  {travel.sql}",
        *(f"  {line}" for line in _table(("", *travel.columns), values)),
        f"  rows as of day 1: {travel.rows_then}; now: {travel.rows_now}",
    ]


def _reasons(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counter.items())) or "0"


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    # A table with no rows is its header (a query that finds nothing, as after a failed rule).
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    cells = [header, tuple("-" * w for w in widths), *rows]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
