"""The sample feeder, against moto: batch samples land in landing, stream samples in Firehose."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from blueprint.factory import ROOT
from model.declarations import load_datasets
from tests.conftest import DATASETS

sys.path.insert(0, str(ROOT / "scripts"))
import feed

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in ("landing", "raw"):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        firehose = boto3.client("firehose", region_name=REGION)
        firehose.create_delivery_stream(
            DeliveryStreamName="datalake-sandbox-clickstream",
            DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": "arn:aws:s3:::raw",
                "Prefix": "clickstream/",
            },
        )
        yield s3, firehose


def test_every_sample_goes_where_its_dataset_ingests(aws: tuple[Any, Any]) -> None:
    s3, firehose = aws
    report = feed.feed(
        s3=s3,
        firehose=firehose,
        landing_bucket="landing",
        streams={"clickstream": "datalake-sandbox-clickstream"},
        datasets=load_datasets(DATASETS),
        now=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
    )
    landed = [o["Key"] for o in s3.list_objects_v2(Bucket="landing")["Contents"]]
    assert landed == ["orders/sample-20261121T100000Z.csv"]
    body = s3.get_object(Bucket="landing", Key=landed[0])["Body"].read()
    assert body == (DATASETS / "samples" / "orders.csv").read_bytes()
    lines = (DATASETS / "samples" / "clickstream.jsonl").read_text().splitlines()
    delivered = b"".join(
        s3.get_object(Bucket="raw", Key=o["Key"])["Body"].read()
        for o in s3.list_objects_v2(Bucket="raw", Prefix="clickstream/")["Contents"]
    )
    assert delivered.decode().splitlines() == lines
    assert report == [
        f"clickstream: put {len(lines)} records to stream datalake-sandbox-clickstream",
        "orders: uploaded orders.csv to s3://landing/orders/sample-20261121T100000Z.csv",
    ]


def test_a_dataset_without_a_sample_is_skipped_and_said(
    aws: tuple[Any, Any], tmp_path: Path
) -> None:
    s3, firehose = aws
    report = feed.feed(
        s3=s3, firehose=firehose, landing_bucket="landing", streams={},
        datasets=load_datasets(DATASETS), samples=tmp_path,
    )  # fmt: skip
    assert report == [
        f"clickstream: no sample file in {tmp_path.name}/, skipped",
        f"orders: no sample file in {tmp_path.name}/, skipped",
    ]
    assert "Contents" not in s3.list_objects_v2(Bucket="landing")


class Throttling:
    """A Firehose client that refuses the first record of the first batch once."""

    def __init__(self) -> None:
        self.calls: list[list[dict[str, bytes]]] = []

    def put_record_batch(self, **call: Any) -> Any:
        Records = call["Records"]  # noqa: N806 - the name Firehose gives it
        self.calls.append(Records)
        if len(self.calls) == 1:
            responses = [{"ErrorCode": "ServiceUnavailableException"}] + [
                {"RecordId": str(i)} for i in range(1, len(Records))
            ]
            return {"FailedPutCount": 1, "RequestResponses": responses}
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "x"}] * len(Records)}


def test_records_firehose_refuses_are_sent_again() -> None:
    firehose = Throttling()
    records = [{"Data": b"a\n"}, {"Data": b"b\n"}, {"Data": b"c\n"}]
    feed._put(firehose, "stream", records)
    assert firehose.calls == [records, [{"Data": b"a\n"}]]
