"""A person's records cut out of one file, every other byte kept: each format and defect a
lake file may have, and the versions of a versioned bucket (moto)."""

from __future__ import annotations

import base64
import gzip
import io
import json
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from glue_jobs.erasure import write_record
from glue_jobs.erasure_files import rewrite
from glue_jobs.erasure_objects import current_files, purge_deleted, remaining, versions
from glue_jobs.erasure_subject import Subject
from model.declarations import load_dataset
from tests.conftest import DATASETS

ORDERS = load_dataset(DATASETS / "orders.toml").processing_spec()
CLICKS = load_dataset(DATASETS / "clickstream.toml").processing_spec()
PERSON = Subject("C-3", "ab" * 32, "customer_id", hashed=True)
USER = Subject("U-7", "cd" * 32, "user_id", hashed=True)
HEADER = "order_id,ordered_at,customer_id,customer_email,customer_name,shipping_country," \
         "segment,quantity,amount,status"  # fmt: skip


def spec(**source: Any) -> dict[str, Any]:
    return {**ORDERS, "source": {**ORDERS["source"], **source}}


def line(order_id: str, customer: str, name: str = "Ann") -> str:
    return f"{order_id},2026-11-01T09:00:00Z,{customer},a@example.com,{name},DE,public,1,2,paid"


def test_csv_keeps_every_other_byte_crlf_quoted_line_breaks_and_a_bom() -> None:
    body = (f"\ufeff{HEADER}\r\n{line('O-1', 'C-1')}\r\n"
            f'{line("O-2", "C-3", name=chr(34) + "Ann" + chr(10) + "Lee" + chr(34))}\r\n'
            f"{line('O-3', ' C-3 ')}\r\n{line('O-4', 'C-30')}").encode()  # fmt: skip
    result = rewrite(body, ORDERS, PERSON)
    assert result.removed == 2  # the quoted line break is one record; " C-3 " is trimmed
    kept = f"\ufeff{HEADER}\r\n{line('O-1', 'C-1')}\r\n{line('O-4', 'C-30')}"
    assert result.body == kept.encode()


def test_csv_in_latin_1_with_another_delimiter_and_columns_in_another_order() -> None:
    header = "customer_id;order_id;customer_name"
    body = f"{header}\nC-3;O-1;Jürgen\nC-1;O-2;Zoë\n".encode("iso-8859-1")
    result = rewrite(body, spec(delimiter=";", encoding="iso-8859-1"), PERSON)
    assert result.body == f"{header}\nC-1;O-2;Zoë\n".encode("iso-8859-1")


def test_csv_without_header_finds_the_column_by_its_declared_place() -> None:
    body = f"{line('O-1', 'C-3')}\n{line('O-2', 'C-1')}\n".encode()
    assert rewrite(body, spec(header=False), PERSON).body == f"{line('O-2', 'C-1')}\n".encode()


def test_a_malformed_row_goes_when_the_value_stands_in_it_as_a_whole_token() -> None:
    body = f"{HEADER}\n{line('O-1', 'C-3')},extra\n{line('O-2', 'C-30')},extra\n".encode()
    result = rewrite(body, ORDERS, PERSON)
    assert result.removed == 1
    assert result.body == f"{HEADER}\n{line('O-2', 'C-30')},extra\n".encode()


def test_a_header_without_the_subject_column_is_searched_field_by_field() -> None:
    body = b"order_id,cust\nO-1,C-3\nO-2,C-31\n"
    assert rewrite(body, ORDERS, PERSON).body == b"order_id,cust\nO-2,C-31\n"


def test_json_lines_a_number_a_broken_line_and_a_firehose_error_record() -> None:
    encoded = base64.b64encode(b'{"user_id": "U-7"}').decode()
    lines = [
        '{"event_id": "1", "user_id": "U-7"}',
        '{"event_id": "2", "user_id": "U-70"}',
        '{"event_id": "3", "user_id": "U-7"',  # broken: the token decides
        json.dumps({"rawData": encoded, "errorCode": "x"}),
        '{"event_id": "4", "user_id": null}',
    ]
    result = rewrite("\n".join(lines).encode(), CLICKS, USER)
    assert result.removed == 3
    assert result.body == f"{lines[1]}\n{lines[4]}".encode()


def test_quarantined_rows_by_their_raw_text_and_held_back_rows_by_the_hash() -> None:
    rows = [
        {"dataset": "orders", "reason": "uncastable:quantity", "raw": '{"customer_id": "C-3"}'},
        {"dataset": "orders", "reason": "field_count", "raw": "O-9,x,C-3,y"},
        {"dataset": "orders", "reason": "field_count", "raw": "O-9,x,C-33,y"},
        {"order_id": "O-5", "customer_id": PERSON.hash},
    ]
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    result = rewrite(body, ORDERS, PERSON)
    assert result.removed == 3
    assert result.body == (json.dumps(rows[2]) + "\n").encode()


def test_gzip_is_opened_and_closed_again_and_a_broken_stream_goes_whole() -> None:
    body = gzip.compress(f"{HEADER}\n{line('O-1', 'C-3')}\n{line('O-2', 'C-1')}\n".encode())
    result = rewrite(body, ORDERS, PERSON)
    assert result.body is not None
    assert gzip.decompress(result.body) == f"{HEADER}\n{line('O-2', 'C-1')}\n".encode()
    broken = b"\x1f\x8b" + f"not really gzip {line('O-1', 'C-3')}".encode()
    assert rewrite(broken, ORDERS, PERSON).delete
    assert rewrite(b"\x1f\x8b" + b"nothing of theirs", ORDERS, PERSON).delete is None


def test_parquet_is_written_anew_with_its_codec_and_a_broken_one_is_unsearched() -> None:
    table = pa.table({"order_id": ["O-1", "O-2"], "customer_id": ["C-3", "C-1"]})
    out = io.BytesIO()
    pq.write_table(table, out, compression="snappy")
    result = rewrite(out.getvalue(), spec(format="parquet"), PERSON)
    assert result.removed == 1
    assert result.body is not None
    written = pq.ParquetFile(io.BytesIO(result.body))
    assert written.read().to_pylist() == [{"order_id": "O-2", "customer_id": "C-1"}]
    assert written.metadata.row_group(0).column(0).compression == "SNAPPY"
    assert rewrite(b"PAR1 truncated", spec(format="parquet"), PERSON).unsearched


@pytest.mark.parametrize("inside", ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c"])
def test_a_csv_field_holding_a_unicode_line_separator_is_one_record(inside: str) -> None:
    """Only \\r and \\n end a CSV line: the person's record goes whole, the next one stays."""
    body = f"{HEADER}\n{line('O-1', 'C-3', name='A' + inside + 'secret')}\n{line('O-2', 'C-1')}\n"
    result = rewrite(body.encode(), ORDERS, PERSON)
    assert result.removed == 1
    assert result.body == f"{HEADER}\n{line('O-2', 'C-1')}\n".encode()


def test_records_put_without_line_breaks_are_cut_one_by_one() -> None:
    """Firehose keeps records as they are put: three on one line, one of them the person's."""
    records = ['{"event_id": "1", "user_id": "U-7"}', '{"event_id": "2", "user_id": "U-8"}',
               '{"event_id": "3", "user_id": "U-9"}']  # fmt: skip
    result = rewrite(("".join(records) + "\n").encode(), CLICKS, USER)
    assert result.removed == 1
    assert result.body == (records[1] + records[2] + "\n").encode()
    only = rewrite((records[0] + records[0] + "\n").encode(), CLICKS, USER)
    assert (only.removed, only.body) == (2, b"")


def test_the_reasons_beside_a_quarantined_file_stay_valid_json_with_the_value_erased() -> None:
    reasons = {"reason": "header_mismatch", "detail": "missing: order_id; unexpected: C-3, Ann",
               "source-key": "orders/export.csv"}  # fmt: skip
    body = json.dumps(reasons, indent=2).encode()
    result = rewrite(body, ORDERS, PERSON, "_quarantine/orders/x-export.csv.reason.json")
    assert result.removed == 1
    assert result.body is not None
    assert json.loads(result.body) == {**reasons, "detail": "[erased]"}


def test_spark_int96_timestamps_are_written_back_as_int96() -> None:
    table = pa.table({"customer_id": ["C-3", "C-1"],
                      "at": pa.array([1, 2], pa.timestamp("ns"))})  # fmt: skip
    out = io.BytesIO()
    pq.write_table(table, out, use_deprecated_int96_timestamps=True)
    result = rewrite(out.getvalue(), spec(format="parquet"), PERSON)
    assert result.body is not None
    written = pq.ParquetFile(io.BytesIO(result.body))
    assert written.schema.column(1).physical_type == "INT96"
    assert written.read().num_rows == 1


def test_a_file_without_the_person_is_left_as_it_is() -> None:
    body = f"{HEADER}\n{line('O-1', 'C-1')}\n".encode()
    result = rewrite(body, ORDERS, PERSON)
    assert (result.removed, result.body, result.delete, result.unsearched) == (0, None, None, None)


@pytest.fixture
def versioned() -> Any:
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="curated",
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})  # fmt: skip
        s3.put_bucket_versioning(Bucket="curated", VersioningConfiguration={"Status": "Enabled"})
        yield s3


def test_purge_leaves_only_current_versions_under_the_table_and_nothing_beside_it(
    versioned: Any,
) -> None:
    s3 = versioned
    for key in ("orders/data/a.parquet", "orders/data/b.parquet", "orders_x/data/c.parquet"):
        s3.put_object(Bucket="curated", Key=key, Body=b"1")
    s3.put_object(Bucket="curated", Key="orders/metadata/v1.metadata.json", Body=b"1")
    s3.put_object(Bucket="curated", Key="orders/metadata/v1.metadata.json", Body=b"2")
    s3.delete_object(Bucket="curated", Key="orders/data/a.parquet")  # an expired file
    s3.delete_object(Bucket="curated", Key="orders_x/data/c.parquet")  # another table's
    assert purge_deleted(s3, "s3://curated/orders/") == 3  # a's version and marker, v1's first
    listed = s3.list_object_versions(Bucket="curated")
    left = sorted((v["Key"], v["IsLatest"]) for v in listed["Versions"])
    assert left == [("orders/data/b.parquet", True), ("orders/metadata/v1.metadata.json", True),
                    ("orders_x/data/c.parquet", False)]  # fmt: skip
    assert [m["Key"] for m in listed["DeleteMarkers"]] == ["orders_x/data/c.parquet"]
    assert current_files(s3, "s3://curated/orders/") == [
        "s3://curated/orders/data/b.parquet", "s3://curated/orders/metadata/v1.metadata.json"
    ]  # fmt: skip


def test_versions_of_one_key_spanning_pages_of_the_listing_stay_together(versioned: Any) -> None:
    s3 = versioned
    for body in (b"1", b"2", b"3"):
        s3.put_object(Bucket="curated", Key="orders/a", Body=body)
    s3.delete_object(Bucket="curated", Key="orders/a")
    s3.put_object(Bucket="curated", Key="orders/b", Body=b"1")
    listed = list(versions(s3, "curated", "orders/", page_size=1))
    assert [(key, len(entries)) for key, entries in listed] == [("orders/a", 4), ("orders/b", 1)]
    assert listed[0][1][0]["Marker"]  # newest first: the delete marker


def test_the_search_reads_every_version_not_only_the_current_one(versioned: Any) -> None:
    s3 = versioned
    key = "orders/ingest_date=2026-11-01/a.csv"
    s3.put_object(Bucket="curated", Key=key, Body=f"{HEADER}\n{line('O-1', 'C-3')}\n".encode())
    s3.put_object(Bucket="curated", Key=key, Body=f"{HEADER}\n{line('O-1', 'C-1')}\n".encode())
    searched, found = remaining(s3, "s3://curated/orders/", ORDERS, PERSON)
    assert searched == 2
    assert [f["key"] for f in found] == [f"s3://curated/{key}"]


def test_a_record_is_written_once(versioned: Any) -> None:
    record = {"request_id": "r-1", "dataset": "orders", "outcome": "erased"}
    assert write_record(versioned, "s3://curated/erasure/", record) == (
        "s3://curated/erasure/r-1/orders.json"
    )
    with pytest.raises(ClientError, match="PreconditionFailed"):
        write_record(versioned, "s3://curated/erasure/", {**record, "outcome": "nothing_found"})
    body = versioned.get_object(Bucket="curated", Key="erasure/r-1/orders.json")["Body"].read()
    assert json.loads(body)["outcome"] == "erased"
