"""What Spark is doing, said while it does it: the local run's stages can take minutes on a
large sample, and Spark's own progress bar goes to the JVM's stderr (a log file here).

``spark_progress`` polls Spark's status tracker on a thread and prints a line for the stages
that are running, with their tasks done, at most once per ``every`` seconds and only while a
job runs: a run that is quick prints nothing extra.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from pyspark.sql import SparkSession


def running_stages(spark: SparkSession) -> list[str]:
    """Each active stage as ``stage 12 (3/8 tasks done, 2 running)``."""
    tracker = spark.sparkContext.statusTracker()
    described = []
    for stage_id in sorted(tracker.getActiveStageIds()):
        info = tracker.getStageInfo(stage_id)
        if info is not None:
            described.append(
                f"stage {stage_id} ({info.numCompletedTasks}/{info.numTasks} tasks done, "
                f"{info.numActiveTasks} running)"
            )
    return described


@contextlib.contextmanager
def spark_progress(
    spark: SparkSession, out: Callable[[str], None], every: float = 10.0
) -> Iterator[None]:
    """Print the running stages every ``every`` seconds while the block runs."""
    stop = threading.Event()

    def report() -> None:
        while not stop.wait(every):
            stages = running_stages(spark)
            if stages:
                out(f"      ... Spark is running {', '.join(stages)}")

    thread = threading.Thread(target=report, name="spark-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
