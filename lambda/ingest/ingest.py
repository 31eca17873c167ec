"""Moves one landed file to the raw zone, or to quarantine with its reason, losing nothing.

The order of steps is what makes it safe to crash anywhere and run again:

1. find the landed object version the event names (gone: look it up in the ledger);
2. check it (name, size, content) against its dataset's declaration, reading it once: the
   same read hashes the bytes as they arrived (content.py);
3. copy that exact version to its destination, under a key derived only from the event and
   the content (so a repeated event writes the same key); a valid file's content is first
   claimed in a content index, so the same content uploaded again, even at the same moment,
   is not copied twice;
4. confirm the copy (size and content hash);
5. record the outcome in the ledger, and only then delete the landed version.

Bookkeeping lives in the raw bucket under ``_ingest/`` (never crawled): ``index/`` maps a
dataset's content hash to its raw object; ``ledger/`` holds one record per landed upload.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote_plus

from botocore.exceptions import ClientError

from content import Findings, Scan, scan
from validation import Rejection, check_name, check_size

QUARANTINE_PREFIX = "_quarantine"
INDEX_PREFIX = "_ingest/index"
LEDGER_PREFIX = "_ingest/ledger"


@dataclass(frozen=True)
class Outcome:
    # ingested, quarantined, duplicate, already_processed, or missing
    status: str
    source_key: str
    dataset: str | None = None
    destination_key: str | None = None
    reason: str | None = None
    detail: str | None = None
    size: int = 0
    content: Findings | None = None  # what reading the file found: rows, compression, ...

    def record(self) -> dict[str, Any]:
        """One flat record for the ledger and the log line."""
        record = asdict(self)
        content = record.pop("content") or {}
        return {**record, **content}


@dataclass(frozen=True)
class Landed:
    bucket: str
    key: str
    version_id: str | None
    size: int
    etag: str

    def source(self) -> dict[str, Any]:
        return {
            "Bucket": self.bucket,
            "Key": self.key,
            **({"VersionId": self.version_id} if self.version_id else {}),
        }

    def metadata(self, landed_at: datetime, ingested_at: datetime) -> dict[str, str]:
        """S3 metadata must be ASCII: the key is stored URL-encoded."""
        return {
            "source-bucket": self.bucket,
            "source-key": quote(self.key, safe="/"),
            "source-version": self.version_id or "null",
            "source-etag": self.etag,
            "landed-at": landed_at.isoformat(),
            "ingested-at": ingested_at.isoformat(),
        }


class ContentClaimedError(RuntimeError):
    """Another upload of the same content is being ingested right now: retry later."""


def _missing(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    return code in ("404", "NoSuchKey", "NotFound", "NoSuchVersion")


def _head(s3: Any, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any] | None:
    try:
        extra = {"VersionId": version_id} if version_id else {}
        return dict(s3.head_object(Bucket=bucket, Key=key, **extra))
    except ClientError as error:
        if _missing(error):
            return None
        raise


def _ledger_key(bucket: str, key: str, version_id: str | None) -> str:
    upload = hashlib.sha256(f"{bucket}\n{key}\n{version_id}".encode()).hexdigest()
    return f"{LEDGER_PREFIX}/{upload}.json"


def locate(s3: Any, bucket: str, key: str, version_id: str | None) -> Landed | None:
    """The landed version; the key as the event gives it, or URL-decoded."""
    for candidate in dict.fromkeys((key, unquote_plus(key))):
        head = _head(s3, bucket, candidate, version_id)
        if head is not None:
            etag = str(head["ETag"]).strip('"')
            return Landed(bucket, candidate, version_id, int(head["ContentLength"]), etag)
    return None


def ingest_object(
    s3: Any,
    *,
    specs: Mapping[str, Any],
    landing_bucket: str,
    key: str,
    version_id: str | None,
    raw_bucket: str,
    landed_at: datetime,
    now: datetime,
    max_bytes: int,
) -> Outcome:
    """Validate one landed version and move it to raw or to quarantine."""
    landed = locate(s3, landing_bucket, key, version_id)
    if landed is None:
        for candidate in dict.fromkeys((key, unquote_plus(key))):
            if _head(s3, raw_bucket, _ledger_key(landing_bucket, candidate, version_id)):
                return Outcome("already_processed", candidate)
        return Outcome("missing", key, detail="the landed object is gone and no record of it")

    dataset, rejection = check_name(landed.key, specs)
    rejection = rejection or check_size(landed.size, max_bytes)
    read = None
    if rejection is None and dataset is not None:
        read = _read(s3, landed, specs[dataset], max_bytes)
        rejection = read.rejection
    findings = read.findings if read else None

    day = landed_at.strftime("%Y-%m-%d")
    name = landed.key.rsplit("/", 1)[-1]
    if findings and findings.compression == "gzip" and not name.lower().endswith(".gz"):
        name += ".gz"  # Spark and Glue decompress by the extension
    metadata = landed.metadata(landed_at, now)
    if rejection is not None:
        folder = dataset or "_unknown"
        destination = f"{QUARANTINE_PREFIX}/{folder}/ingest_date={day}/{landed.etag}-{name}"
        _quarantine(s3, landed, raw_bucket, destination, rejection, metadata)
        outcome = Outcome(
            "quarantined",
            landed.key,
            dataset,
            destination,
            rejection.reason,
            rejection.detail,
            landed.size,
            findings,
        )
    else:
        assert dataset is not None
        assert read is not None
        outcome = _ingest(s3, landed, raw_bucket, dataset, day, name, metadata, read)
    s3.put_object(
        Bucket=raw_bucket,
        Key=_ledger_key(landed.bucket, landed.key, landed.version_id),
        Body=json.dumps({**outcome.record(), **metadata}, indent=2).encode(),
        ContentType="application/json",
    )
    s3.delete_object(**landed.source())
    return outcome


def _read(s3: Any, landed: Landed, spec: Mapping[str, Any], max_bytes: int) -> Scan:
    """Read the landed version once: its SHA-256 and every content check (content.py)."""
    body = s3.get_object(**landed.source())["Body"]
    try:
        return scan(body, spec, max_bytes=max_bytes, gz_name=landed.key.lower().endswith(".gz"))
    finally:
        body.close()  # a rejection may stop reading early


def _copy(
    s3: Any,
    landed: Landed,
    bucket: str,
    destination: str,
    metadata: dict[str, str],
    tags: str | None = None,
) -> None:
    """Copy the landed version unless an earlier run did; then confirm the copy."""
    existing = _head(s3, bucket, destination)
    if existing is None or existing.get("Metadata", {}).get("source-etag") != landed.etag:
        extra = {"Tagging": tags, "TaggingDirective": "REPLACE"} if tags else {}
        # The managed copy switches to a multipart copy for objects above 5 GiB.
        s3.copy(
            landed.source(),
            bucket,
            destination,
            ExtraArgs={"Metadata": metadata, "MetadataDirective": "REPLACE", **extra},
        )
    copied = _head(s3, bucket, destination)
    if (
        copied is None
        or int(copied["ContentLength"]) != landed.size
        or copied.get("Metadata", {}).get("source-etag") != landed.etag
    ):
        raise RuntimeError(
            f"copy of s3://{landed.bucket}/{landed.key} to {destination} not confirmed"
        )


def _ingest(
    s3: Any,
    landed: Landed,
    raw_bucket: str,
    dataset: str,
    day: str,
    name: str,
    metadata: dict[str, str],
    scanned: Scan,
) -> Outcome:
    sha, read = str(scanned.sha256), scanned.findings
    metadata = {**metadata, "content-sha256": sha}
    destination = f"{dataset}/ingest_date={day}/{sha[:16]}-{name}"
    index_key = f"{INDEX_PREFIX}/{dataset}/{sha}.json"
    claim = {
        "raw_key": destination,
        "source-key": metadata["source-key"],
        "source-version": metadata["source-version"],
    }
    try:
        s3.put_object(
            Bucket=raw_bucket,
            Key=index_key,
            Body=json.dumps(claim).encode(),
            IfNoneMatch="*",
            ContentType="application/json",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412"):
            raise
        earlier = json.loads(s3.get_object(Bucket=raw_bucket, Key=index_key)["Body"].read())
        mine = (earlier["source-key"], earlier["source-version"]) == (
            claim["source-key"],
            claim["source-version"],
        )
        if not mine:
            copied = _head(s3, raw_bucket, earlier["raw_key"])
            if copied is None or copied.get("Metadata", {}).get("content-sha256") != sha:
                raise ContentClaimedError(
                    f"{index_key} is claimed by an upload not yet in raw"
                ) from None
            return Outcome(
                "duplicate", landed.key, dataset, earlier["raw_key"], size=landed.size, content=read
            )
        destination = earlier["raw_key"]  # an earlier run of this upload claimed it: finish
    _copy(s3, landed, raw_bucket, destination, metadata)
    return Outcome("ingested", landed.key, dataset, destination, size=landed.size, content=read)


def _quarantine(
    s3: Any,
    landed: Landed,
    raw_bucket: str,
    destination: str,
    rejection: Rejection,
    metadata: dict[str, str],
) -> None:
    _copy(
        s3,
        landed,
        raw_bucket,
        destination,
        {**metadata, "reason": rejection.reason},
        f"reason={rejection.reason}",
    )
    s3.put_object(
        Bucket=raw_bucket,
        Key=f"{destination}.reason.json",
        Body=json.dumps(
            {
                "reason": rejection.reason,
                "detail": rejection.detail,
                **metadata,
                "source-key": landed.key,
            },
            indent=2,
        ).encode(),
        ContentType="application/json",
    )
