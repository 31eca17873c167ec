"""Every byte that arrives is kept or explained, from the ingest function to the curated table.

Each case is a file as a source sends it, declared as a team would declare it. It lands in
moto's S3 and goes through the ingest function; when it reaches raw, the curation job's read
(``glue_jobs.reader``) and flow (``glue_jobs.flows.curate``) merge it into a real Iceberg
table. Then, counted independently of any status:

    rows that arrived = rows in a quarantined file + rows quarantined by the job
                        + rows held back by a failed quality rule + rows in the curated table

and the bytes in raw (or quarantine) are the bytes that arrived. The last case is a real
public dataset with a real defect: the US airports of vega_datasets 0.9.0 (MIT), whose
unknown cities and states are written ``NA``.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from model.declarations import load_dataset
from tests.test_ingest_function import RAW, body, land, ledger, s3  # noqa: F401 (fixture)

pytest.importorskip("pyspark")

from pyspark.sql import SparkSession

from glue_jobs import flows, reader
from tests.iceberg_lake import new_table

import handler

AIRPORTS = Path(__file__).parent / "data" / "airports.csv"
DECLARATION = """
name = "things"
description = "Things, one row per thing."
owner = "things@example.com"
domain = "sales"
classification = "internal"
readers = ["analyst"]
primary_key = ["id"]
schedule = "rate(1 day)"

[source]
mode = "batch"
format = "{format}"
{source}

[[columns]]
name = "id"
type = "string"
description = "Key."
nullable = false

[[columns]]
name = "name"
type = "string"
description = "Name."

[[columns]]
name = "qty"
type = "int"
description = "How many."
"""
AIRPORTS_DECLARATION = """
name = "things"
description = "US airports."
owner = "things@example.com"
domain = "travel"
classification = "public"
readers = ["analyst"]
primary_key = ["iata"]
schedule = "rate(1 day)"

[source]
mode = "batch"
format = "csv"
{source}
""" + "".join(
    f'\n[[columns]]\nname = "{name}"\ntype = "{type_}"\ndescription = "{name}."\n'
    for name, type_ in (("iata", "string"), ("name", "string"), ("city", "string"),
                        ("state", "string"), ("country", "string"), ("latitude", "double"),
                        ("longitude", "double"))
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    id: str
    content: bytes
    rows: int  # rows that arrived, counted by hand (or by the csv module for real data)
    name: str = "things.csv"
    source: str = ""  # more [source] options
    format: str = "csv"
    reason: str | None = None  # the file's quarantine reason; None: it reaches raw
    detail: str = ""  # a fragment of the quarantine detail
    curated: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    failed_quality: int = 0
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> column -> value
    raw_text: str | None = None  # a quarantined row's raw text, exactly
    note: str = ""  # what the ingest function says of a file it sends on to raw
    declaration: str = DECLARATION


H = b"id,name,qty\n"
LATIN1 = H + "1,Société Aérienne Française,2\n".encode("iso-8859-1")
QUALITY_FAILS = "failing quality"
GOOD_LINES = b"".join(b'{"id": "%d", "qty": %d}\n' % (n, n) for n in range(20))
CASES = [
    Case("utf-8", H + "1,Zoë,2\n2,Café,3\n".encode(), 2, curated=2,
         values={"1": {"name": "Zoë", "qty": 2}}),
    Case("latin-1 declared utf-8", LATIN1, 1, reason="not_utf-8", detail="byte offset 18, line 2"),
    Case("latin-1 declared", LATIN1, 1, source='encoding = "iso-8859-1"', curated=1,
         values={"1": {"name": "Société Aérienne Française"}}),
    Case("windows-1252", H + b"1,\x80uro,1\n", 1, source='encoding = "windows-1252"', curated=1,
         values={"1": {"name": "€uro"}}),
    Case("windows-1252 undefined byte", H + b"1,\x81,1\n", 1, source='encoding = "windows-1252"',
         reason="not_windows-1252", detail="81"),
    Case("windows-1252 declared iso-8859-1", H + b"1,\x93O\x92Hare\x94,1\n", 1,
         source='encoding = "iso-8859-1"', reason="not_iso-8859-1",
         detail="the file is most likely windows-1252"),
    Case("gzip named .csv.gz", gzip.compress(H + b"1,a,1\n2,b,2\n"), 2, name="things.csv.gz",
         curated=2),
    Case("gzip named .csv", gzip.compress(H + b"1,a,1\n2,b,2\n"), 2, curated=2),
    Case("zip bomb", gzip.compress(H + b"0" * (3 * 1024 * 1024)), 1,
         reason="decompressed_too_large"),
    Case("a row with a field too many", H + b"1,a,1\n2,b,2,surplus\n", 2, curated=1,
         quarantined={"field_count": 1}, raw_text="2,b,2,surplus",
         note="(line 3: 4 fields; the header has 3)"),
    Case("a row with a field too few", H + b"1,a,1\n2,b\n", 2, curated=1,
         quarantined={"field_count": 1}, raw_text="2,b",
         note="(line 3: 2 fields; the header has 3)"),
    Case("a line break inside quotes", H + b'1,"two\nlines",1\n2,b,2\n', 2, curated=2,
         values={"1": {"name": "two\nlines"}}),
    Case("a quoted delimiter", H + b'1,"a, b",1\n', 1, curated=1, values={"1": {"name": "a, b"}}),
    Case("a column added upstream, ignored", b"id,name,colour,qty\n1,a,red,4\n", 1, curated=1,
         values={"1": {"qty": 4}}),
    Case("a column added upstream, refused", b"id,name,colour,qty\n1,a,red,4\n", 1,
         source='new_columns = "quarantine"', reason="header_mismatch",
         detail="unexpected: colour"),
    Case("columns in another order", b"qty,id,name\n4,1,a\n", 1, curated=1,
         values={"1": {"name": "a", "qty": 4}}),
    Case("a missing column", b"id,name\n1,a\n", 1, reason="header_mismatch", detail="missing: qty"),
    Case("a renamed column", b"id,name,quantity\n1,a,4\n", 1, reason="header_mismatch",
         detail="missing: qty; unexpected: quantity"),
    Case("NA without a null token", H + b"1,a,NA\n2,b,3\n", 2, curated=1,
         quarantined={"uncastable": 1}),
    Case("NA as a null token", H + b"1,NA,NA\n2,b,3\n", 2, source='null_values = ["", "NA"]',
         curated=2, values={"1": {"name": None, "qty": None}}),
    Case("a whole float without float_integers", H + b"1,a,517.0\n", 1,
         quarantined={"uncastable": 1}),
    Case("a whole float with float_integers", H + b"1,a,517.0\n2,b,517.5\n", 2,
         source="float_integers = true", curated=1, quarantined={"uncastable": 1},
         values={"1": {"qty": 517}}),
    Case("a failing quality rule", H + b"1,a,1\n2,b,2\n", 2, failed_quality=2,
         name=f"{QUALITY_FAILS}.csv"),
    # The ingest function refuses a file whose first 20 records are not all JSON objects; a
    # bad line after them is the job's to quarantine.
    Case("JSON lines with a bad line", GOOD_LINES + b'{"id": "bad", \n{"id": "last"}\n', 22,
         name="things.jsonl", format="jsonl", curated=21, quarantined={"malformed_json": 1}),
    Case("empty", b"", 0, reason="empty_file"),
]  # fmt: skip


def _airports() -> Case:
    content = AIRPORTS.read_bytes()
    rows = content.count(b"\n") - 1
    return Case("real: US airports with NA", content, rows, name="airports.csv",
                source='null_values = ["", "NA"]', curated=rows,
                values={"CLD": {"city": None, "state": None, "country": "USA"}},
                declaration=AIRPORTS_DECLARATION)  # fmt: skip


def _dataset(case: Case, folder: Path) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "things.toml"
    path.write_text(case.declaration.format(format=case.format, source=case.source))
    return load_dataset(path)


@pytest.mark.parametrize("case", [*CASES, _airports()], ids=lambda c: c.id)
def test_every_row_that_arrives_is_kept_or_explained(
    case: Case, s3: Any, spark: SparkSession, lake: str, tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    dataset = _dataset(case, tmp_path / "declarations")
    monkeypatch.setattr(handler, "specs", lambda: {"things": dataset.landing_spec()})
    said = handler.handler(land(s3, f"things/{case.name}", case.content), s3=s3)
    (record,) = ledger(s3)
    assert case.note in " ".join(said["notes"])
    kept = record["destination_key"]
    assert hashlib.sha256(body(s3, RAW, kept)).digest() == hashlib.sha256(case.content).digest()
    if case.reason is not None:
        assert (record["status"], record["reason"]) == ("quarantined", case.reason)
        assert case.detail in record["detail"]
        assert said["detail"] == record["detail"]
        return  # the whole file, all case.rows of it, is in quarantine with its reason
    assert record["status"] == "ingested", record
    local = tmp_path / "raw" / kept
    local.parent.mkdir(parents=True)
    local.write_bytes(body(s3, RAW, kept))
    spec = dataset.processing_spec()
    table = new_table(spark, lake, dataset)
    raw = reader.read_raw(spark, spec, [str(local)])
    run = flows.curate(
        raw, spec, salt="salt", table=table, quarantine_path=f"{tmp_path}/quarantine/",
        run_id="r1", check_quality=lambda _: ["RowCount > 5"] if QUALITY_FAILS in kept else [],
    )  # fmt: skip
    figures = run.figures
    in_table = spark.table(table).collect()
    failed = figures["rows_written"] if run.failed_rules else 0
    assert figures["rows_in"] == case.rows
    assert len(in_table) == case.curated
    assert figures["quarantined_by_reason"] == case.quarantined
    assert failed == case.failed_quality
    assert case.rows == len(in_table) + figures["rows_quarantined"] + failed
    by_key = {r[spec["primary_key"][0]]: r.asDict() for r in in_table}
    for key, values in case.values.items():
        assert {c: by_key[key][c] for c in values} == values
    if case.raw_text is not None:
        (row,) = spark.read.json(f"{tmp_path}/quarantine/run=r1/").collect()
        assert row["raw"] == case.raw_text
