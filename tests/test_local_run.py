"""The local run (python3 tasks.py demo), end to end: the shipped samples and a dataset
onboarded from the docs without one reach the saved queries, every row is accounted for, and
the second day's file updates, moves and adds keys in the Iceberg tables, with time travel to
the first day."""

from __future__ import annotations

import csv
import gzip
import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import DATASETS, datasets_folder, docs_example_declaration

pytest.importorskip("pyspark")
pytest.importorskip("duckdb")
pytest.importorskip("pyiceberg")

import duckdb
from pyiceberg.expressions import EqualTo

from local_lake import athena, lambda_process
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
    for name, figures in report.figures.items():
        first = figures.days[1]
        assert first.landed == 2  # the sample and an empty file
        assert first.ingested == 1
        assert dict(first.quarantined_files) == {"empty_file": 1}
        # The shipped datasets have a second day's file; payments, made up, has none.
        assert set(figures.days) == ({1, 2} if name in SHIPPED else {1})
    for name in SHIPPED:
        second = report.figures[name].days[2]
        assert (second.landed, second.ingested, second.quarantined_files) == (1, 1, {})


def test_every_raw_row_is_curated_or_quarantined(local_run: tuple[Report, list[str]]) -> None:
    report, _ = local_run
    for name, figures in report.figures.items():
        for day, d in figures.days.items():
            quarantined = sum(d.rows_quarantined.values())
            assert d.rows_in > 0, (name, day)
            assert d.rows_in == d.rows_curated + quarantined, (name, day)
            assert d.rows_curated == d.rows_inserted + d.rows_updated + d.rows_unchanged
            assert d.rows_failed_quality == 0, (name, day)
            assert {r.outcome for r in d.rules} == {"Passed"}, (name, day)
    # The orders sample ends with a bad quantity and a repeated order.
    assert dict(report.figures["orders"].days[1].rows_quarantined) == {
        "uncastable": 1,
        "exact_duplicate": 1,
    }
    assert report.figures["orders"].mart_rows["orders_daily_by_segment"] > 0


def _keys(name: str, day: int) -> list[str]:
    """The primary keys of a shipped sample file, as the file lists them."""
    sample = DATASETS / "samples" / (f"{name}.csv" if day == 1 else f"{name}-day2.csv")
    if name == "orders":
        return [row["order_id"] for row in csv.DictReader(sample.open())]
    sample = sample.with_suffix(".jsonl")
    return [json.loads(line)["event_id"] for line in sample.read_text().splitlines()]


def test_each_day_inserts_and_updates_what_its_file_holds(
    local_run: tuple[Report, list[str]],
) -> None:
    """Day 2's keys already curated on day 1 are updated (the moved one too), the others
    inserted; day 2's run reads only the new raw file (the bookmark); the table holds each
    key once."""
    report, _ = local_run
    for name in SHIPPED:
        figures = report.figures[name]
        first, second = figures.days[1], figures.days[2]
        day1, day2 = set(_keys(name, 1)), _keys(name, 2)
        assert first.rows_inserted == first.rows_curated  # an empty table: all new
        assert (second.raw_files, second.rows_in) == (1, len(day2))
        assert second.rows_updated == len([k for k in day2 if k in day1]) == 2, name
        assert second.rows_inserted == len([k for k in day2 if k not in day1]) == 3, name
        assert second.rows_unchanged == 0
        assert figures.table_rows == first.rows_inserted + second.rows_inserted, name
        assert None not in (first.snapshot_id, second.snapshot_id)
        assert first.snapshot_id != second.snapshot_id
    assert report.figures["orders"].table_rows == 43  # O-10001..O-10040, O-10042..O-10044


def test_the_iceberg_tables_hold_each_key_once_with_its_latest_record(
    local_run: tuple[Report, list[str]],
) -> None:
    """Read as Athena reads them (pyiceberg, delete files applied), through DuckDB."""
    report, _ = local_run
    db = athena.connect(report.tables)

    def rows(sql: str, *parameters: str) -> list[tuple[object, ...]]:
        return db.execute(sql, list(parameters)).fetchall()

    for table, key in (("orders", "order_id"), ("clickstream", "event_id")):
        assert rows(
            f"SELECT count(*) = count(DISTINCT {key}) FROM datalake_sandbox_curated.{table}"  # noqa: S608
        ) == [(True,)]
    # The update: day 2's values, and the ingest date of day 2's arrival (the event time).
    orders = "FROM datalake_sandbox_curated.orders WHERE order_id = ?"
    assert rows(f"SELECT quantity, amount, status, ingest_date {orders}", "O-10028") == [
        (5, Decimal("133.98"), "paid", date(2026, 11, 14))
    ]
    assert rows(f"SELECT ingest_date {orders}", "O-10001") == [(date(2026, 11, 13),)]
    # O-10036, whose partition value changed on day 2, was C-2003's, whom the run's last stage
    # forgets; the event whose partition changed is once, in the new partition.
    assert rows(f"SELECT order_date {orders}", "O-10036") == []
    assert rows(
        "SELECT event_date FROM datalake_sandbox_curated.clickstream WHERE event_id = ?",
        "3b996870-a132-0b9d-4de2-f8ad4cb59aa7",
    ) == [(date(2026, 11, 3),)]
    # Day 2's merge hid the day-1 record with a delete file; the erasure at the end of the run
    # rewrote every data file with its deletes applied, so the hidden record is gone too.
    table = athena.iceberg_table(report.tables["datalake_sandbox_curated.orders"])
    files = table.inspect.files().to_pylist()
    assert {f["content"] for f in files} == {0}  # data files only: no delete file left
    data = [f["file_path"].removeprefix("file:") for f in files if f["content"] == 0]
    in_files = duckdb.execute(
        "SELECT amount FROM read_parquet(?) WHERE order_id = 'O-10028' ORDER BY amount", [data]
    ).fetchall()
    assert in_files == [(Decimal("133.98"),)]


def test_time_travel_reads_the_first_days_snapshot(local_run: tuple[Report, list[str]]) -> None:
    report, lines = local_run
    orders = report.figures["orders"]
    travel = orders.time_travel
    assert travel is not None
    assert travel.snapshot_id == orders.days[1].snapshot_id
    assert travel.columns == ["order_id", "quantity", "amount", "status"]
    assert travel.then == ("O-10028", 4, Decimal("107.18"), "placed")
    assert travel.now == ("O-10028", 5, Decimal("133.98"), "paid")
    assert (travel.rows_then, travel.rows_now) == (40, 43)
    assert f"VERSION AS OF {travel.snapshot_id} WHERE `order_id` = 'O-10028'" in travel.sql
    clicks = report.figures["clickstream"].time_travel
    assert clicks is not None
    assert (clicks.columns, clicks.then[1], clicks.now[1]) == (
        ["event_id", "duration_ms"], 2066, 4066,
    )  # fmt: skip
    # The same snapshot, read by pyiceberg as Athena's FOR VERSION AS OF would; orders' is
    # gone: the erasure at the end expired every snapshot of the tables that held C-2003.
    table = athena.iceberg_table(report.tables["datalake_sandbox_curated.clickstream"])
    then = table.scan(snapshot_id=clicks.snapshot_id,
                      row_filter=EqualTo("event_id", clicks.then[0]))  # fmt: skip
    assert then.to_arrow().column("duration_ms").to_pylist() == [2066]
    orders_table = athena.iceberg_table(report.tables["datalake_sandbox_curated.orders"])
    with pytest.raises(ValueError, match="Snapshot not found"):
        orders_table.scan(snapshot_id=travel.snapshot_id).to_arrow()
    assert f"  {travel.sql}" in lines


def test_every_dataset_reaches_its_saved_queries(local_run: tuple[Report, list[str]]) -> None:
    """Each query's totals add up to the rows the curated table holds: nothing lost or
    doubled on the way to Athena."""
    report, _ = local_run
    results = {(q.dataset, q.name): q for q in report.queries}
    assert {dataset for dataset, _ in results} == {*SHIPPED, "payments"}
    assert all(q.rows for q in report.queries)
    totals = {
        ("orders", "orders: orders_by_country_and_status"): "orders",
        ("clickstream", "clickstream: events_per_day_and_type"): "events",
        ("payments", "payments: captured_per_day_and_currency"): "payments",
    }
    for key, column in totals.items():
        result = results[key]
        index = result.columns.index(column)
        assert sum(row[index] for row in result.rows) == report.figures[key[0]].table_rows
    # The mart drops cancelled orders: its revenue per day is below the curated total.
    revenue = results[("orders", "orders: revenue_per_day")]
    assert 0 < len(revenue.rows) <= report.figures["orders"].mart_rows["orders_daily_by_segment"]
    # Day 2's orders of 2026-11-13: the three new ones and the one moved there.
    assert revenue.rows[0][:2] == (date(2026, 11, 13), 4)


def test_the_output_shows_progress_counts_and_results(local_run: tuple[Report, list[str]]) -> None:
    report, lines = local_run
    text = "\n".join(lines)
    for stage in range(1, 10):
        assert f"[{stage}/9]" in text
    assert "payments, day 1: landed payments-generated.csv (made from the declaration)" in text
    assert "Iceberg tables in a local catalog on" in text
    rows = {tuple(line.split()[:12]) for line in lines if line.startswith("orders ")}
    snapshots = [str(report.figures["orders"].days[d].snapshot_id) for d in (1, 2)]
    # dataset, day, landed, ingested, quarantined files, raw rows, curated rows, quarantined
    # rows, failed quality, then inserted, updated, unchanged, snapshot.
    assert ("orders", "1", "2", "1", "1", "empty_file", "42", "40", "1", "exact_duplicate,",
            "1", "uncastable") in rows  # fmt: skip
    assert any(line.startswith("orders ") and line.split()[-4:] == ["40", "0", "0", snapshots[0]]
               for line in lines)  # fmt: skip
    assert ("orders", "2", "1", "1", "0", "5", "5", "0", "0", "3", "2", "0") in rows
    assert any(line.split()[-1:] == [snapshots[1]] for line in lines)
    for result in report.queries:
        assert f"Query {result.name} ({len(result.rows)} rows):" in text
    assert f"Local run finished in {report.seconds:.1f} s." in text


def test_the_customer_who_asked_is_forgotten_in_every_zone_and_nobody_else(
    local_run: tuple[Report, list[str]],
) -> None:
    report, lines = local_run
    forgotten = report.forgotten
    assert forgotten is not None
    assert forgotten.value == "C-2003"
    before = "\n".join(forgotten.held_before)
    for place in (
        "/orders/ingest_date=2026-11-13/",
        "/orders/ingest_date=2026-11-14/",
        "/_quarantine/orders/processing/",
        "datalake_sandbox_curated/orders/data/",
    ):
        assert place in before, place  # fmt: skip
    assert forgotten.held_after == []
    orders = forgotten.records["orders"]
    assert orders["outcome"] == "erased"
    zones = orders["zones"]
    assert zones["curated"]["rows_deleted"] == 3  # O-10032, O-10033 and O-10036
    assert zones["raw"]["records_removed"] == 5  # four on day 1, O-10036 again on day 2
    assert zones["quarantine"]["records_removed"] == 1  # O-10041, its quantity "two"
    assert zones["analytics"]["marts"]["orders_daily_by_segment"]["snapshots_expired"] >= 1
    assert orders["verification"]["found"] == []
    assert {name: r["outcome"] for name, r in forgotten.records.items() if name != "orders"} == {
        "clickstream": "nothing_found", "payments": "nothing_found"
    }  # fmt: skip
    assert forgotten.again == {"clickstream": "nothing_found", "orders": "nothing_found",
                               "payments": "nothing_found"}  # fmt: skip
    assert all(same for _, _, same in forgotten.others.values())
    assert forgotten.others["orders"][0] == forgotten.others["orders"][1] > 30
    text = "\n".join(lines)
    assert f"Forgetting C-2003 (request {forgotten.request_id}" in text
    assert "the same request again: " in text
    assert "C-2003" not in "\n".join(json.dumps(r) for r in forgotten.records.values())


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
    landed = sum(d.landed for f in report.figures.values() for d in f.days.values())
    assert len(handled) == landed == 8  # 3 datasets on day 1 (2 files), 2 on day 2
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


def test_a_failed_rule_is_explained_not_a_crash(tmp_path: Path) -> None:
    # The orders alone, with one rule their 40 rows cannot meet: the run ends, says which rule
    # failed with its measured value and where the rows went, commits nothing to the table,
    # and the saved queries print as empty tables. The samples arrive gzipped, as exports
    # often do: read as their content, every row counted as from the plain files.
    folder = tmp_path / "datasets"
    folder.mkdir()
    samples = tmp_path / "samples"
    samples.mkdir()
    for day in ("", "-day2"):
        plain = (DATASETS / "samples" / f"orders{day}.csv").read_bytes()
        (samples / f"orders{day}.csv.gz").write_bytes(gzip.compress(plain))
    orders = (DATASETS / "orders.toml").read_text()
    failing = orders.replace("quality_rules = [\n", "quality_rules = [\n  'RowCount > 1000',\n")
    assert failing != orders
    (folder / "orders.toml").write_text(failing)
    lines: list[str] = []
    report = run(datasets=folder, samples=samples, workdir=tmp_path / "work",
                 out=lines.append)  # fmt: skip
    day1 = report.figures["orders"].days[1]
    assert (day1.sample, day1.ingested, dict(day1.quarantined_files)) == (
        "samples/orders.csv.gz", 1, {"empty_file": 1})  # fmt: skip
    assert (day1.rows_in, day1.rows_failed_quality, day1.rows_curated) == (42, 40, 0)
    assert day1.rows_in == day1.rows_failed_quality + sum(day1.rows_quarantined.values())
    assert day1.snapshot_id is None
    assert report.figures["orders"].table_rows == 0
    text = "\n".join(lines)
    assert "Failed   RowCount > 1000  (value 40)" in text
    assert "-> 40 rows held back in s3://" in text
    assert "/_quarantine/orders/processing/dq_failed/run=local-day1/;" in text
    assert "Query orders: revenue_per_day (0 rows):" in text
