"""Lambda entry point: an EventBridge "Object Created" event from the landing bucket in, one
file moved to raw or quarantine out. The work is in ingest.py; this only wires it up."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3

from ingest import Outcome, ingest_object
from observability import log, metric

SPECS_FILE = Path(__file__).with_name("datasets.json")


@cache
def _s3() -> Any:
    return boto3.client("s3")


@cache
def specs() -> dict[str, Any]:
    """The declared datasets, as the stack wrote them beside this file."""
    return dict(json.loads(SPECS_FILE.read_text()))


def handler(event: dict[str, Any], context: Any = None, s3: Any = None) -> dict[str, Any]:
    detail = event["detail"]
    landed_at = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).astimezone(UTC)
    outcome = ingest_object(
        s3 or _s3(),
        specs=specs(),
        landing_bucket=detail["bucket"]["name"],
        key=detail["object"]["key"],
        version_id=detail["object"].get("version-id"),
        raw_bucket=os.environ["RAW_BUCKET"],
        landed_at=landed_at,
        now=datetime.now(UTC),
        max_bytes=int(os.environ["MAX_BYTES"]),
    )
    report(outcome)
    return {
        "status": outcome.status,
        "destination": outcome.destination_key,
        "reason": outcome.reason,
        "detail": outcome.detail,
        # What was found in a file that went on to raw (rows with a wrong field count, ...).
        "notes": list(outcome.content.notes) if outcome.content else [],
    }


def report(outcome: Outcome) -> None:
    level = {"quarantined": "WARNING", "missing": "ERROR"}.get(outcome.status, "INFO")
    log(level, f"{outcome.source_key}: {outcome.status}", **outcome.record())
    dataset = outcome.dataset or "_unknown"
    if outcome.status == "ingested":
        metric("Ingested", dimensions={"Dataset": dataset})
        metric("IngestedBytes", outcome.size, dimensions={"Dataset": dataset}, unit="Bytes")
    elif outcome.status == "quarantined":
        metric("Quarantined", dimensions={"Dataset": dataset, "Reason": str(outcome.reason)})
    elif outcome.status == "duplicate":
        metric("Duplicates", dimensions={"Dataset": dataset})
    elif outcome.status == "missing":
        # An event for a file that is neither in landing nor recorded as handled: a replay
        # after landing expired it, or a key the event could not name. Someone must look.
        metric("Missing", dimensions={"Dataset": dataset})
