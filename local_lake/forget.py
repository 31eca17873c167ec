"""The local run's erasure: one person of the samples forgotten, and the proof of it.

``tasks.py forget`` writes a request object and starts each dataset's erasure job; here the
request is written to moto's raw bucket the same way, and each dataset's job flow
(``glue_jobs.erasure.forget``) runs with the arguments its synthesized job has, on the local
Iceberg tables and moto's versioned buckets. Its record goes to the audit bucket, as the job
writes it. Then the proof, by a search of its own (not the erasure's): every version of every
object in every bucket, gzip opened, and every Parquet file of every table in the warehouse,
read whole, for the value (where it is not part of a longer one) and its salted hash. The same
request is made a second time, and the other people's curated rows are compared with what
they were.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from glue_jobs import erasure
from glue_jobs.erasure_objects import split
from local_lake.assembly import DatasetPlan


@dataclass
class Forgotten:
    """What forgetting one person did, and what the searches found before and after."""

    value: str
    request_id: str = ""
    requested_by: str = ""
    held_before: list[str] = field(default_factory=list)
    held_after: list[str] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # dataset -> record
    record_uris: dict[str, str] = field(default_factory=dict)
    again: dict[str, str] = field(default_factory=dict)  # dataset -> outcome, second request
    others: dict[str, tuple[int, int, bool]] = field(default_factory=dict)  # before, after, same

    def lines(self) -> list[str]:
        """The erasure, as the run's summary tells it: what each zone held, the record, the
        searches, the second request, everyone else."""
        out = ["", f"Forgetting {self.value} (request {self.request_id}, asked by "
               f"{self.requested_by}):",
               f"  the search before found them in {len(self.held_before)} places:",
               *(f"    {place}" for place in self.held_before)]  # fmt: skip
        for name, record in self.records.items():
            out += [f"  {name}: {record['outcome']} (subject column {record['subject_column']}, "
                    f"hash {record['subject_hash'][:16]}...)", *_zones(record["zones"]),
                    f"    audit record: {self.record_uris[name]}"]  # fmt: skip
        verified = [r["verification"] for r in self.records.values()]
        out.append(
            f"  the search after found them in {len(self.held_after)} places"
            + "".join(f": {place}" for place in self.held_after)
            + f" (the erasure's own search: {sum(len(v['found']) for v in verified)} places in "
            f"{sum(v['object_versions_searched'] for v in verified)} object versions, "
            f"{sum(v['table_files_searched'] for v in verified)} table files and "
            f"{sum(v['snapshots_searched'] for v in verified)} snapshots)"
        )
        out.append("  the same request again: " + ", ".join(
            f"{name} {outcome}" for name, outcome in self.again.items()))  # fmt: skip
        out.append("  everyone else's curated rows: " + "; ".join(
            f"{name} {a} before, {b} after, {'each one unchanged' if same else 'CHANGED'}"
            for name, (a, b, same) in self.others.items()))  # fmt: skip
        erased = [r for r in self.records.values() if r["outcome"] == "erased"]
        if erased:
            out += ["", f"The audit record of {erased[0]['dataset']}:",
                    *json.dumps(erased[0], indent=2).splitlines()]  # fmt: skip
        return out


def _zones(zones: Mapping[str, Any]) -> list[str]:
    curated, marts = zones["curated"], zones["analytics"]["marts"]
    out = [f"    curated: {curated['rows_deleted']} rows deleted; "
           f"{curated['data_files_holding']} data files held them"
           + (f", {curated['data_files_rewritten']} rewritten with their deletes applied "
              f"({curated['delete_files_removed']} delete files dropped), "
              f"{curated['snapshots_expired']} earlier snapshots expired "
              f"({curated['files_deleted']} files deleted)"
              if curated["data_files_holding"] else "")
           + f", {curated['orphan_files_removed']} orphan files removed"]  # fmt: skip
    out += [
        f"    analytics: {name} rebuilt, {m['rows_before']} -> {m['rows_after']} rows, "
        f"{m['snapshots_expired']} earlier builds expired"
        for name, m in marts.items()
    ]
    for zone in ("landing", "raw", "quarantine"):
        z = zones[zone]
        out.append(f"    {zone}: {z['records_removed']} records removed from "
                   f"{len(z['rewritten'])} files rewritten, {z['versions_deleted']} versions "
                   f"deleted, {len(z['deleted'])} files deleted whole "
                   f"({z['versions_searched']} versions of {z['objects_searched']} objects "
                   "searched)")  # fmt: skip
    return out


def places_holding(
    s3: Any, buckets: Mapping[str, str], warehouse: Path, value: str, hashed: str
) -> list[str]:
    """Every object version and every table file in which ``value`` or ``hashed`` is."""
    token = re.compile(rb"(?<![A-Za-z0-9])" + re.escape(value.encode()) + rb"(?![A-Za-z0-9])")
    found = []
    for bucket in buckets.values():
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for version in page.get("Versions", []):
                where = {"Bucket": bucket, "Key": version["Key"], "VersionId": version["VersionId"]}
                data = s3.get_object(**where)["Body"].read()
                data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
                if token.search(data) or hashed.encode() in data:
                    found.append(f"s3://{bucket}/{version['Key']} (version {version['VersionId']})")
    for path in sorted(warehouse.rglob("*.parquet")):
        values = [str(v) for row in pq.read_table(path).to_pylist() for v in row.values()]
        if any(token.search(v.encode()) or hashed in v for v in values):
            found.append(str(path.relative_to(warehouse)))
    return found


def request_object(s3: Any, plan: DatasetPlan, request: erasure.Request) -> None:
    """The request as ``tasks.py forget`` writes it, where the job reads it."""
    bucket, prefix = split(plan.erasure["request_path"])
    s3.put_object(Bucket=bucket, Key=f"{prefix}{request.request_id}.json",
                  Body=json.dumps(request.__dict__).encode())  # fmt: skip


def delete_request(s3: Any, plan: DatasetPlan, request_id: str) -> None:
    """Every version of the request object deleted, as the command does after the runs."""
    bucket, prefix = split(plan.erasure["request_path"])
    key = f"{prefix}{request_id}.json"
    listed = s3.list_object_versions(Bucket=bucket, Prefix=key)
    for entry in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
        if entry["Key"] == key:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=entry["VersionId"])


def run_request(
    spark: SparkSession, s3: Any, plans: list[DatasetPlan], catalog: str, salt: str,
    request: erasure.Request,
) -> dict[str, tuple[dict[str, Any], str]]:  # fmt: skip
    """One request, through each dataset's job flow: dataset -> (record, its URI)."""
    done = {}
    for plan in plans:
        request_object(s3, plan, request)
        try:
            args = plan.erasure
            read = erasure.read_request(s3, args["request_path"], request.request_id)
            target = erasure.Target(
                spec=json.loads(args["dataset_spec"]),
                subject_column=args["subject_column"],
                marts=json.loads(args["marts_spec"]),
                curated_table=f"{catalog}.{args['curated_table']}",
                analytics_database=f"{catalog}.{args['analytics_database']}",
                folders={zone: args[f"{zone}_path"] for zone in ("landing", "raw", "quarantine")},
            )
            record = erasure.forget(spark, s3, read, target, salt=salt)
            done[plan.dataset.name] = (record, erasure.write_record(s3, args["records_path"],
                                                                    record))  # fmt: skip
        finally:
            delete_request(s3, plan, request.request_id)
    return done


def new_request(value: str, requested_by: str) -> erasure.Request:
    return erasure.Request(
        request_id=str(uuid.uuid4()),
        subject_value=value,
        reason="local run: a customer of the orders sample asked to be forgotten",
        requested_by=requested_by,
        requested_at=datetime.now(UTC).isoformat(),
    )


def other_rows(spark: SparkSession, table: str, column: str, hashed: str) -> set[tuple[Any, ...]]:
    """The curated rows of everyone but the person (compared before and after)."""
    rows = spark.table(table).where(f"CAST(`{column}` AS STRING) <> '{hashed}' "
                                    f"OR `{column}` IS NULL").collect()  # fmt: skip
    return {tuple(row) for row in rows}
