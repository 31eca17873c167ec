"""The Iceberg tables of the synthesized templates, created and evolved in a local catalog.

In AWS, CloudFormation hands each ``AWS::Glue::Table``'s ``IcebergTableInput`` to Glue, which
writes the table's metadata on create and a new schema on update. Here the same input becomes
Spark DDL on the local Iceberg catalog: ``CREATE TABLE`` with the columns, partition
transforms, sort order and properties; on a later deploy, ``ALTER TABLE ... ADD COLUMN`` for
each column the input has and the table lacks (a metadata change: no data file is touched).
``table_input`` renders a ``model.iceberg`` definition in that same shape, for the tests.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from model.iceberg import FORMAT_VERSION, IcebergTableDefinition

_SPARK_TYPES = {"long": "bigint", "timestamptz": "timestamp"}
_TRANSFORMS = {"identity": "{}", "day": "days({})"}


def spark_type(iceberg_type: str) -> str:
    return _SPARK_TYPES.get(iceberg_type, iceberg_type.replace(", ", ","))


def table_input(definition: IcebergTableDefinition, location: str) -> dict[str, Any]:
    """``definition`` as CloudFormation's ``IcebergTableInput`` (the template's JSON keys)."""
    ids = {f.name: f.id for f in definition.fields}
    rendered: dict[str, Any] = {
        "Location": location,
        "Schema": {"SchemaId": 0, "Type": "struct", "Fields": [
            {"Id": f.id, "Name": f.name, "Type": f.type, "Required": False, "Doc": f.doc}
            for f in definition.fields
        ]},
        "Properties": definition.properties,
    }  # fmt: skip
    if definition.partition_fields:
        rendered["PartitionSpec"] = {"SpecId": 0, "Fields": [
            {"Name": p.name, "SourceId": ids[p.source], "Transform": p.transform,
             "FieldId": p.field_id}
            for p in definition.partition_fields
        ]}  # fmt: skip
    if definition.sort_columns:
        rendered["WriteOrder"] = {"OrderId": 1, "Fields": [
            {"SourceId": ids[c], "Transform": "identity", "Direction": "asc",
             "NullOrder": "nulls-last"}
            for c in definition.sort_columns
        ]}  # fmt: skip
    return rendered


def deploy_table(spark: SparkSession, table: str, iceberg_input: dict[str, Any]) -> list[str]:
    """Create ``table`` (``catalog.database.name``) as ``iceberg_input`` defines it, or add
    the columns it lacks; returns the columns added (every column on create)."""
    fields = iceberg_input["Schema"]["Fields"]
    names = {f["Id"]: f["Name"] for f in fields}
    catalog, database, _ = table.split(".")
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {catalog}.{database}")
    if not spark.catalog.tableExists(table):
        columns = ", ".join(f"`{f['Name']}` {spark_type(f['Type'])}" for f in fields)
        partitions = [
            _TRANSFORMS[p["Transform"]].format(f"`{names[p['SourceId']]}`")
            for p in iceberg_input.get("PartitionSpec", {}).get("Fields", [])
        ]
        properties = {**iceberg_input.get("Properties", {}), "format-version": FORMAT_VERSION}
        comment = properties.pop("comment", "").replace("'", "\\'")
        spark.sql(
            f"CREATE TABLE {table} ({columns}) USING iceberg"
            + (f" PARTITIONED BY ({', '.join(partitions)})" if partitions else "")
            + f" COMMENT '{comment}'"
            + " TBLPROPERTIES ("
            + ", ".join(f"'{k}' = '{v}'" for k, v in sorted(properties.items()))
            + ")"
        )
        order = [
            names[f["SourceId"]] for f in iceberg_input.get("WriteOrder", {}).get("Fields", [])
        ]
        if order:  # sets the sort order; then the distribution the properties ask for again
            spark.sql(f"ALTER TABLE {table} WRITE ORDERED BY "
                      + ", ".join(f"`{name}` ASC NULLS LAST" for name in order))  # fmt: skip
            mode = properties.get("write.distribution-mode")
            if mode:
                spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES "
                          f"('write.distribution-mode' = '{mode}')")  # fmt: skip
        return [f["Name"] for f in fields]
    present = set(spark.table(table).columns)
    added = [f for f in fields if f["Name"] not in present]
    for f in added:
        spark.sql(f"ALTER TABLE {table} ADD COLUMN `{f['Name']}` {spark_type(f['Type'])}")
    return [f["Name"] for f in added]
