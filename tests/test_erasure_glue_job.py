"""The erasure's Glue entry point (``forget_subject.main``) with Glue's modules stubbed: it
reads the request object, erases, writes its record to the audit store once, and fails,
record written, when the search afterwards still finds the person."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")

import boto3
from moto import mock_aws
from pyspark.sql import SparkSession

from glue_jobs import erasure, forget_subject
from tests.iceberg_lake import SALT, curate, order
from tests.test_curation_flow import ORDERS, glue_catalog_table

REGION = "eu-west-1"
PERSON = "C-3"


def glue_modules(
    spark: SparkSession, args: dict[str, str], committed: list[bool]
) -> dict[str, Any]:
    class GlueContext:
        spark_session = spark

        def __init__(self, _context: Any) -> None:
            pass

    class Job:
        def __init__(self, _glue: Any) -> None:
            pass

        def init(self, _name: str, _args: Any) -> None:
            pass

        def commit(self) -> None:
            committed.append(True)

    return {
        "awsglue": types.ModuleType("awsglue"),
        "awsglue.context": types.SimpleNamespace(GlueContext=GlueContext),
        "awsglue.job": types.SimpleNamespace(Job=Job),
        "awsglue.utils": types.SimpleNamespace(getResolvedOptions=lambda _argv, _names: args),
    }


def run_job(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, raw: bytes
) -> tuple[dict[str, Any], RuntimeError | None, list[bool]]:
    """The job on a curated table of two customers and one raw object ``raw``: (its record,
    the error it failed with, whether it committed)."""
    table = glue_catalog_table(spark, tmp_path / "warehouse", f"forget_{len(raw)}")
    curate(spark, ORDERS, table, tmp_path, [order(order_id="O-1", customer_id=PERSON),
                                            order(order_id="O-2", customer_id="C-1")],
           day="2026-11-01")  # fmt: skip
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        s3 = boto3.client("s3")
        for bucket in ("landing", "raw", "audit"):
            s3.create_bucket(Bucket=bucket,
                             CreateBucketConfiguration={"LocationConstraint": REGION})  # fmt: skip
            s3.put_bucket_versioning(Bucket=bucket,
                                     VersioningConfiguration={"Status": "Enabled"})  # fmt: skip
        s3.put_object(Bucket="raw", Key="orders/ingest_date=2026-11-01/a.csv", Body=raw)
        request = erasure.Request("jr-req", PERSON, "test", "arn:aws:iam::1:user/e", "now")
        s3.put_object(Bucket="raw", Key="_erasure/requests/jr-req.json",
                      Body=json.dumps(request.__dict__))  # fmt: skip
        secret = boto3.client("secretsmanager").create_secret(Name="salt", SecretString=SALT)
        args = {
            "JOB_NAME": "datalake-sandbox-orders-forget",
            "dataset_spec": json.dumps(ORDERS),
            "subject_column": "customer_id",
            "marts_spec": "[]",
            "curated_table": table.split(".", 1)[1],
            "analytics_database": "unused",
            "warehouse": str(tmp_path / "warehouse"),
            "landing_path": "s3://landing/orders/",
            "raw_path": "s3://raw/orders/",
            "quarantine_path": "s3://raw/_quarantine/orders/",
            "request_path": "s3://raw/_erasure/requests/",
            "records_path": "s3://audit/erasure/",
            "salt_secret_arn": secret["ARN"],
            "request_id": "jr-req",
        }
        assert set(args) == {"JOB_NAME", *forget_subject.ARGUMENTS, *forget_subject.RUN_ARGUMENTS}
        committed: list[bool] = []
        for name, module in glue_modules(spark, args, committed).items():
            monkeypatch.setitem(sys.modules, name, module)
        error = None
        try:
            forget_subject.main()
        except RuntimeError as failure:
            error = failure
        body = s3.get_object(Bucket="audit", Key="erasure/jr-req/orders.json")["Body"].read()
        rows = spark.table(table).where(f"customer_id = '{erasure.subject_hash(SALT, PERSON)}'")
        assert rows.count() == 0
    return json.loads(body), error, committed


def test_the_job_erases_and_writes_its_record_without_the_value(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = ",".join(ORDERS["source"]["columns"])
    raw = f"{header}\nO-1,2026-11-01T09:00:00Z,{PERSON},a@x,A,DE,c,1,1.00,paid\n".encode()
    record, error, committed = run_job(spark, tmp_path, monkeypatch, raw=raw)
    assert error is None
    assert committed == [True]
    assert record["outcome"] == "erased"
    assert record["requested_by"] == "arn:aws:iam::1:user/e"
    assert record["zones"]["curated"]["rows_deleted"] == 1
    assert record["zones"]["raw"]["records_removed"] == 1
    assert f'"{PERSON}"' not in json.dumps(record)


def test_the_job_fails_after_writing_its_record_when_the_search_finds_what_it_cannot_read(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record, error, _ = run_job(spark, tmp_path, monkeypatch, raw=b"PAR1 not really parquet")
    assert error is not None
    assert "is still in 1 places" in str(error)
    assert record["zones"]["raw"]["unsearched"][0]["key"] == "orders/ingest_date=2026-11-01/a.csv"
    assert record["verification"]["found"]
