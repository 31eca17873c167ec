"""What the local run tells: its progress while it runs, its figures and results at the end.

Kept apart from the stages so that they only record what happened (``DatasetFigures``) and
the tests can check the figures without reading the printed text.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from local_lake.quality import RuleResult

SHOWN_ROWS = 10


@dataclass
class DatasetFigures:
    """What happened to one dataset's data at each stage."""

    sample: str = ""
    landed: int = 0
    ingested: int = 0
    quarantined_files: Counter[str] = field(default_factory=Counter)
    rows_in: int = 0
    rows_curated: int = 0
    rows_quarantined: Counter[str] = field(default_factory=Counter)
    rows_failed_quality: int = 0
    rules: list[RuleResult] = field(default_factory=list)
    mart_rows: dict[str, int] = field(default_factory=dict)


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
    """The summary: each dataset's figures, then each query's result."""
    lines = ["", f"Local run finished in {report.seconds:.1f} s.", ""]
    header = ("dataset", "landed", "ingested", "quarantined files", "raw rows", "curated rows",
              "quarantined rows", "failed quality", "mart rows")  # fmt: skip
    rows = []
    for name, f in report.figures.items():
        rows.append((
            name, str(f.landed), str(f.ingested), _reasons(f.quarantined_files), str(f.rows_in),
            str(f.rows_curated), _reasons(f.rows_quarantined), str(f.rows_failed_quality),
            ", ".join(f"{m} {n}" for m, n in f.mart_rows.items()) or "-",
        ))  # fmt: skip
    lines += _table(header, rows)
    for name, f in report.figures.items():
        lines += ["", f"{name}: landed {f.sample}; quality rules:"]
        lines += [f"  {r.outcome:<8} {r.rule}  ({r.detail})" for r in f.rules] or ["  none run"]
    for result in report.queries:
        lines += ["", f"Query {result.name} ({len(result.rows)} rows):"]
        shown = [tuple(_cell(v) for v in row) for row in result.rows[:SHOWN_ROWS]]
        lines += _table(tuple(result.columns), shown)
        if len(result.rows) > SHOWN_ROWS:
            lines.append(f"... and {len(result.rows) - SHOWN_ROWS} more rows")
    return lines


def _reasons(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counter.items())) or "0"


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    cells = [header, tuple("-" * w for w in widths), *rows]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
