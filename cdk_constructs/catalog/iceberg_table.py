"""An Iceberg table in the Glue Data Catalog, in the one shape that survives stack updates.

``AWS::Glue::Table`` creates an Iceberg table when it carries ``OpenTableFormatInput``: Glue
writes the table's first ``metadata.json`` (format v2) from the schema, partition spec, sort
order and properties given there. Two shapes of that resource break a table later, and this
module emits neither:

- a ``TableInput`` beside ``OpenTableFormatInput`` (Glue refuses it), or the schema under
  ``TableInput.StorageDescriptor``: the first stack update then rewrites the table as a plain
  Glue table, without ``table_type=ICEBERG`` and ``metadata_location``, and every query fails;
- ids left to the engine: Glue matches the columns of an updated schema by id, so a column's
  id must never change (``model.iceberg.field_id`` derives it from the name).

With the whole definition under ``IcebergTableInput``, a changed declaration (a new column, a
new description) is an update of the same resource, which Glue applies by writing a new
``metadata.json`` with the new schema: no data file is rewritten and no table replaced. Only
``DatabaseName`` and ``Name`` replace the resource when changed, and both come from names
that do not change (the dataset's, the mart's).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_glue as glue
from constructs import Construct

from model.iceberg import FORMAT_VERSION, IcebergTableDefinition

Glue = glue.CfnTable


def iceberg_table(
    scope: Construct,
    id: str,
    *,
    definition: IcebergTableDefinition,
    database_name: str,
    location: str,
    removal_policy: RemovalPolicy,
) -> glue.CfnTable:
    """The table of ``definition`` in ``database_name``, its files under ``location``."""
    fields = [
        Glue.IcebergStructFieldProperty(
            id=f.id, name=f.name, type=f.type, required=False, doc=f.doc or None
        )
        for f in definition.fields
    ]
    partition = (
        Glue.IcebergPartitionSpecProperty(
            spec_id=0,
            fields=[
                Glue.IcebergPartitionFieldProperty(
                    name=p.name,
                    source_id=definition.field(p.source).id,
                    transform=p.transform,
                    field_id=p.field_id,
                )
                for p in definition.partition_fields
            ],
        )
        if definition.partition_fields
        else None
    )
    write_order = (
        Glue.IcebergSortOrderProperty(
            order_id=1,
            fields=[
                Glue.IcebergSortFieldProperty(
                    source_id=definition.field(name).id,
                    transform="identity",
                    direction="asc",
                    null_order="nulls-last",
                )
                for name in definition.sort_columns
            ],
        )
        if definition.sort_columns
        else None
    )
    table = glue.CfnTable(
        scope,
        id,
        catalog_id=Stack.of(scope).account,
        database_name=database_name,
        name=definition.name,
        open_table_format_input=Glue.OpenTableFormatInputProperty(
            iceberg_input=Glue.IcebergInputProperty(
                metadata_operation="CREATE",
                version=FORMAT_VERSION,
                iceberg_table_input=Glue.IcebergTableInputProperty(
                    location=location,
                    schema=Glue.IcebergSchemaProperty(schema_id=0, type="struct", fields=fields),
                    partition_spec=partition,
                    write_order=write_order,
                    properties=definition.properties,
                ),
            )
        ),
    )
    table.apply_removal_policy(removal_policy)
    return table
