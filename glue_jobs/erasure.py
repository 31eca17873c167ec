"""Forget a person: one erasure request, carried out in one dataset, in every zone.

The Glue job (``forget_subject.py``) calls ``forget`` on the Glue Data Catalog's tables and
the deployed buckets; the local run and the tests call it on a local Iceberg catalog and
moto's buckets. In order:

1. the curated table: the person's rows deleted, found by the declared subject column (by
   its salted hash where the column is hashed), every data file rewritten and every earlier
   snapshot expired where their bytes were, orphan files removed (``erasure_tables``);
2. the marts: rebuilt from the curated table by the marts job's own flow, earlier builds
   expired (they aggregated the erased rows);
3. the folders of the dataset in landing, raw and quarantine: every version of every
   object searched, the person's records cut out of current versions, earlier versions that
   held them deleted for good (``erasure_objects``). Tables first: a rewritten raw file may
   start the dataset's pipeline (``start_on_arrival``), which should find the tables done;
4. where a table is in S3 (in Glue; the local catalog's are in a folder), the versions its
   deleted files left in the versioned bucket, deleted;
5. the search: every object version of the folders, every Parquet file under each table's
   folder and every snapshot left, for the value in clear and hashed.

The record (``record``) holds what a security officer needs to show the request was carried
out, and no personal data: the salted hash of the value, never the value; keys, counts and
reasons, never content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ParamValidationError
from pyspark.sql import SparkSession

from glue_jobs import erasure_objects, erasure_tables
from glue_jobs.erasure_subject import Subject

# Orphan files younger than this are left: they may belong to a write still in flight (a
# table optimizer's compaction), which a deleted file would corrupt. One of them that holds
# the person is found by the search, and the run fails: run the request again later.
ORPHAN_MARGIN = timedelta(hours=1)
OUTCOMES = ("erased", "nothing_found")


@dataclass(frozen=True)
class Request:
    """One person to forget, as ``tasks.py forget`` wrote the request object."""

    request_id: str
    subject_value: str
    reason: str
    requested_by: str
    requested_at: str


@dataclass(frozen=True)
class Target:
    """One dataset's places, as the job's arguments name them.

    :param folders: zone -> ``s3://`` folder of the dataset's objects (landing, raw,
        quarantine).
    """

    spec: Mapping[str, Any]
    subject_column: str
    marts: Sequence[Mapping[str, Any]]
    curated_table: str
    analytics_database: str
    folders: Mapping[str, str]


def subject_hash(salt: str, value: str) -> str:
    """The value as the curation hashes a column declared ``pii = "hash"``: salted SHA-256
    of the trimmed text, in hex (``transforms.protect_pii``)."""
    return hashlib.sha256((salt + value.strip()).encode("utf-8")).hexdigest()


def read_request(s3: Any, request_path: str, request_id: str) -> Request:
    """The request object ``<request_path><request_id>.json``; KeyError naming it if absent."""
    bucket, prefix = erasure_objects.split(request_path)
    key = f"{prefix}{request_id}.json"
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise KeyError(f"no erasure request s3://{bucket}/{key}") from None
    data = json.loads(body)
    request = Request(**{k: str(data[k]) for k in Request.__dataclass_fields__})
    if not request.subject_value.strip():
        raise ValueError(f"s3://{bucket}/{key}: the request names no subject value")
    return request


def forget(
    spark: SparkSession,
    s3: Any,
    request: Request,
    target: Target,
    *,
    salt: str,
    orphan_margin: timedelta = ORPHAN_MARGIN,
) -> dict[str, Any]:
    """Carry out ``request`` in ``target``'s dataset (the module's steps); its record."""
    started = datetime.now(UTC)
    column = next(c for c in target.spec["columns"] if c["name"] == target.subject_column)
    value = request.subject_value.strip()
    subject = Subject(value, subject_hash(salt, value), column["name"], column["pii"] == "hash")
    curated = erasure_tables.erase_rows(
        spark, target.curated_table, subject, orphans_before=started - orphan_margin
    )
    marts: dict[str, Any] = {}
    if curated["data_files_holding"] and target.marts:
        marts = erasure_tables.rebuild_marts(
            spark, target.marts, curated_table=target.curated_table,
            analytics_database=target.analytics_database,
        )  # fmt: skip
    zones: dict[str, Any] = {
        zone: erasure_objects.erase_folder(s3, url, target.spec, subject, request.request_id)
        .as_record()
        for zone, url in target.folders.items()
    }  # fmt: skip
    tables = [target.curated_table, *(f"{target.analytics_database}.{m['name']}"
                                      for m in target.marts)]  # fmt: skip
    locations = {t: erasure_tables.location(spark, t) for t in tables}
    # In S3 (in Glue) the buckets keep versions: the files Iceberg deleted are still there,
    # in the tables the erasure changed (others keep their versions, and their history).
    changed = [t for t in tables if t != target.curated_table and t.rsplit(".", 1)[1] in marts]
    if curated["data_files_holding"] or curated["orphan_files_removed"]:
        changed.append(target.curated_table)
    purged = {table: erasure_objects.purge_deleted(s3, locations[table] + "/")
              for table in changed if locations[table].startswith("s3://")}  # fmt: skip
    curated["versions_deleted"] = purged.pop(target.curated_table, 0)
    zones["curated"] = curated
    zones["analytics"] = {"marts": marts, "versions_deleted": sum(purged.values())}
    return record(request, target, subject, zones, started,
                  verify(spark, s3, target, subject, locations, changed))  # fmt: skip


def verify(
    spark: SparkSession,
    s3: Any,
    target: Target,
    subject: Subject,
    locations: Mapping[str, str],
    purged: Sequence[str],
) -> dict[str, Any]:
    """The search after the erasure, in every place ``forget`` touched (step 5); in S3, the
    ``purged`` tables' folders hold no earlier version any more."""
    searched, found = 0, []
    for url in target.folders.values():
        count, remains = erasure_objects.remaining(s3, url, target.spec, subject)
        searched += count
        found += [f"{r['key']} version {r['version']}: {r['why']}" for r in remains]
    files = searched_snapshots = 0
    for table, where in locations.items():
        in_s3 = where.startswith("s3://")
        listed = (erasure_objects.current_files(s3, where + "/") if in_s3
                  else erasure_tables.list_files(spark, where))  # fmt: skip
        files += len(listed)
        snapshots, in_table = erasure_tables.search(spark, table, listed, subject)
        searched_snapshots += snapshots
        found += in_table
        if in_s3 and table in purged:
            bucket, prefix = erasure_objects.split(where + "/")
            found += [f"s3://{bucket}/{key}: {len(v)} versions or markers left"
                      for key, v in erasure_objects.versions(s3, bucket, prefix)
                      if any(e["Marker"] or not e["IsLatest"] for e in v)]  # fmt: skip
    return {"object_versions_searched": searched, "table_files_searched": files,
            "snapshots_searched": searched_snapshots, "found": found}  # fmt: skip


def record(
    request: Request,
    target: Target,
    subject: Subject,
    zones: Mapping[str, Any],
    started: datetime,
    verification: Mapping[str, Any],
) -> dict[str, Any]:
    """The audit record of one dataset's part of a request: no personal data in it."""
    touched = zones["curated"]["data_files_holding"] or any(
        z["rewritten"] or z["deleted"] or z["versions_deleted"]
        for name, z in zones.items() if name in target.folders
    )  # fmt: skip
    return {
        "request_id": request.request_id,
        "dataset": target.spec["name"],
        "subject_column": subject.column,
        "subject_hash": subject.hash,
        "reason": request.reason,
        "requested_by": request.requested_by,
        "requested_at": request.requested_at,
        "started_at": started.isoformat(),
        "completed_at": datetime.now(UTC).isoformat(),
        "outcome": OUTCOMES[0] if touched else OUTCOMES[1],
        "zones": dict(zones),
        "verification": dict(verification),
    }


def record_key(records_path: str, record: Mapping[str, Any]) -> tuple[str, str]:
    bucket, prefix = erasure_objects.split(records_path)
    return bucket, f"{prefix}{record['request_id']}/{record['dataset']}.json"


def write_record(s3: Any, records_path: str, record: Mapping[str, Any]) -> str:
    """The record in the audit store, ``<records_path><request id>/<dataset>.json``; its URI.

    Written once: a second write of the key is refused (a conditional write, which botocore
    1.35 and later send; an older one is told nothing of it, and the bucket's Object Lock,
    where the environment keeps data, still keeps the first version). With a checksum, which
    a bucket with Object Lock requires of every write."""
    bucket, key = record_key(records_path, record)
    put = {"Bucket": bucket, "Key": key, "Body": json.dumps(record, indent=2).encode(),
           "ContentType": "application/json", "ChecksumAlgorithm": "SHA256"}  # fmt: skip
    try:
        s3.put_object(**put, IfNoneMatch="*")
    except ParamValidationError:  # a botocore without conditional writes
        s3.put_object(**put)
    return f"s3://{bucket}/{key}"


def summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record's headline: per zone, what was removed."""
    zones = record["zones"]
    folders = {name: {"records_removed": z["records_removed"], "rewritten": len(z["rewritten"]),
                      "deleted": len(z["deleted"]), "versions_deleted": z["versions_deleted"]}
               for name, z in zones.items() if "records_removed" in z}  # fmt: skip
    return {"request_id": record["request_id"], "dataset": record["dataset"],
            "outcome": record["outcome"], **folders,
            "curated_rows_deleted": zones["curated"]["rows_deleted"],
            "marts_rebuilt": sorted(zones["analytics"]["marts"]),
            "found_after": len(record["verification"]["found"])}  # fmt: skip


def remains(record: Mapping[str, Any]) -> str:
    """The run's error message when the search still finds the subject."""
    found = record["verification"]["found"]
    return (f"erasure {record['request_id']} in {record['dataset']}: the subject is still in "
            f"{len(found)} places after it: {'; '.join(found[:5])}")  # fmt: skip
