"""A data subject erased from every version of every object under an S3 folder.

The lake's buckets keep versions, so an object rewritten without a person's records still
holds them in its earlier versions, and a deleted object in its last one. Under the folder,
every version of every object is read (``erasure_files.rewrite``):

- the current version that holds the subject is replaced by a new version without the
  subject's records, with the same content type, metadata and tags, plus the request id in
  ``erasure-request`` metadata (a raw file keeps its ``content-sha256``, that of the file as
  it landed: the ingest function's index still knows it, so the same file sent again is a
  duplicate, not the person back);
- every earlier version that holds the subject is deleted for good (by version id);
- a file no record can be cut from, yet holding the subject, is deleted whole: all its
  versions and delete markers (``Rewrite.delete``), which gives up replaying it; the record
  says which and why;
- a version that cannot be searched is listed as such (``unsearched``), never called clean.

``purge_deleted`` is the other half for Iceberg tables, whose files are never rewritten in
place: after snapshots expire, every version under the table's folder that is no longer
current (a deleted data or metadata file), and every delete marker, is deleted for good.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from glue_jobs.erasure_files import rewrite
from glue_jobs.erasure_subject import Subject

_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
READERS = 16  # objects read and rewritten at once


@dataclass
class ZoneFigures:
    """What an erasure found and did under one folder, for the audit record: keys, counts
    and reasons, never the content."""

    folder: str
    objects_searched: int = 0
    versions_searched: int = 0
    records_removed: int = 0
    rewritten: list[str] = field(default_factory=list)
    versions_deleted: int = 0
    deleted: list[dict[str, str]] = field(default_factory=list)
    unsearched: list[dict[str, str]] = field(default_factory=list)

    def add(self, other: ZoneFigures) -> None:
        """Count ``other`` (one object's figures) in."""
        for name, value in other.__dict__.items():
            if name != "folder":
                setattr(self, name, getattr(self, name) + value)

    def as_record(self) -> dict[str, Any]:
        return dict(self.__dict__)


def split(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix/`` -> (bucket, prefix)."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return bucket, prefix


def versions(
    s3: Any, bucket: str, prefix: str, page_size: int = 1000
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Each key under ``prefix`` with its versions and delete markers, newest first (a key's
    versions may span pages of the listing)."""
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
    )
    current: str | None = None
    found: list[dict[str, Any]] = []
    for page in pages:
        entries = [{**v, "Marker": False} for v in page.get("Versions", [])]
        entries += [{**m, "Marker": True} for m in page.get("DeleteMarkers", [])]
        for entry in sorted(entries, key=lambda e: (e["Key"], -e["LastModified"].timestamp())):
            if entry["Key"] != current and current is not None:
                yield current, found
                found = []
            current = entry["Key"]
            found.append(entry)
    if current is not None:
        yield current, found


def erase_folder(
    s3: Any, url: str, spec: Mapping[str, Any], subject: Subject, request_id: str
) -> ZoneFigures:
    """The subject erased from every version of every object under ``url``; objects are
    read ``READERS`` at a time (S3 answers each request in tens of milliseconds; the
    work between is small)."""
    bucket, prefix = split(url)
    figures = ZoneFigures(url)

    def erase(item: tuple[str, list[dict[str, Any]]]) -> ZoneFigures:
        return _erase_object(s3, bucket, *item, spec, subject, request_id)

    with ThreadPoolExecutor(READERS) as pool:
        for done in pool.map(erase, versions(s3, bucket, prefix)):
            figures.add(done)
    return figures


def _erase_object(
    s3: Any,
    bucket: str,
    key: str,
    entries: list[dict[str, Any]],
    spec: Mapping[str, Any],
    subject: Subject,
    request_id: str,
) -> ZoneFigures:
    """The subject erased from every version of one object (the module's rules)."""
    figures = ZoneFigures("", objects_searched=1)
    doomed: list[dict[str, Any]] = []
    for entry in entries:
        if entry["Marker"]:
            continue
        figures.versions_searched += 1
        where = {"Bucket": bucket, "Key": key, "VersionId": entry["VersionId"]}
        result = rewrite(s3.get_object(**where)["Body"].read(), spec, subject, key)
        if result.unsearched:
            figures.unsearched.append(
                {"key": key, "version": entry["VersionId"], "why": result.unsearched}
            )
        elif result.delete and entry["IsLatest"]:  # the file goes, with its history
            figures.deleted.append({"key": key, "why": result.delete})
            doomed = entries
            break
        elif result.delete:
            doomed.append(entry)
        elif result.body is not None:
            if entry["IsLatest"]:
                _replace(s3, where, result.body, result.removed, request_id)
                figures.rewritten.append(key)
                figures.records_removed += result.removed
            doomed.append(entry)
    figures.versions_deleted += _delete(s3, bucket, key, doomed)
    return figures


def _replace(s3: Any, where: Mapping[str, str], body: bytes, removed: int, request_id: str) -> None:
    """A new current version: ``body``, with the old version's content type, metadata and
    tags, and the request that made it."""
    head = s3.head_object(**where)
    tags = s3.get_object_tagging(**where)["TagSet"]
    extra = {"Tagging": urlencode({t["Key"]: t["Value"] for t in tags})} if tags else {}
    s3.put_object(
        Bucket=where["Bucket"],
        Key=where["Key"],
        Body=body,
        ContentType=head.get("ContentType", "binary/octet-stream"),
        Metadata={**head.get("Metadata", {}), "erasure-request": request_id,
                  "erasure-records-removed": str(removed)},
        **extra,
    )  # fmt: skip


def _delete(s3: Any, bucket: str, key: str, entries: list[dict[str, Any]]) -> int:
    """Delete these versions (or delete markers) of ``key`` for good; how many."""
    for start in range(0, len(entries), _DELETE_BATCH):
        batch = entries[start : start + _DELETE_BATCH]
        response = s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": key, "VersionId": e["VersionId"]} for e in batch],
                    "Quiet": True},
        )  # fmt: skip
        if response.get("Errors"):
            raise RuntimeError(f"s3://{bucket}/{key}: versions not deleted: {response['Errors']}")
    return len(entries)


def current_files(s3: Any, url: str) -> list[str]:
    """``s3://`` URIs of the current objects under ``url`` (a table's folder, searched)."""
    bucket, prefix = split(url)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [f"s3://{bucket}/{o['Key']}" for page in pages for o in page.get("Contents", [])]


def purge_deleted(s3: Any, url: str) -> int:
    """Every version under ``url`` that is no longer current, and every delete marker,
    deleted for good: what an Iceberg table's expired files leave in a versioned bucket."""
    bucket, prefix = split(url)
    purged = 0
    for key, entries in versions(s3, bucket, prefix):
        gone = [e for e in entries if e["Marker"] or not e["IsLatest"]]
        purged += _delete(s3, bucket, key, gone)
    return purged


def remaining(
    s3: Any, url: str, spec: Mapping[str, Any], subject: Subject
) -> tuple[int, list[dict[str, str]]]:
    """The search after an erasure: (versions searched, every version still holding the
    subject or not searchable), under ``url``."""
    bucket, prefix = split(url)
    listed = [(key, e["VersionId"]) for key, entries in versions(s3, bucket, prefix)
              for e in entries if not e["Marker"]]  # fmt: skip

    def search(item: tuple[str, str]) -> dict[str, str] | None:
        key, version = item
        body = s3.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()
        result = rewrite(body, spec, subject, key)
        if not (result.removed or result.delete or result.unsearched):
            return None
        why = result.unsearched or result.delete or f"{result.removed} records"
        return {"key": f"s3://{bucket}/{key}", "version": version, "why": why}

    with ThreadPoolExecutor(READERS) as pool:
        found = [hit for hit in pool.map(search, listed) if hit]
    return len(listed), found
