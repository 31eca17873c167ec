"""Structured JSON logs and CloudWatch custom metrics (embedded metric format), no library.

A log line is one JSON object. A metric line is also a log line, in CloudWatch's embedded
metric format, which CloudWatch turns into metrics without any API call from the function.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

NAMESPACE = "DataLake/Ingest"


def log(level: str, message: str, stream: TextIO | None = None, **fields: Any) -> None:
    record = {"level": level, "message": message, **fields}
    print(json.dumps(record, default=str, sort_keys=True), file=stream or sys.stdout, flush=True)


def metric(
    name: str,
    value: float = 1,
    *,
    dimensions: dict[str, str],
    unit: str = "Count",
    stream: TextIO | None = None,
) -> None:
    """Emit one metric with its dimensions, for example Quarantined by Dataset and Reason."""
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
        name: value,
        **dimensions,
    }
    print(json.dumps(document, sort_keys=True), file=stream or sys.stdout, flush=True)
