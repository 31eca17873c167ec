"""The local run (python3 tasks.py demo), end to end: the shipped samples and a dataset
onboarded from the docs without one reach the saved queries, and every row is accounted for."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import DATASETS, datasets_folder, docs_example_declaration

pytest.importorskip("pyspark")
pytest.importorskip("duckdb")

from local_lake import lambda_process
from local_lake.report import Report
from local_lake.run import run

SHIPPED = ("clickstream", "orders")
AWS_BEFORE: dict[str, str] = {}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("local-run") / "work"


@pytest.fixture(scope="module")
def local_run(workdir: Path) -> tuple[Report, list[str]]:
    """One run over the shipped declarations plus the docs' example (payments, no sample)."""
    folder = datasets_folder(workdir.parent / "datasets",
                             ("payments.toml", docs_example_declaration()))  # fmt: skip
    lines: list[str] = []
    AWS_BEFORE.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")})
    report = run(datasets=folder, samples=DATASETS / "samples", workdir=workdir,
                 out=lines.append)  # fmt: skip
    return report, lines


def test_every_landed_file_is_ingested_or_quarantined_with_its_reason(
    local_run: tuple[Report, list[str]],
) -> None:
    report, _ = local_run
    assert set(report.figures) == {*SHIPPED, "payments"}
    for figures in report.figures.values():
        assert figures.landed == 2  # the sample and an empty file
        assert figures.ingested == 1
        assert dict(figures.quarantined_files) == {"empty_file": 1}


def test_every_raw_row_is_curated_or_quarantined(local_run: tuple[Report, list[str]]) -> None:
    report, _ = local_run
    for name, figures in report.figures.items():
        quarantined = sum(figures.rows_quarantined.values())
        assert figures.rows_in > 0, name
        assert figures.rows_in == figures.rows_curated + quarantined, name
        assert figures.rows_failed_quality == 0, name
        assert {r.outcome for r in figures.rules} == {"Passed"}, name
    # The orders sample ends with a bad quantity and a repeated order.
    assert dict(report.figures["orders"].rows_quarantined) == {
        "uncastable": 1,
        "exact_duplicate": 1,
    }
    assert report.figures["orders"].mart_rows["orders_daily_by_segment"] > 0


def test_every_dataset_reaches_its_saved_queries(local_run: tuple[Report, list[str]]) -> None:
    """Each query's totals add up to the rows curated: nothing lost on the way to Athena."""
    report, _ = local_run
    results = {(q.dataset, q.name): q for q in report.queries}
    assert {dataset for dataset, _ in results} == {*SHIPPED, "payments"}
    totals = {
        ("orders", "orders: orders_by_country_and_status"): "orders",
        ("clickstream", "clickstream: events_per_day_and_type"): "events",
        ("payments", "payments: captured_per_day_and_currency"): "payments",
    }
    for key, column in totals.items():
        result = results[key]
        index = result.columns.index(column)
        assert sum(row[index] for row in result.rows) == report.figures[key[0]].rows_curated
    # The mart drops cancelled orders: its revenue per day is below the curated total.
    revenue = results[("orders", "orders: revenue_per_day")]
    assert 0 < len(revenue.rows) <= report.figures["orders"].mart_rows["orders_daily_by_segment"]


def test_the_output_shows_progress_counts_and_results(local_run: tuple[Report, list[str]]) -> None:
    report, lines = local_run
    text = "\n".join(lines)
    for stage in range(1, 7):
        assert f"[{stage}/6]" in text
    assert "payments: landed payments-generated.csv (made from the declaration)" in text
    assert "orders       2       1         1 empty_file" in text
    for result in report.queries:
        assert f"Query {result.name} ({len(result.rows)} rows):" in text
    assert f"Local run finished in {report.seconds:.1f} s." in text


def test_nothing_leaves_the_working_folder(local_run: tuple[Report, list[str]]) -> None:
    """The run writes only under its working folder: the repo's cdk.out is untouched."""
    assert not Path(DATASETS.parent / "cdk.out" / "Dataset-payments.template.json").exists()


def test_the_environment_is_as_it_was_after_the_run(local_run: tuple[Report, list[str]]) -> None:
    """The run points every client at its moto server only while it runs."""
    assert {k: v for k, v in os.environ.items() if k.startswith("AWS_")} == AWS_BEFORE


def test_the_function_logged_each_file_from_its_own_process(
    local_run: tuple[Report, list[str]], workdir: Path
) -> None:
    report, _ = local_run
    records = [
        json.loads(line) for line in (workdir / "ingest-function.log").read_text().splitlines()
    ]
    handled = [r for r in records if r.get("message", "").endswith(("ingested", "quarantined"))]
    assert len(handled) == sum(f.landed for f in report.figures.values())
    assert not list((workdir / "cdk.out").rglob("__pycache__"))  # the bundle left as synthesized


HANDLER = """
import importlib.util, os, sys

def handler(event, context):
    if event.get("fail"):
        raise ValueError("no such file")
    print("a log line")
    return {
        "cwd": os.getcwd(),
        "path": [p for p in sys.path if p and "site-packages" not in p and "/lib/python" not in p],
        "importable": [n for n in ("local_lake", "glue_jobs", "model", "blueprint", "tests")
                       if importlib.util.find_spec(n)],
        "variable": os.environ.get("RAW_BUCKET"),
        "event": event["n"],
    }
"""


def test_a_bundle_runs_alone_in_its_own_process(tmp_path: Path) -> None:
    """As in Lambda: the bundle folder is the working directory and the only path entry, the
    function's variables are set, and nothing of this project can be imported."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "entry.py").write_text(HANDLER)
    log = tmp_path / "function.log"
    results = lambda_process.invoke(bundle, "entry.handler", {"RAW_BUCKET": "raw"},
                                    [{"n": 1}, {"n": 2}], log)  # fmt: skip
    assert [r["event"] for r in results] == [1, 2]
    for result in results:
        assert result["cwd"] == str(bundle)
        assert result["path"] == [str(bundle)]
        assert result["importable"] == []
        assert result["variable"] == "raw"
    assert log.read_text().splitlines() == ["a log line", "a log line"]
    with pytest.raises(RuntimeError, match="after 1 of 2 events") as failure:
        lambda_process.invoke(bundle, "entry.handler", {}, [{"n": 1}, {"fail": True}], log)
    assert "ValueError: no such file" in str(failure.value)
