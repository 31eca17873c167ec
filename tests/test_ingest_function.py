"""The batch ingest function, run against moto's S3: where every byte of every file ends up.

Each test lands files, delivers the EventBridge events the landing bucket would send, and
checks that nothing is left in landing and that every file is either in raw or in
quarantine with its reason: objects in = objects in raw + objects in quarantine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from moto import mock_aws

from model.declarations import load_datasets
from tests.conftest import DATASETS

import handler
import ingest

LANDING, RAW = "landing-bucket", "raw-bucket"
MAX_BYTES = 1024 * 1024
SAMPLES = DATASETS / "samples"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("RAW_BUCKET", RAW)
    monkeypatch.setenv("MAX_BYTES", str(MAX_BYTES))
    specs = {d.name: d.landing_spec() for d in load_datasets(DATASETS)}
    monkeypatch.setattr(handler, "specs", lambda: specs)
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        for bucket in (LANDING, RAW):
            client.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
            client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        yield client


def land(s3: Any, key: str, body: bytes, *, event_key: str | None = None) -> dict[str, Any]:
    """Put a file in landing and return the event EventBridge would deliver for it."""
    put = s3.put_object(Bucket=LANDING, Key=key, Body=body)
    return {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "time": "2026-11-21T09:30:00Z",
        "detail": {
            "bucket": {"name": LANDING},
            "object": {
                "key": event_key or key,
                "size": len(body),
                "etag": put["ETag"].strip('"'),
                "version-id": put["VersionId"],
            },
        },
    }


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def body(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def raw_data(s3: Any) -> list[str]:
    return [k for k in keys(s3, RAW) if not k.startswith(("_ingest/", "_quarantine/"))]


def ledger(s3: Any) -> list[dict[str, Any]]:
    return [json.loads(body(s3, RAW, k)) for k in keys(s3, RAW, "_ingest/ledger/")]


def quarantined(s3: Any) -> list[str]:
    return [k for k in keys(s3, RAW, "_quarantine/") if not k.endswith(".reason.json")]


def assert_conserved(s3: Any, files_in: int) -> None:
    """Every landed upload is in raw, in quarantine, or recorded as a duplicate of raw."""
    versions = s3.list_object_versions(Bucket=LANDING).get("Versions", [])
    assert versions == [], "landing must hold no version once every file is handled"
    duplicates = [r for r in ledger(s3) if r["status"] == "duplicate"]
    assert files_in == len(raw_data(s3)) + len(quarantined(s3)) + len(duplicates)
    assert files_in == len(ledger(s3))


def reason_of(s3: Any, key: str) -> dict[str, Any]:
    reason = json.loads(body(s3, RAW, f"{key}.reason.json"))
    head = s3.head_object(Bucket=RAW, Key=key)
    assert head["Metadata"]["reason"] == reason["reason"]
    tags = s3.get_object_tagging(Bucket=RAW, Key=key)["TagSet"]
    assert {"Key": "reason", "Value": reason["reason"]} in tags
    return dict(reason)


def test_a_good_csv_file_lands_in_raw_under_its_ingest_date(s3: Any) -> None:
    content = (SAMPLES / "orders.csv").read_bytes()
    result = handler.handler(land(s3, "orders/export-2026-11-20.csv", content))
    assert result["status"] == "ingested"
    (raw_key,) = raw_data(s3)
    assert raw_key.startswith("orders/ingest_date=2026-11-21/")
    assert raw_key.endswith("-export-2026-11-20.csv")
    assert body(s3, RAW, raw_key) == content
    metadata = s3.head_object(Bucket=RAW, Key=raw_key)["Metadata"]
    assert metadata["source-key"] == "orders/export-2026-11-20.csv"
    assert metadata["content-sha256"] == hashlib.sha256(content).hexdigest()
    assert metadata["content-sha256"][:16] in raw_key
    assert metadata["landed-at"] == "2026-11-21T09:30:00+00:00"
    assert "ingested-at" in metadata
    assert_conserved(s3, 1)


def test_a_good_json_lines_file_lands_in_raw(s3: Any) -> None:
    content = (SAMPLES / "clickstream.jsonl").read_bytes()
    result = handler.handler(land(s3, "clickstream/2026/11/02/events.jsonl", content))
    assert result["status"] == "ingested"
    (raw_key,) = raw_data(s3)
    assert raw_key.startswith("clickstream/ingest_date=2026-11-21/")
    assert body(s3, RAW, raw_key) == content
    assert_conserved(s3, 1)


BAD_FILES = [
    pytest.param("payroll/2026-11.csv", b"a,b\n1,2\n", "unknown_dataset", id="unknown-dataset"),
    pytest.param("orders.csv", b"order_id\n1\n", "unknown_dataset", id="no-dataset-folder"),
    pytest.param("orders/export.xlsx", b"PK\x03\x04", "wrong_extension", id="wrong-extension"),
    pytest.param("orders/empty.csv", b"", "empty_file", id="empty-file"),
    pytest.param(
        "orders/short-header.csv", b"order_id,ordered_at\nO-1,2026-11-01T00:00:00Z\n",
        "header_mismatch", id="header-mismatch",
    ),
    pytest.param(
        "clickstream/broken.jsonl", b'{"event_id": "e1"}\n{"event_id": \n', "malformed_json",
        id="malformed-json",
    ),
    pytest.param(
        "clickstream/array.jsonl", b"[1, 2, 3]\n", "malformed_json", id="json-not-an-object"
    ),
    pytest.param(
        "orders/huge.csv", b"x" * (MAX_BYTES + 1), "too_large", id="oversized-file"
    ),
]  # fmt: skip


@pytest.mark.parametrize(("key", "content", "reason"), BAD_FILES)
def test_a_bad_file_is_quarantined_with_its_reason(
    s3: Any, key: str, content: bytes, reason: str
) -> None:
    result = handler.handler(land(s3, key, content))
    assert result == {
        "status": "quarantined",
        "destination": result["destination"],
        "reason": reason,
        "detail": result["detail"],
        "notes": [],
    }
    (kept,) = quarantined(s3)
    assert kept == result["destination"]
    assert body(s3, RAW, kept) == content  # every byte kept
    explanation = reason_of(s3, kept)
    assert explanation["reason"] == reason
    assert explanation["detail"] == result["detail"]
    assert explanation["source-key"] == key
    assert len(explanation["detail"]) > 10
    assert raw_data(s3) == []
    assert_conserved(s3, 1)


def test_the_same_event_twice_makes_one_raw_object(s3: Any) -> None:
    event = land(s3, "orders/day.csv", (SAMPLES / "orders.csv").read_bytes())
    first = handler.handler(event)
    second = handler.handler(event)
    assert (first["status"], second["status"]) == ("ingested", "already_processed")
    assert len(raw_data(s3)) == 1
    versions = s3.list_object_versions(Bucket=RAW, Prefix="orders/")["Versions"]
    assert len(versions) == 1  # not even a second version of the same key
    assert first["destination"] == raw_data(s3)[0]
    assert_conserved(s3, 1)


def test_the_same_content_uploaded_twice_is_not_copied_again(s3: Any) -> None:
    content = (SAMPLES / "orders.csv").read_bytes()
    first = handler.handler(land(s3, "orders/monday.csv", content))
    again = handler.handler(land(s3, "orders/resent-on-tuesday.csv", content))
    assert (first["status"], again["status"]) == ("ingested", "duplicate")
    assert again["destination"] == first["destination"]
    (raw_key,) = raw_data(s3)
    assert body(s3, RAW, raw_key) == content  # both uploads' bytes are in raw, once
    (record,) = [r for r in ledger(s3) if r["status"] == "duplicate"]
    assert record["source_key"] == "orders/resent-on-tuesday.csv"  # the upload is recorded
    assert_conserved(s3, 2)


def test_a_file_replaced_under_the_same_key_keeps_both_versions(s3: Any) -> None:
    """Two uploads to one key, two events: each event moves its own version."""
    first_content = (SAMPLES / "orders.csv").read_bytes()
    second_content = (
        first_content
        + b"O-99999,2026-11-21T08:00:00Z,C-1,a@example.com,A,DE,consumer,1,1.00,paid\n"
    )
    first = land(s3, "orders/daily.csv", first_content)
    second = land(s3, "orders/daily.csv", second_content)
    assert handler.handler(first)["status"] == "ingested"
    assert handler.handler(second)["status"] == "ingested"
    assert sorted(body(s3, RAW, k) for k in raw_data(s3)) == sorted([first_content, second_content])
    assert_conserved(s3, 2)


def test_the_same_content_at_the_same_moment_is_retried_until_the_first_is_in_raw(
    s3: Any,
) -> None:
    content = (SAMPLES / "orders.csv").read_bytes()
    first = land(s3, "orders/a.csv", content)
    second = land(s3, "orders/b.csv", content)
    real_copy = s3.copy
    # The first upload claims the content, then stops before copying (a crash, or still busy).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(s3, "copy", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("crash")))
        with pytest.raises(RuntimeError, match="crash"):
            handler.handler(first, s3=s3)
    with pytest.raises(ingest.ContentClaimedError):
        handler.handler(second, s3=s3)  # not copied twice, not dropped: it waits for its retry
    assert len(keys(s3, LANDING)) == 2
    s3.copy = real_copy
    assert handler.handler(first)["status"] == "ingested"  # the first one's retry
    assert handler.handler(second)["status"] == "duplicate"
    assert len(raw_data(s3)) == 1
    assert_conserved(s3, 2)


@pytest.mark.parametrize(
    ("key", "event_key"),
    [
        ("orders/café 2026.csv", None),
        ("orders/café 2026.csv", "orders/caf%C3%A9+2026.csv"),  # URL-encoded, as some events
        ("orders/a+b.csv", None),  # a literal plus stays a plus
    ],
)
def test_keys_with_spaces_and_accents_are_ingested(
    s3: Any, key: str, event_key: str | None
) -> None:
    content = (SAMPLES / "orders.csv").read_bytes()
    result = handler.handler(land(s3, key, content, event_key=event_key))
    assert result["status"] == "ingested"
    (raw_key,) = raw_data(s3)
    assert raw_key.endswith(key.rsplit("/", 1)[1])
    metadata = s3.head_object(Bucket=RAW, Key=raw_key)["Metadata"]
    assert unquote(metadata["source-key"]) == key
    assert_conserved(s3, 1)


def test_an_event_for_a_file_never_seen_is_reported_missing(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = land(s3, "orders/gone.csv", b"x")
    s3.delete_object(
        Bucket=LANDING, Key="orders/gone.csv", VersionId=event["detail"]["object"]["version-id"]
    )
    assert handler.handler(event)["status"] == "missing"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(line.get("level") == "ERROR" for line in lines)
    assert any(line.get("_aws") and "Missing" in line for line in lines)


class FailOnce:
    """An S3 client whose first call of one operation fails, as S3 does now and then."""

    def __init__(self, client: Any, operation: str) -> None:
        self.client, self.operation, self.failed = client, operation, False

    def __getattr__(self, name: str) -> Any:
        call = getattr(self.client, name)
        if name != self.operation or self.failed:
            return call

        def fail(*args: Any, **kwargs: Any) -> Any:
            self.failed = True
            raise self.client.exceptions.ClientError(
                {"Error": {"Code": "InternalError", "Message": "injected"}}, name
            )

        return fail


@pytest.mark.parametrize("operation", ["delete_object", "put_object", "copy"])
def test_an_s3_error_between_copy_and_delete_loses_nothing_and_the_retry_finishes(
    s3: Any, operation: str
) -> None:
    content = (SAMPLES / "orders.csv").read_bytes()
    event = land(s3, "orders/day.csv", content)
    flaky = FailOnce(s3, operation)
    with pytest.raises(Exception, match="injected"):
        handler.handler(event, s3=flaky)
    # The copy happened, the landed file is still there: nothing is lost.
    assert keys(s3, LANDING) == ["orders/day.csv"]
    if operation == "delete_object":
        assert body(s3, RAW, raw_data(s3)[0]) == content
    retry = handler.handler(event, s3=flaky)  # Lambda retries the failed invocation
    assert retry["status"] == "ingested"
    (raw_key,) = raw_data(s3)
    assert body(s3, RAW, raw_key) == content
    assert_conserved(s3, 1)


def test_a_mixed_batch_conserves_every_file(s3: Any) -> None:
    files = {
        "orders/good.csv": (SAMPLES / "orders.csv").read_bytes(),
        "clickstream/good.jsonl": (SAMPLES / "clickstream.jsonl").read_bytes(),
        "orders/bad.csv": b"wrong,header\n",
        "unknown/file.csv": b"a\n",
        "clickstream/empty.jsonl": b"",
    }
    for key, content in files.items():
        handler.handler(land(s3, key, content))
    assert_conserved(s3, len(files))
    assert len(raw_data(s3)) == 2
    assert len(quarantined(s3)) == 3


def test_the_handler_logs_json_and_emits_a_metric_per_outcome(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    handler.handler(land(s3, "orders/bad.csv", b"wrong,header\n"))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (log_line,) = [line for line in lines if "message" in line]
    assert log_line["level"] == "WARNING"
    assert log_line["reason"] == "header_mismatch"
    (metric_line,) = [line for line in lines if "_aws" in line]
    definition = metric_line["_aws"]["CloudWatchMetrics"][0]
    assert definition["Metrics"] == [{"Name": "Quarantined", "Unit": "Count"}]
    assert metric_line["Reason"] == "header_mismatch"
    assert metric_line["Dataset"] == "orders"


def test_the_stack_hands_the_function_every_declared_dataset() -> None:
    specs = {d.name: d.landing_spec() for d in load_datasets(DATASETS)}
    assert specs["orders"]["columns"][0] == "order_id"
    assert "order_date" not in specs["orders"]["columns"]  # derived, not in the source file
    assert specs["clickstream"]["format"] == "jsonl"
