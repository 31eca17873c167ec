"""Moves one landed file to the raw zone, or to quarantine with its reason, losing nothing.

The order of steps is what makes it safe to crash anywhere and run again:

1. read the landed object (gone already: an earlier run finished, nothing to do);
2. check it (name, size, content) against its dataset's declaration;
3. copy it to its destination, under a key derived only from the event (dataset, the day it
   landed, its ETag and name), so a repeated event writes the same key and the same content
   uploaded again is found in the content index and not copied twice;
4. confirm the copy (size and source ETag);
5. only then delete the landed object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from validation import (
    SAMPLE_BYTES,
    Rejection,
    check_content,
    check_name,
    check_size,
)

QUARANTINE_PREFIX = "_quarantine"
INDEX_PREFIX = "_index"


@dataclass(frozen=True)
class Outcome:
    status: str  # ingested, quarantined, duplicate or already_processed
    source_key: str
    dataset: str | None = None
    destination_key: str | None = None
    reason: str | None = None
    detail: str | None = None
    size: int = 0


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def _head(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return dict(s3.head_object(Bucket=bucket, Key=key))
    except ClientError as error:
        if _missing(error):
            return None
        raise


def ingest_object(
    s3: Any,
    *,
    specs: Mapping[str, Any],
    landing_bucket: str,
    key: str,
    raw_bucket: str,
    landed_at: datetime,
    max_bytes: int,
) -> Outcome:
    """Validate ``key`` in the landing bucket and move it to raw or to quarantine."""
    head = _head(s3, landing_bucket, key)
    if head is None:
        return Outcome("already_processed", key)
    size = int(head["ContentLength"])
    etag = str(head["ETag"]).strip('"')

    dataset, rejection = check_name(key, specs)
    rejection = rejection or check_size(size, max_bytes)
    if rejection is None and dataset is not None:
        sample = s3.get_object(Bucket=landing_bucket, Key=key, Range=f"bytes=0-{SAMPLE_BYTES - 1}")[
            "Body"
        ].read()
        rejection = check_content(specs[dataset], sample, size)

    day = landed_at.strftime("%Y-%m-%d")
    name = key.rsplit("/", 1)[-1]
    source = {"source-bucket": landing_bucket, "source-key": key, "source-etag": etag,
              "landed-at": landed_at.isoformat()}  # fmt: skip
    if rejection is not None:
        destination = f"{QUARANTINE_PREFIX}/{dataset or '_unknown'}/ingest_date={day}/{etag}-{name}"
        _quarantine(s3, landing_bucket, key, raw_bucket, destination, rejection, source)
        outcome = Outcome("quarantined", key, dataset, destination, rejection.reason,
                          rejection.detail, size)  # fmt: skip
    else:
        assert dataset is not None
        outcome = _ingest(s3, landing_bucket, key, raw_bucket, dataset, day, name, source, size)
    s3.delete_object(Bucket=landing_bucket, Key=key)
    return outcome


def _copy(
    s3: Any,
    landing_bucket: str,
    key: str,
    bucket: str,
    destination: str,
    metadata: dict[str, str],
    tags: str | None = None,
) -> None:
    """Copy unless an earlier run already did; then confirm the copy before going on."""
    existing = _head(s3, bucket, destination)
    if (
        existing is None
        or existing.get("Metadata", {}).get("source-etag") != metadata["source-etag"]
    ):
        extra = {"Tagging": tags, "TaggingDirective": "REPLACE"} if tags else {}
        s3.copy_object(
            Bucket=bucket,
            Key=destination,
            CopySource={"Bucket": landing_bucket, "Key": key},
            MetadataDirective="REPLACE",
            Metadata=metadata,
            **extra,
        )
    copied = _head(s3, bucket, destination)
    source = _head(s3, landing_bucket, key)
    if (
        copied is None
        or source is None
        or copied["ContentLength"] != source["ContentLength"]
        or copied.get("Metadata", {}).get("source-etag") != metadata["source-etag"]
    ):
        raise RuntimeError(f"copy of s3://{landing_bucket}/{key} to {destination} not confirmed")


def _ingest(
    s3: Any,
    landing_bucket: str,
    key: str,
    raw_bucket: str,
    dataset: str,
    day: str,
    name: str,
    source: dict[str, str],
    size: int,
) -> Outcome:
    index_key = f"{INDEX_PREFIX}/{dataset}/{source['source-etag']}.json"
    index = _head(s3, raw_bucket, index_key)
    if index is not None:
        earlier = json.loads(s3.get_object(Bucket=raw_bucket, Key=index_key)["Body"].read())
        if _head(s3, raw_bucket, earlier["raw_key"]) is not None:
            # The same upload seen again (a run that stopped before deleting it) is finished;
            # other uploads of the same content are duplicates and are not copied again.
            status = "ingested" if earlier["source-key"] == key else "duplicate"
            return Outcome(status, key, dataset, earlier["raw_key"], size=size)
    destination = f"{dataset}/ingest_date={day}/{source['source-etag']}-{name}"
    _copy(s3, landing_bucket, key, raw_bucket, destination, source)
    s3.put_object(
        Bucket=raw_bucket,
        Key=index_key,
        Body=json.dumps({"raw_key": destination, **source}).encode(),
        ContentType="application/json",
    )
    return Outcome("ingested", key, dataset, destination, size=size)


def _quarantine(
    s3: Any,
    landing_bucket: str,
    key: str,
    raw_bucket: str,
    destination: str,
    rejection: Rejection,
    source: dict[str, str],
) -> None:
    metadata = {**source, "reason": rejection.reason}
    _copy(s3, landing_bucket, key, raw_bucket, destination, metadata, f"reason={rejection.reason}")
    s3.put_object(
        Bucket=raw_bucket,
        Key=f"{destination}.reason.json",
        Body=json.dumps(
            {"reason": rejection.reason, "detail": rejection.detail, **source}, indent=2
        ).encode(),
        ContentType="application/json",
    )
