"""What the local run says while it works and when a declaration is wrong: minutes of Spark
never pass in silence, and a declaration error is the one line synth prints, no traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATASETS

pytest.importorskip("pyspark")

from local_lake.spark_progress import spark_progress


def test_a_long_spark_job_reports_its_tasks_while_it_runs(spark: Any) -> None:
    lines: list[str] = []
    with spark_progress(spark, lines.append, every=0.3):
        # Four tasks of a second each on two cores: two seconds in one stage.
        spark.sparkContext.parallelize(range(4), 4).foreach(lambda _: time.sleep(1))
    assert lines, "nothing was said during a two-second stage"
    assert all(line.startswith("      ... Spark is running stage ") for line in lines)
    assert any("/4 tasks done" in line for line in lines)


def test_a_quick_run_says_nothing_extra(spark: Any) -> None:
    lines: list[str] = []
    with spark_progress(spark, lines.append, every=5.0):
        spark.range(10).count()
    assert lines == []


def test_a_declaration_error_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    folder = tmp_path / "datasets"
    folder.mkdir()
    for path in DATASETS.glob("*.toml"):
        text = path.read_text()
        if path.stem == "orders":
            text += "\n[extra]\nretention_days = 30\n"
        (folder / path.name).write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "local_lake", "--datasets", str(folder)],
        cwd=DATASETS.parent, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("Dataset error: datasets/orders.toml: ")
