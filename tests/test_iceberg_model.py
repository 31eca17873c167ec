"""The Iceberg definitions of the curated and mart tables, as the declarations give them."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.datasets import DatasetError
from model.declarations import load_dataset
from model.iceberg import curated_table, field_id, iceberg_type, mart_table
from tests.conftest import DATASETS, docs_example_declaration

GOOD = docs_example_declaration()


def _declare(text: str, folder: Path) -> Path:
    path = folder / "payments.toml"
    path.write_text(text)
    return path


def test_a_column_keeps_its_id_wherever_it_is_declared(tmp_path: Path) -> None:
    before = curated_table(load_dataset(_declare(GOOD, tmp_path)))
    # A column inserted first: every other column keeps its id (a positional id would move
    # each one, and Iceberg would read one column's data under another's name).
    moved = GOOD.replace("[[columns]]", '[[columns]]\nname = "channel"\ntype = "string"\n'
                         'description = "Sales channel."\n\n[[columns]]', 1)  # fmt: skip
    after = curated_table(load_dataset(_declare(moved, tmp_path)))
    assert {f.name: f.id for f in after.fields if f.name != "channel"} == {
        f.name: f.id for f in before.fields
    }
    assert after.field("channel").id not in {f.id for f in before.fields}
    assert after.fields[0].name == "channel"


def test_the_curated_table_holds_the_kept_columns_then_the_lineage_column() -> None:
    orders = load_dataset(DATASETS / "orders.toml")
    table = curated_table(orders)
    assert [f.name for f in table.fields] == [
        *(c.name for c in orders.columns if c.pii != "drop"),
        "ingest_date",
    ]
    assert table.field("customer_email").type == "string"  # hashed: a hex digest
    assert table.field("ordered_at").type == "timestamptz"
    assert table.field("amount").type == "decimal(12, 2)"
    assert "Personal data: salted SHA-256 hash" in table.field("customer_email").doc
    assert [(p.source, p.transform) for p in table.partition_fields] == [("order_date", "identity")]
    assert table.sort_columns == ("order_id",)
    assert table.properties["write.merge.mode"] == "merge-on-read"
    assert table.properties["pii_treatments"] == (
        "customer_id:hash,customer_email:hash,customer_name:drop"
    )


def test_a_timestamp_partition_is_the_day_of_the_timestamp(tmp_path: Path) -> None:
    text = GOOD.replace('partition_by = ["payment_date"]', 'partition_by = ["paid_at"]')
    text = text.replace('derived_from = "paid_at"\n', "")
    table = curated_table(load_dataset(_declare(text, tmp_path)))
    (partition,) = table.partition_fields
    assert (partition.name, partition.source, partition.transform) == (
        "paid_at_day", "paid_at", "day"
    )  # fmt: skip
    assert partition.field_id >= 1000


def test_an_unpartitioned_table_has_no_partition_field(tmp_path: Path) -> None:
    text = GOOD.replace('partition_by = ["payment_date"]\n', "")
    text = text.replace('derived_from = "paid_at"\n', "")
    assert curated_table(load_dataset(_declare(text, tmp_path))).partition_fields == ()


def test_two_names_with_one_field_id_fail_naming_the_file_and_both(tmp_path: Path) -> None:
    # crc32 collides for these two names (found by search): synth must refuse, not lose one.
    assert field_id("ca8bca") == field_id("c121809")
    text = GOOD.replace('name = "currency"', 'name = "ca8bca"').replace(
        'name = "amount"', 'name = "c121809"'
    )
    text = text.replace('"currency"', '"ca8bca"').replace('"amount"', '"c121809"')
    with pytest.raises(DatasetError) as error:
        curated_table(load_dataset(_declare(text, tmp_path)))
    assert "payments.toml" in str(error.value)
    assert "'c121809' and 'ca8bca'" in str(error.value) or "'ca8bca' and 'c121809'" in str(
        error.value
    )


def test_every_declared_type_has_an_iceberg_type() -> None:
    assert [iceberg_type(t) for t in ("string", "int", "bigint", "double", "boolean", "date",
                                      "timestamp", "decimal(38,0)")] == [
        "string", "int", "long", "double", "boolean", "date", "timestamptz", "decimal(38, 0)"
    ]  # fmt: skip


def test_a_mart_table_holds_its_declared_columns() -> None:
    orders = load_dataset(DATASETS / "orders.toml")
    for mart in orders.marts:
        table = mart_table(orders, mart)
        assert [f.name for f in table.fields] == [c.name for c in mart.columns]
        assert [p.source for p in table.partition_fields] == list(mart.partition_by)
