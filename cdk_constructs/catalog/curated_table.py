"""A dataset's curated table, declared from its declaration so governance can refer to columns."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.governance.lake_formation_tags import associate
from model.datasets import Column, Dataset
from model.vocabulary import (
    DATASET,
    DOMAIN,
    LINEAGE_COLUMN,
    SENSITIVITY,
    SENSITIVITY_BY_TREATMENT,
)

_GLUE_TYPES = {
    "string": glue.Schema.STRING,
    "int": glue.Schema.INTEGER,
    "bigint": glue.Schema.BIG_INT,
    "double": glue.Schema.DOUBLE,
    "boolean": glue.Schema.BOOLEAN,
    "date": glue.Schema.DATE,
    "timestamp": glue.Schema.TIMESTAMP,
}


def glue_type(type_: str) -> glue.Type:
    """The Glue column type of a declared type (``decimal(<precision>,<scale>)`` included)."""
    if type_.startswith("decimal("):
        precision, scale = type_[len("decimal(") : -1].split(",")
        return glue.Schema.decimal(int(precision), int(scale))
    return _GLUE_TYPES[type_]


def _comment(column: Column) -> str:
    if column.pii == "hash":
        return f"{column.description} Personal data: salted SHA-256 hash, joinable, not readable."
    if column.pii == "keep":
        return f"{column.description} Personal data, in clear."
    return column.description


class CuratedTable(Construct):
    """The curated Parquet table of one dataset, with its Lake Formation tags.

    Partitions are found by Athena partition projection: every partition the layout
    ``<dataset>/<column>=<value>/`` can hold is known without a crawler run or catalog call,
    so data written by a job is queryable the moment it lands. (Spark jobs read the curated
    zone by path, which needs no partitions in the catalog either.)

    Table parameters carry the owner, domain, data classification and the personal-data columns,
    and the table and its personal-data columns carry LF-Tags: ``dataset`` and ``domain`` on
    the table, ``sensitivity`` on each personal-data column by its declared treatment.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: Dataset,
        database: glue.IDatabase,
        bucket: s3.IBucket,
        history_start: str = "2020-01-01",
    ) -> None:
        """Declare the table.

        :param dataset: the declaration.
        :param database: the curated zone's database.
        :param bucket: the curated zone's bucket; the table lives under ``<dataset>/``.
        :param history_start: the first day date partitions are projected from.
        """
        super().__init__(scope, id)
        self.table = self._table(
            dataset, database=database, bucket=bucket, history_start=history_start
        )
        self._tag_table(dataset, database_name=database.database_name)
        self._tag_personal_data_columns(dataset, database_name=database.database_name)

    def _table(
        self, dataset: Dataset, *, database: glue.IDatabase, bucket: s3.IBucket, history_start: str
    ) -> glue.S3Table:
        """The Parquet table under ``<dataset>/``, its date partitions found by projection."""
        partitions = [dataset.column(p) for p in dataset.partition_by]
        projection = {
            p.name: glue.PartitionProjectionConfiguration.date(
                min=history_start, max="NOW", format="yyyy-MM-dd"
            )
            for p in partitions
        }
        return glue.S3Table(
            self,
            "Table",
            database=database,
            table_name=dataset.name,
            description=dataset.description,
            columns=_columns(dataset),
            partition_keys=[
                glue.Column(name=p.name, type=glue_type(p.type), comment=p.description)
                for p in partitions
            ],
            partition_projection=projection or None,
            data_format=glue.DataFormat.PARQUET,
            storage=glue.S3TableStorage.from_bucket(bucket),
            s3_prefix=f"{dataset.name}/",
            parameters=_parameters(dataset),
        )

    def _tag_table(self, dataset: Dataset, *, database_name: str) -> None:
        """Tag the table with its dataset and domain, which the readers' grants match on."""
        table = lakeformation.CfnTagAssociation.TableResourceProperty(
            catalog_id=Stack.of(self).account, database_name=database_name, name=dataset.name
        )
        associate(
            self,
            "Tags",
            resource=lakeformation.CfnTagAssociation.ResourceProperty(table=table),
            tags={DATASET: dataset.name, DOMAIN: dataset.domain},
            after=[self.table],
        )

    def _tag_personal_data_columns(self, dataset: Dataset, *, database_name: str) -> None:
        """Tag each personal-data column with the sensitivity of its declared treatment, which
        overrides, for that column, the ``general`` the table inherits from its database.

        One association per column, named after it: changing one column's treatment, or
        adding a column, never replaces (and so never briefly untags) another column.
        """
        for column in dataset.curated_columns:
            if not column.pii:
                continue
            associate(
                self,
                f"ColumnTags-{column.name}",
                resource=lakeformation.CfnTagAssociation.ResourceProperty(
                    table_with_columns=lakeformation.CfnTagAssociation.TableWithColumnsResourceProperty(
                        catalog_id=Stack.of(self).account,
                        database_name=database_name,
                        name=dataset.name,
                        column_names=[column.name],
                    )
                ),
                tags={SENSITIVITY: SENSITIVITY_BY_TREATMENT[column.pii]},
                after=[self.table],
            )


def _columns(dataset: Dataset) -> list[glue.Column]:
    """The curated columns in declared order, then the lineage column the job adds."""
    columns = [
        glue.Column(name=c.name, type=glue_type(dataset.curated_type(c)), comment=_comment(c))
        for c in dataset.curated_columns
    ]
    columns.append(
        glue.Column(
            name=LINEAGE_COLUMN,
            type=glue.Schema.DATE,
            comment="Day the row's raw file landed (lineage; the latest wins per key).",
        )
    )
    return columns


def _parameters(dataset: Dataset) -> dict[str, str]:
    """Table parameters: who owns the data, how it is classified, which columns are personal
    (``pii_treatments`` also names columns the curated table drops)."""
    return {
        "owner": dataset.owner,
        "domain": dataset.domain,
        # "classification" is Glue's name for the data format.
        "classification": "parquet",
        "data_classification": dataset.classification,
        "dataset": dataset.name,
        "source_mode": dataset.source.mode,
        "pii_columns": ",".join(c.name for c in dataset.curated_columns if c.pii),
        "pii_treatments": ",".join(f"{c.name}:{c.pii}" for c in dataset.columns if c.pii),
        "parquet.compression": "SNAPPY",
    }
