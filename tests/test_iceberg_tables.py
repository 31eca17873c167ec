"""The curated and analytics tables as the template declares them: Iceberg v2, created from
``OpenTableFormatInput`` alone, in the shape that survives every later deploy.

What must hold for a table to keep its data (cdk_constructs/catalog/iceberg_table.py says
why): no ``TableInput`` ever (an update sending one rewrites the table as a plain Glue table
without ``table_type`` and ``metadata_location``); ids derived from names, so a column keeps
its id whatever is added around it; and no change of a declaration touches a property whose
change replaces the table (the create-only properties of ``AWS::Glue::Table``, as
CloudFormation's resource schema lists them).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import assertions
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from blueprint.factory import Blueprint
from model.datasets import Dataset
from model.iceberg import TABLE_PROPERTIES, field_id, iceberg_type
from model.vocabulary import LINEAGE_COLUMN
from tests.conftest import DATASETS, built, datasets_folder, make_blueprint, resources, template

# The only top-level properties of an Iceberg table resource.
TABLE_PROPERTIES_ALLOWED = {"CatalogId", "DatabaseName", "Name", "OpenTableFormatInput"}


def iceberg_tables(env: str, dataset: str) -> dict[str, dict[str, Any]]:
    """The dataset stack's Glue tables, by logical ID (their properties)."""
    tmpl = template(env, f"Dataset-{dataset}")
    return {lid: t["Properties"] for lid, t in resources(tmpl, "AWS::Glue::Table").items()}


def table_input(props: dict[str, Any]) -> dict[str, Any]:
    return dict(props["OpenTableFormatInput"]["IcebergInput"]["IcebergTableInput"])


def assert_iceberg_v2(props: dict[str, Any]) -> None:
    assert "TableInput" not in props
    assert set(props) == TABLE_PROPERTIES_ALLOWED
    iceberg = props["OpenTableFormatInput"]["IcebergInput"]
    assert iceberg["MetadataOperation"] == "CREATE"
    assert iceberg["Version"] == "2"  # Athena reads and writes v2, not v3
    properties = table_input(props)["Properties"]
    for key, value in TABLE_PROPERTIES.items():
        assert properties[key] == value
    for operation in ("delete", "update", "merge"):
        assert properties[f"write.{operation}.mode"] == "merge-on-read"


def assert_partitioned(table: dict[str, Any], partition_by: tuple[str, ...], types: dict[str, str]):
    """The spec partitions by the declared columns: a date by its value, a timestamp by day."""
    fields = table.get("PartitionSpec", {}).get("Fields", [])
    assert [f["SourceId"] for f in fields] == [field_id(p) for p in partition_by]
    for spec, column in zip(fields, partition_by, strict=True):
        transform = "day" if types[column] == "timestamp" else "identity"
        assert spec["Transform"] == transform
        assert spec["Name"] == (f"{column}_day" if transform == "day" else column)
    assert len({f["FieldId"] for f in fields}) == len(fields)
    if not partition_by:
        assert "PartitionSpec" not in table


def test_every_curated_table_is_its_declaration_as_iceberg_v2(env: str) -> None:
    datasets = built(env).datasets
    assert datasets
    for dataset in datasets:
        tables = iceberg_tables(env, dataset.name)
        (props,) = [p for lid, p in tables.items() if lid.startswith("CuratedTable")]
        assert props["Name"] == dataset.name
        assert_iceberg_v2(props)
        table = table_input(props)
        fields = table["Schema"]["Fields"]
        expected = [
            (field_id(c.name), c.name, iceberg_type(dataset.curated_type(c)))
            for c in dataset.table_columns
        ] + [(field_id(LINEAGE_COLUMN), LINEAGE_COLUMN, "date")]
        assert [(f["Id"], f["Name"], f["Type"]) for f in fields] == expected
        assert LINEAGE_COLUMN == "ingest_date"
        types = {c.name: c.type for c in dataset.columns}
        assert_partitioned(table, dataset.partition_by, types)
        assert table["Properties"]["comment"] == dataset.description
        # Rows are sorted by primary key within a file.
        order = table["WriteOrder"]["Fields"]
        assert [f["SourceId"] for f in order] == [field_id(k) for k in dataset.primary_key]


def test_every_mart_table_is_its_declaration_as_iceberg_v2(env: str) -> None:
    marts = [(d, m) for d in built(env).datasets for m in d.marts]
    assert marts
    for dataset, mart in marts:
        tables = iceberg_tables(env, dataset.name)
        (props,) = [p for p in tables.values() if p["Name"] == mart.name]
        assert_iceberg_v2(props)
        table = table_input(props)
        assert [(f["Id"], f["Name"], f["Type"]) for f in table["Schema"]["Fields"]] == [
            (field_id(c.name), c.name, iceberg_type(c.type)) for c in mart.columns
        ]
        assert_partitioned(table, mart.partition_by, {c.name: c.type for c in mart.columns})
        assert table["Properties"]["comment"] == mart.description


# --- A changed declaration: same table, same ids, nothing replaced ----------------------------

NEW_COLUMN = """
[[columns]]
name = "coupon_code"
type = "string"
description = "Coupon the customer entered at checkout, if any."
"""
NEW_DESCRIPTION = "Web-shop orders, one row per order, as the order system exports them."


def changed_orders() -> str:
    """orders.toml with a column added in the middle of its columns and a new description."""
    text = (DATASETS / "orders.toml").read_text()
    middle = text.index('[[columns]]\nname = "shipping_country"')
    changed = text[:middle] + NEW_COLUMN.lstrip("\n") + "\n" + text[middle:]
    old_description = next(line for line in text.splitlines() if line.startswith("description"))
    return changed.replace(old_description, f'description = "{NEW_DESCRIPTION}"', 1)


@pytest.fixture(scope="module")
def before_and_after(tmp_path_factory: pytest.TempPathFactory) -> tuple[Blueprint, Blueprint]:
    before = datasets_folder(tmp_path_factory.mktemp("before"))
    after = datasets_folder(tmp_path_factory.mktemp("after"), ("orders.toml", changed_orders()))
    return (
        make_blueprint("sandbox", datasets=str(before)),
        make_blueprint("sandbox", datasets=str(after)),
    )


def orders_template(blueprint: Blueprint) -> dict[str, Any]:
    stack = blueprint.dataset_stacks["orders"]
    return dict(assertions.Template.from_stack(stack).to_json()["Resources"])


def orders(blueprint: Blueprint) -> Dataset:
    return next(d for d in blueprint.datasets if d.name == "orders")


def create_only_properties() -> list[str]:
    """What CloudFormation replaces an ``AWS::Glue::Table`` for, from its resource schema."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", "AWS::Glue::Table")
    pointers = list(schema.schema["createOnlyProperties"])
    assert {"/properties/Name", "/properties/DatabaseName"} <= set(pointers)
    return pointers


def at_pointer(document: dict[str, Any], pointer: str) -> Any:
    node: Any = {"properties": document}
    for part in pointer.strip("/").split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def test_the_changed_declaration_really_changed(
    before_and_after: tuple[Blueprint, Blueprint],
) -> None:
    before, after = (orders(b) for b in before_and_after)
    names = [c.name for c in after.columns]
    assert "coupon_code" not in [c.name for c in before.columns]
    assert 0 < names.index("coupon_code") < len(names) - 1  # in the middle
    assert after.description == NEW_DESCRIPTION != before.description


def test_a_changed_declaration_neither_replaces_the_table_nor_loses_its_metadata(
    before_and_after: tuple[Blueprint, Blueprint],
) -> None:
    before, after = (orders_template(b) for b in before_and_after)

    def curated(resources: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        (found,) = [
            (lid, r["Properties"])
            for lid, r in resources.items()
            if r["Type"] == "AWS::Glue::Table" and lid.startswith("CuratedTable")
        ]
        return found

    (id_before, old), (id_after, new) = curated(before), curated(after)
    assert id_before == id_after  # the same resource: an update, not a new table
    for pointer in create_only_properties():
        assert at_pointer(old, pointer) == at_pointer(new, pointer), pointer
    for pointer in ("/properties/Name", "/properties/DatabaseName", "/properties/CatalogId"):
        assert at_pointer(old, pointer) is not None, pointer  # compared, not both absent
    # Still defined by OpenTableFormatInput alone: the update never sends a TableInput,
    # which would strip table_type and metadata_location.
    for props in (old, new):
        assert_iceberg_v2(props)
    old_fields = {f["Name"]: f["Id"] for f in table_input(old)["Schema"]["Fields"]}
    new_fields = {f["Name"]: f["Id"] for f in table_input(new)["Schema"]["Fields"]}
    assert set(new_fields) - set(old_fields) == {"coupon_code"}
    for name, id_ in old_fields.items():
        assert new_fields[name] == id_, name  # every existing column keeps its id
    assert new_fields["coupon_code"] not in old_fields.values()
    assert new_fields["coupon_code"] == field_id("coupon_code")
    # Partitions and location unchanged; the description changed where Iceberg keeps it.
    assert table_input(new)["PartitionSpec"] == table_input(old)["PartitionSpec"]
    assert table_input(new)["Location"] == table_input(old)["Location"]
    assert table_input(new)["Properties"]["comment"] == NEW_DESCRIPTION


def test_a_changed_declaration_keeps_every_column_tag_association(
    before_and_after: tuple[Blueprint, Blueprint],
) -> None:
    """A re-created association would briefly untag a personal-data column."""
    before, after = (orders_template(b) for b in before_and_after)

    def column_tags(resources: dict[str, Any]) -> dict[str, str]:
        return {
            lid: json.dumps(r["Properties"], sort_keys=True)
            for lid, r in resources.items()
            if r["Type"] == "AWS::LakeFormation::TagAssociation"
            and "TableWithColumns" in r["Properties"]["Resource"]
        }

    old, new = column_tags(before), column_tags(after)
    assert old
    assert old == {lid: new.get(lid) for lid in old}


def test_a_changed_declaration_keeps_the_tables_other_resources(
    before_and_after: tuple[Blueprint, Blueprint],
) -> None:
    """The marts, the table's tags and its optimizers keep their logical IDs too."""
    before, after = (orders_template(b) for b in before_and_after)
    kept = {lid for lid in before if lid.startswith(("CuratedTable", "Mart", "TableMaintenance"))}
    assert kept <= set(after)
