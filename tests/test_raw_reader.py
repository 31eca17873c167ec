"""The shared read of raw (``glue_jobs.reader``) and what the transform makes of it, on real
bytes in files: encodings, gzip, columns by name, field counts, null tokens, whole floats.

Each case writes its files under an ``ingest_date=`` folder, reads them as both runners do
(``reader.read_raw``), labels the rows as the flow does (``transforms.labelled``) and holds
rows in = rows curated + rows quarantined (``transforms.tally`` raises otherwise).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from model.declarations import load_dataset
from tests.conftest import DATASETS

pytest.importorskip("pyspark")

from pyspark.sql import SparkSession
from pyspark.sql.functions import col

from glue_jobs import flows, reader, transforms

DAY = "2026-11-20"
HEADER = b"id,name,qty\n"


def spec(**source: Any) -> dict[str, Any]:
    """A dataset of three columns (``id`` the key, ``name``, ``qty`` an int), CSV unless
    ``source`` says otherwise; its ``source`` has every key a declaration's spec has."""
    base = {"format": "csv", "delimiter": ",", "header": True, "encoding": "utf-8",
            "null_values": [""], "new_columns": "ignore", "float_integers": False,
            "columns": ["id", "name", "qty"]}  # fmt: skip
    return {
        "name": "things",
        "columns": [
            {"name": "id", "type": "string", "nullable": False, "pii": None, "derived_from": None},
            {"name": "name", "type": "string", "nullable": True, "pii": None, "derived_from": None},
            {"name": "qty", "type": "int", "nullable": True, "pii": None, "derived_from": None},
        ],
        "primary_key": ["id"],
        "partition_by": [],
        "source": {**base, **source},
    }


def test_the_test_spec_has_the_source_keys_a_declaration_gives() -> None:
    declared = load_dataset(DATASETS / "orders.toml").processing_spec()["source"]
    assert set(spec()["source"]) == set(declared)


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, bytes]
    curated: dict[str, dict[str, Any]]  # by id: the values expected
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (reason, raw)
    source: dict[str, Any] = field(default_factory=dict)


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)


CASES = [
    Case("latin-1 declared iso-8859-1",
         {"a.csv": HEADER + "1,Société Aérienne Française,2\n".encode("iso-8859-1")},
         {"1": {"name": "Société Aérienne Française", "qty": 2}},
         source={"encoding": "iso-8859-1"}),
    Case("windows-1252 euro sign and quotes",
         {"a.csv": HEADER + "1,€ 5 “Zoë” œ,2\r\n".encode("windows-1252")},
         {"1": {"name": "€ 5 “Zoë” œ", "qty": 2}},
         source={"encoding": "windows-1252"}),
    Case("gzip, its header read from inside the gzip",
         {"a-orders.csv.gz": gzipped(b"qty,id,name\n2,1,gz\n3,2,zipped\n")},
         {"1": {"name": "gz", "qty": 2}, "2": {"name": "zipped", "qty": 3}}),
    Case("two header orders and an extra column: values by name",
         {"a.csv": HEADER + b"1,first,2\n",
          "b.csv": b"qty,extra,name,id\n5,ignored,second,2\n"},
         {"1": {"name": "first", "qty": 2}, "2": {"name": "second", "qty": 5}}),
    Case("a field too many: quarantined whole, as it arrived",
         {"a.csv": HEADER + b"1,a,2\n2,b,3,4\r\n"},
         {"1": {"name": "a", "qty": 2}},
         [("field_count", "2,b,3,4")]),
    Case("a field too few",
         {"a.csv": HEADER + b"1,a,2\n3,  c \n"},
         {"1": {"name": "a", "qty": 2}},
         [("field_count", "3,  c ")]),
    Case("a field too many in a file whose header has another order",
         {"a.csv": b"name,qty,id\nx,1,9,extra\n"},
         {},
         [("field_count", "x,1,9,extra")]),
    Case("a quoted delimiter is part of its field, a doubled quote is a quote",
         {"a.csv": HEADER + b'4,"d, e",5\n5,"say ""hi""",6\n'},
         {"4": {"name": "d, e", "qty": 5}, "5": {"name": 'say "hi"', "qty": 6}}),
    Case("NA is null when declared a null token",
         {"a.csv": HEADER + b"1,NA, NA \n2,,3\n"},
         {"1": {"name": None, "qty": None}, "2": {"name": None, "qty": 3}},
         source={"null_values": ["", "NA"]}),
    Case("NA is a value otherwise",
         {"a.csv": HEADER + b"1,NA,2\n2,b,NA\n"},
         {"1": {"name": "NA", "qty": 2}},
         [("uncastable:qty", '{"id":"2","name":"b","qty":"NA"}')]),
    Case("517.0 is an int with float_integers",
         {"a.csv": HEADER + b"1,a,517.0\n2,b,5.17e2\n3,c,517.00\n4,d,517.5\n"},
         {"1": {"qty": 517}, "2": {"qty": 517}, "3": {"qty": 517}},
         [("uncastable:qty", '{"id":"4","name":"d","qty":"517.5"}')],
         source={"float_integers": True}),
    Case("517.0 is uncastable without float_integers",
         {"a.csv": HEADER + b"1,a,517\n2,b,517.0\n"},
         {"1": {"qty": 517}},
         [("uncastable:qty", '{"id":"2","name":"b","qty":"517.0"}')]),
    Case("a malformed JSON line",
         {"a.jsonl": b'{"id": "1", "name": "a", "qty": 2}\n{"id": "2", "name": \n'},
         {"1": {"name": "a", "qty": 2}},
         [("malformed_json", '{"id": "2", "name": ')],
         source={"format": "jsonl"}),
    Case("JSON lines gzipped, a number read as written, NA a null token",
         {"a.jsonl.gz": gzipped(b'{"id": "1", "name": "NA", "qty": 517.0}\n')},
         {"1": {"name": None, "qty": 517}},
         source={"format": "jsonl", "null_values": ["", "NA"], "float_integers": True}),
]  # fmt: skip


def write(folder: Path, files: dict[str, bytes]) -> list[str]:
    paths = []
    for name, data in files.items():
        path = folder / f"ingest_date={DAY}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def labelled(spark: SparkSession, dataset: dict[str, Any], files: list[str]) -> tuple[Any, ...]:
    """The flow's first steps (ingest date, the transform, the tally) without a table."""
    raw = reader.read_raw(spark, dataset, files)
    raw = raw.withColumn(transforms.INGEST_DATE, flows.ingest_dates(raw, flows.SOURCE_FILE))
    rows_in = raw.count()
    rows = transforms.labelled(raw, dataset, salt="salt").cache()
    figures = transforms.tally(rows_in, rows)  # raises unless rows in = curated + quarantined
    curated, quarantine = transforms.split(rows, dataset)
    return figures, curated.collect(), quarantine.collect()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_raw_bytes_reach_curated_or_quarantine(
    spark: SparkSession, tmp_path: Path, case: Case
) -> None:
    dataset = spec(**case.source)
    files = write(tmp_path, case.files)
    figures, curated, quarantined = labelled(spark, dataset, files)

    assert figures["rows_in"] == len(case.curated) + len(case.quarantined)
    assert figures["rows_in"] == figures["rows_written"] + figures["rows_quarantined"]
    by_id = {row["id"]: row.asDict() for row in curated}
    assert set(by_id) == set(case.curated)
    for key, values in case.curated.items():
        assert {name: by_id[key][name] for name in values} == values
        assert str(by_id[key]["ingest_date"]) == DAY
    assert sorted((r["reason"], r["raw"]) for r in quarantined) == sorted(case.quarantined)
    for row in quarantined:  # a quarantined row names its raw file
        assert row["source_file"].endswith(f"ingest_date={DAY}/{next(iter(case.files))}")


def test_an_extra_column_is_kept_in_the_raw_values_of_a_quarantined_row(
    spark: SparkSession, tmp_path: Path
) -> None:
    files = write(tmp_path, {"b.csv": b"qty,extra,name,id\nfive,kept,b,2\n"})
    _, curated, (row,) = labelled(spark, spec(), files)
    assert curated == []
    assert row["reason"] == "uncastable:qty"
    assert json.loads(row["raw"]) == {"qty": "five", "extra": "kept", "name": "b", "id": "2"}


def test_a_file_without_a_header_maps_by_the_declared_order(
    spark: SparkSession, tmp_path: Path
) -> None:
    files = write(tmp_path, {"a.csv": b"1;a;2\n2;b\n"})
    _, curated, quarantined = labelled(spark, spec(header=False, delimiter=";"), files)
    assert [(r["id"], r["name"], r["qty"]) for r in curated] == [("1", "a", 2)]
    assert [(r["reason"], r["raw"]) for r in quarantined] == [("field_count", "2;b")]


def test_no_new_files_read_as_no_rows(spark: SparkSession) -> None:
    raw = reader.read_raw(spark, spec(), [])
    assert raw.count() == 0
    assert raw.columns == ["id", "name", "qty", flows.SOURCE_FILE]


def test_the_header_is_read_through_hadoop_decompressed_and_decoded(
    spark: SparkSession, tmp_path: Path
) -> None:
    plain, packed, empty = write(tmp_path, {
        "a.csv": "nom,société\n1,2\n".encode("iso-8859-1"),
        "b.csv.gz": gzipped("\ufeffid,\"na,me\"\r\n1,2\r\n".encode()),
        "c.csv": b"",
    })  # fmt: skip
    assert reader.first_line(spark, plain, "ISO-8859-1") == "nom,société"
    assert reader.first_line(spark, f"file://{plain}", "ISO-8859-1") == "nom,société"
    line = reader.first_line(spark, packed, "UTF-8")
    assert line is not None
    assert reader.header_names(line, ",") == ("id", "na,me")
    assert reader.first_line(spark, empty, "UTF-8") is None


def test_a_header_naming_a_column_twice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"x\.csv: the header names id more than once"):
        reader.header_names("id,name,ID", ",", "x.csv")


def test_a_wrong_field_count_is_flagged_in_a_query_of_some_columns(
    spark: SparkSession, tmp_path: Path
) -> None:
    """Spark 3.5's CSV reader marks a row with a field too many or too few as malformed; with
    column pruning (Spark's default) a line-by-line read parses only the selected fields and
    misses both. The reader reads whole records (``multiLine``, which also keeps a line break
    inside quotes in its field) with pruning off: a query of one column still sees them."""
    (file,) = write(tmp_path, {"a.csv": HEADER + b"1,a,2\n2,b,3,4\n3,c\n"})
    malformed = col(transforms.MALFORMED).isNotNull()
    key = "spark.sql.csv.parser.columnPruning.enabled"
    raw = reader.read_raw(spark, spec(), [file])
    assert spark.conf.get(key) == "false"
    assert sorted(r["id"] for r in raw.filter(malformed).select("id").collect()) == ["2", "3"]
    try:
        spark.conf.set(key, "true")
        assert sorted(r["id"] for r in raw.filter(malformed).select("id").collect()) == ["2", "3"]
    finally:
        spark.conf.set(key, "false")


def test_the_local_run_finds_gzipped_samples(tmp_path: Path) -> None:
    from local_lake.samples import extension, sample_file

    orders = load_dataset(DATASETS / "orders.toml")
    (tmp_path / "orders.csv.gz").write_bytes(gzipped(HEADER))
    (tmp_path / "orders-day2.csv").write_bytes(HEADER)
    first, second = sample_file(orders, tmp_path), sample_file(orders, tmp_path, 2)
    assert (first, second) == (tmp_path / "orders.csv.gz", tmp_path / "orders-day2.csv")
    assert (extension(first), extension(second)) == (".csv.gz", ".csv")
    assert sample_file(orders, tmp_path, 3) is None
    (tmp_path / "orders.csv").write_bytes(HEADER)
    with pytest.raises(ValueError, match="two samples for one day"):
        sample_file(orders, tmp_path)
