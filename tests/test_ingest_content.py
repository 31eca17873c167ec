"""The batch ingest function reading a file's content, run against moto's S3.

One read of the landed version hashes it and checks it: gzip by its magic bytes (with a limit
on the decompressed size), the declared text encoding decoded strictly, the CSV header's drift
against the declared columns, every row's number of fields, every JSON line. Whatever the
verdict, the object in raw or in quarantine holds exactly the bytes that landed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import time
import tracemalloc
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest

from blueprint.factory import ROOT
from tests.test_ingest_function import (
    MAX_BYTES,
    RAW,
    SAMPLES,
    assert_conserved,
    body,
    land,
    ledger,
    quarantined,
    raw_data,
    reason_of,
    s3,  # noqa: F401 (the fixture)
)

import content
import handler
import streams
import validation

ITEMS = {"format": "csv", "delimiter": ",", "header": True, "encoding": "utf-8",
         "null_values": [""], "new_columns": "ignore", "float_integers": False,
         "columns": ["id", "name", "price"]}  # fmt: skip
EVENTS = {**ITEMS, "format": "jsonl", "columns": ["id", "kind"]}
SALES = {**ITEMS, "format": "parquet"}
HEADER, ROWS = b"id,name,price\n", b"1,Zo\xc3\xab,2.5\n2,Caf\xc3\xa9,3\n"  # utf-8
GOOD = HEADER + ROWS
FUNCTION = ROOT / "lambda" / "ingest"
LATIN1 = b"id,name,price\n1,Zo\xeb,2.5\n"  # the same text in iso-8859-1 (byte 18 is 0xeb)


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


@cache
def zip_bomb() -> bytes:
    return gz(b"\0" * (50 * 1024 * 1024))  # 50 MB of zeros: about 50 KB gzipped


def json_lines(count: int) -> bytes:
    return b"".join(b'{"id": %d, "kind": "view"}\n' % n for n in range(1, count + 1))


@dataclass(frozen=True)
class Case:
    key: str
    content: bytes
    status: str
    reason: str | None = None
    detail: str = ""  # a fragment of the detail
    spec: dict[str, Any] = field(default_factory=dict)  # changes to the dataset's spec
    ends: str = ""  # how the raw (or quarantine) key ends
    record: dict[str, Any] = field(default_factory=dict)  # fields of the ledger record
    chunk: int = 0  # bytes per read of the landed object (0: the function's own)


CASES = {
    "utf-8": Case("items/a.csv", GOOD, "ingested", record={"rows": 2, "compression": None}),
    "utf-8-bom": Case("items/a.csv", b"\xef\xbb\xbf" + GOOD, "ingested", record={"rows": 2}),
    "latin-1-declared-utf-8": Case(
        "items/a.csv", LATIN1, "quarantined", "not_utf-8", "byte offset 18, line 2: bytes eb"
    ),
    "latin-1-declared-iso-8859-1": Case(
        "items/a.csv", LATIN1, "ingested", spec={"encoding": "iso-8859-1"}, record={"rows": 1}
    ),
    "windows-1252-undefined-byte": Case(
        "items/a.csv",
        b"id,name,price\n1,Caf\xe9,2\n2,\x81,3\n",
        "quarantined",
        "not_windows-1252",
        "byte offset 25, line 3: bytes 81",
        {"encoding": "windows-1252"},
    ),
    # Valid ISO-8859-1, but 0x93 and 0x94 are control characters there: a windows-1252
    # file's curly quotes, which would be kept as invisible characters.
    "windows-1252-declared-iso-8859-1": Case(
        "items/a.csv",
        b"id,name,price\n1,\x93O\x92Hare\x94,2\n",
        "quarantined",
        "not_iso-8859-1",
        "byte offset 16, line 2: byte 93 is a control character in iso-8859-1, never text: "
        "the file is most likely windows-1252 (curly quotes, dashes, the euro sign); declare "
        'encoding = "windows-1252"',
        {"encoding": "iso-8859-1"},
    ),
    "windows-1252-declared-windows-1252": Case(
        "items/a.csv",
        b"id,name,price\n1,\x93O\x92Hare\x94,2\n",
        "ingested",
        spec={"encoding": "windows-1252"},
        record={"rows": 1},
    ),
    "header-delimited-otherwise": Case(
        "items/a.csv",
        b"id;name;price\n1;a;2\n",
        "quarantined",
        "header_mismatch",
        "unexpected: id;name;price (the header looks delimited by ';': declare that delimiter)",
    ),
    "header-in-upper-case": Case(
        "items/a.csv",
        b"ID,NAME,PRICE\n1,a,2\n",
        "quarantined",
        "header_mismatch",
        "(the names differ only in case or spaces: names are compared exactly)",
    ),
    "utf-8-bom-declared-iso-8859-1": Case(
        "items/a.csv",
        b"\xef\xbb\xbf" + GOOD.replace(b"\xc3\xab", b"e").replace(b"\xc3\xa9", b"e"),
        "quarantined",
        "header_mismatch",
        "(the header starts with a UTF-8 byte-order mark: the file is UTF-8, declare it so)",
        {"encoding": "iso-8859-1"},
    ),
    "utf-8-cut-at-the-end": Case(
        "items/a.csv", GOOD + b"3,\xc3", "quarantined", "not_utf-8", "line 4: bytes c3"
    ),
    "gzip-named-csv-gz": Case(
        "items/a.csv.gz",
        gz(GOOD),
        "ingested",
        ends="-a.csv.gz",
        record={"compression": "gzip", "rows": 2, "content_bytes": len(GOOD)},
    ),
    "gzip-named-csv": Case("items/a.csv", gz(GOOD), "ingested", ends="-a.csv.gz"),
    "gzip-multi-member": Case(
        "items/a.csv.gz", gz(GOOD) + gz(b"3,x,4\n4,y,5\n"), "ingested", record={"rows": 4}
    ),
    "gzip-bad-header": Case(
        "items/a.csv.gz",
        gz(b"id,name,cost\n1,a,2\n"),
        "quarantined",
        "header_mismatch",
        "missing: price; unexpected: cost",
        ends="-a.csv.gz",
    ),
    "gzip-latin-1": Case(
        "items/a.csv.gz",
        gz(LATIN1),
        "quarantined",
        "not_utf-8",
        "byte offset 18 of the decompressed content, line 2",
    ),
    "gzip-truncated": Case(
        "items/a.csv.gz", gz(GOOD * 50)[:-12], "quarantined", "corrupt_gzip", "cut short"
    ),
    "gzip-corrupt": Case(
        "items/a.csv.gz",
        gz(GOOD)[:-8] + b"\0\0\0\0" + gz(GOOD)[-4:],
        "quarantined",
        "corrupt_gzip",
        "incorrect data check",
    ),
    "gzip-of-nothing": Case("items/a.csv.gz", gz(b""), "quarantined", "empty_file"),
    "gz-name-not-gzip": Case("items/a.csv.gz", GOOD, "quarantined", "not_gzip", ".gz"),
    "gzip-parquet": Case(
        "sales/a.parquet",
        gz(b"PAR1" + b"x" * 20 + b"PAR1"),
        "quarantined",
        "not_parquet",
        "gzip",
        ends="-a.parquet.gz",
    ),
    "parquet": Case("sales/a.parquet", b"PAR1" + b"x" * 20 + b"PAR1", "ingested"),
    "parquet-cut-short": Case(
        "sales/a.parquet", b"PAR1" + b"x" * 20, "quarantined", "not_parquet", "cut short"
    ),
    "extra-column-ignored": Case(
        "items/a.csv",
        b"id,name,price,x\n1,a,2,3\n",
        "ingested",
        record={"ignored_columns": ["x"], "rows_with_wrong_field_count": 0},
    ),
    # A trailing delimiter on every line, header included: a column without a name.
    "trailing-delimiter-everywhere": Case(
        "items/a.csv",
        b"id,name,price,\n1,a,2,\n",
        "ingested",
        record={
            "ignored_columns": [""],
            "notes": [
                "ignored_columns: (one without a name) (the declaration lacks them; accepted as "
                'new_columns = "ignore")'
            ],
        },
    ),
    "extra-column-quarantined": Case(
        "items/a.csv",
        b"id,name,price,x\n1,a,2,3\n",
        "quarantined",
        "header_mismatch",
        "unexpected: x",
        {"new_columns": "quarantine"},
    ),
    "missing-column": Case(
        "items/a.csv", b"id,name\n1,a\n", "quarantined", "header_mismatch", "missing: price"
    ),
    "renamed-column": Case(
        "items/a.csv",
        b"id,title,price\n1,a,2\n",
        "quarantined",
        "header_mismatch",
        "missing: name; unexpected: title",
    ),
    "duplicate-column": Case(
        "items/a.csv",
        b"id,name,price,name\n1,a,2,b\n",
        "quarantined",
        "header_mismatch",
        "duplicate: name",
    ),
    "reordered-header": Case("items/a.csv", b"price,id,name\n2,1,a\n", "ingested"),
    "rows-with-too-many-and-too-few-fields": Case(
        "items/a.csv",
        b"id,name,price\n1,a,2\n2,b,3,4\n3,c\n\n4,d,5\n",
        "ingested",
        record={
            "rows": 4,
            "rows_with_wrong_field_count": 2,
            "wrong_field_counts": [[3, 4], [4, 2]],
            "notes": [
                "rows_with_wrong_field_count: 2 (line 3: 4 fields, line 4: 2 fields; "
                "the header has 3)"
            ],
        },
    ),
    "quoted-line-break-is-one-row": Case(
        "items/a.csv",
        b'id,name,price\n1,"two\nlines",2\n2,b\n',
        "ingested",
        record={"rows": 2, "rows_with_wrong_field_count": 1, "wrong_field_counts": [[4, 2]]},
    ),
    "carriage-return-alone-in-a-row": Case(
        "items/a.csv", b"id,name,price\n1,a\rb,2\n", "quarantined", "malformed_csv", "line 2"
    ),
    "no-header-first-row-short": Case(
        "items/a.csv", b"1,a\n", "quarantined", "header_mismatch", "2 fields", {"header": False}
    ),
    "no-header-later-row-short": Case(
        "items/a.csv",
        b"1,a,2\n2,b\n",
        "ingested",
        spec={"header": False},
        record={
            "rows": 2,
            "notes": ["rows_with_wrong_field_count: 1 (line 2: 2 fields; the declaration has 3)"],
        },
    ),
    "json-lines-later-bad-line": Case(
        "events/a.jsonl",
        json_lines(25) + b"[1]\n" + json_lines(2) + b"{broken\n",
        "ingested",
        record={"rows": 29, "lines_not_json_objects": 2, "not_json_object_lines": [26, 29]},
    ),
    "json-lines-gzip": Case(
        "events/a.jsonl.gz", gz(json_lines(3)), "ingested", ends="-a.jsonl.gz", record={"rows": 3}
    ),
    "json-lines-nested-too-deeply": Case(
        "events/a.jsonl",
        json_lines(20) + b"[" * 100_000 + b"\n",
        "ingested",
        record={"lines_not_json_objects": 1, "not_json_object_lines": [21]},
    ),
    "json-lines-new-key-ignored": Case(
        "events/a.jsonl",
        json_lines(1) + b'{"id": 2, "extra": 1}\n',
        "ingested",
        record={"ignored_columns": ["extra"]},
    ),
    "json-lines-new-key-quarantined": Case(
        "events/a.jsonl",
        json_lines(1) + b'{"id": 2, "extra": 1}\n',
        "quarantined",
        "unexpected_keys",
        "line 2 has keys the declaration lacks: extra",
        {"new_columns": "quarantine"},
    ),
    "json-lines-latin-1": Case(
        "events/a.jsonl",
        b'{"id": 1, "kind": "caf\xe9"}\n',
        "quarantined",
        "not_utf-8",
        "byte offset 22, line 1: bytes e9",
    ),
    "multi-byte-characters-split-across-reads": Case(
        "items/a.csv", HEADER + ROWS * 3, "ingested", record={"rows": 6}, chunk=1
    ),
    "gzip-read-a-byte-at-a-time": Case(
        "items/a.csv.gz", gz(HEADER + ROWS * 3), "ingested", record={"rows": 6}, chunk=1
    ),
    "invalid-byte-found-across-reads": Case(
        "items/a.csv", LATIN1, "quarantined", "not_utf-8", "byte offset 18, line 2", chunk=3
    ),
}


@pytest.fixture
def specs(s3: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:  # noqa: F811
    """The declared datasets, and three small ones whose spec each case may change."""
    declared = dict(handler.specs())
    declared.update(items=dict(ITEMS), events=dict(EVENTS), sales=dict(SALES))
    monkeypatch.setattr(handler, "specs", lambda: declared)
    return declared


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_file_is_read_once_and_judged_by_its_content(
    s3: Any,  # noqa: F811
    specs: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    case: Case,
) -> None:
    specs[case.key.split("/")[0]].update(case.spec)
    if case.chunk:
        monkeypatch.setattr(streams, "READ_CHUNK", case.chunk)
    reads = count_reads(s3, monkeypatch)
    result = handler.handler(land(s3, case.key, case.content), s3=s3)
    assert (result["status"], result["reason"]) == (case.status, case.reason)
    assert reads == [case.key]  # one read: the hash and every check
    (kept,) = raw_data(s3) if case.status == "ingested" else quarantined(s3)
    assert kept == result["destination"]
    assert kept.endswith(case.ends or case.key.rsplit("/", 1)[1])
    assert sha(body(s3, RAW, kept)) == sha(case.content)  # exactly the bytes that landed
    (record,) = ledger(s3)
    assert {k: record[k] for k in case.record} == case.record
    if case.status == "quarantined":
        explanation = reason_of(s3, kept)
        assert case.detail in explanation["detail"]
        assert record["detail"] == explanation["detail"]
        assert "\ufffd" not in explanation["detail"]
    else:
        metadata = s3.head_object(Bucket=RAW, Key=kept)["Metadata"]
        assert metadata["content-sha256"] == sha(case.content)
    assert_conserved(s3, 1)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def count_reads(client: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys the function reads from landing (ranged or whole)."""
    reads: list[str] = []
    real = client.get_object

    def get_object(**kwargs: Any) -> Any:
        if kwargs["Bucket"] != RAW:
            reads.append(kwargs["Key"])
        return real(**kwargs)

    monkeypatch.setattr(client, "get_object", get_object)
    return reads


def test_a_zip_bomb_is_refused_without_decompressing_it(
    s3: Any,  # noqa: F811
    specs: dict[str, Any],
) -> None:
    bomb = zip_bomb()
    assert len(bomb) < MAX_BYTES < 50 * 1024 * 1024
    started = time.perf_counter()
    result = handler.handler(land(s3, "items/small.csv.gz", bomb))
    assert time.perf_counter() - started < 5
    assert (result["status"], result["reason"]) == ("quarantined", "decompressed_too_large")
    (kept,) = quarantined(s3)
    assert f"more than {MAX_BYTES} bytes, the limit" in reason_of(s3, kept)["detail"]
    (record,) = ledger(s3)
    assert record["content_bytes"] <= MAX_BYTES + streams.INFLATE_CHUNK  # no further
    assert body(s3, RAW, kept) == bomb
    assert_conserved(s3, 1)


def test_a_gzip_event_delivered_twice_is_handled_once(
    s3: Any,  # noqa: F811
    specs: dict[str, Any],
) -> None:
    event = land(s3, "orders/day.csv", gz((SAMPLES / "orders.csv").read_bytes()))
    first, second = handler.handler(event), handler.handler(event)
    assert (first["status"], second["status"]) == ("ingested", "already_processed")
    assert raw_data(s3) == [first["destination"]]
    assert first["destination"].endswith("-day.csv.gz")
    assert_conserved(s3, 1)


def test_the_same_gzip_content_uploaded_twice_is_a_duplicate(
    s3: Any,  # noqa: F811
    specs: dict[str, Any],
) -> None:
    packed = gz((SAMPLES / "orders.csv").read_bytes())
    first = handler.handler(land(s3, "orders/monday.csv.gz", packed))
    again = handler.handler(land(s3, "orders/resent.csv", packed))  # named without .gz
    assert (first["status"], again["status"]) == ("ingested", "duplicate")
    assert again["destination"] == first["destination"]
    (raw_key,) = raw_data(s3)
    assert body(s3, RAW, raw_key) == packed
    duplicate = next(r for r in ledger(s3) if r["status"] == "duplicate")
    assert duplicate["compression"] == "gzip"
    assert duplicate["rows"] == first_rows(s3)
    assert_conserved(s3, 2)


def first_rows(client: Any) -> int:
    return int(next(r for r in ledger(client) if r["status"] == "ingested")["rows"])


def test_the_log_line_says_which_rows_the_curation_job_will_quarantine(
    s3: Any,  # noqa: F811
    specs: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler.handler(land(s3, "items/a.csv", b"id,name,price\n1,a,2\n2,b\n"))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    (log_line,) = [line for line in lines if "message" in line]
    assert log_line["status"] == "ingested"
    assert log_line["rows"] == 2
    assert log_line["rows_with_wrong_field_count"] == 1
    assert log_line["wrong_field_counts"] == [[3, 2]]
    assert log_line["notes"] == [
        "rows_with_wrong_field_count: 1 (line 3: 2 fields; the header has 3)"
    ]


class Generated:
    """A landed body made up as it is read, never held whole: ``rows`` CSV rows."""

    def __init__(self, rows: int) -> None:
        row = b"1234567,some name with \xc3\xa9 accents,12.50\n"
        self.block = row * 4096
        self.left = rows // 4096
        self.buffer = b"id,name,price\n"
        self.digest = hashlib.sha256()

    def read(self, size: int) -> bytes:
        while len(self.buffer) < size and self.left:
            self.buffer += self.block
            self.left -= 1
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        self.digest.update(out)
        return out


def test_reading_a_file_holds_a_chunk_at_a_time_not_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "READ_CHUNK", 256 * 1024)
    landed = Generated(rows=250_000)  # about 10 MB
    tracemalloc.start()
    try:
        result = content.scan(landed, ITEMS, max_bytes=1 << 30, gz_name=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.rejection is None
    assert result.findings.rows == 4096 * (250_000 // 4096)
    assert result.findings.content_bytes > 9_000_000
    assert result.sha256 == landed.digest.hexdigest()
    assert peak < 4_000_000  # chunks, their text and lines (2.5 MB measured), not 10 MB


def test_lines_are_whole_whatever_the_pieces() -> None:
    pieces = iter(["a,b", "\r\n", "c", "", ",d\n\ne", "\n", "f"])
    assert list(streams.split_lines(pieces)) == ["a,b\r\n", "c,d\n", "\n", "e\n", "f"]
    with pytest.raises(validation.Rejected, match="line_too_long"):
        list(streams.split_lines(iter(["x" * 10, "y" * 10]), max_chars=15))


def test_a_check_that_needs_few_bytes_still_hashes_them_all() -> None:
    result = content.scan(io.BytesIO(b"PAR1PAR1"), SALES, max_bytes=100, gz_name=False)
    assert result.sha256 == sha(b"PAR1PAR1")


def test_every_reason_the_function_gives_is_explained_in_the_docs() -> None:
    code = "\n".join(path.read_text() for path in FUNCTION.glob("*.py"))
    reasons = set(re.findall(r'Reject(?:ed|ion)\(\s*f?"([a-z_{}]+)"', code))
    assert {"decompressed_too_large", "corrupt_gzip", "not_{encoding}"} <= reasons
    docs = (ROOT / "docs" / "ingest.md").read_text()
    rows = {line.split("|")[1].strip() for line in docs.splitlines() if line.startswith("| `")}
    documented = {name for row in rows for name in re.findall(r"`([a-z_<>-]+)`", row)}
    missing = {r for r in reasons if r.replace("{encoding}", "<encoding>") not in documented}
    assert not missing, f"add these reasons to docs/ingest.md: {missing}"


def test_the_record_lists_the_first_twenty_rows_and_counts_the_rest() -> None:
    landed = io.BytesIO(HEADER + b"1,a\n" * 25 + ROWS)
    result = content.scan(landed, ITEMS, max_bytes=1 << 20, gz_name=False)
    assert result.rejection is None
    found = result.findings
    assert (found.rows, found.rows_with_wrong_field_count) == (27, 25)
    assert found.wrong_field_counts == [(line, 2) for line in range(2, 22)]
    assert found.notes == [
        "rows_with_wrong_field_count: 25 ("
        + ", ".join(f"line {n}: 2 fields" for n in range(2, 22))
        + " and 5 more; the header has 3)"
    ]
