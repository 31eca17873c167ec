"""A dataset's curated table, declared from its declaration so governance can refer to columns."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.catalog.iceberg_table import iceberg_table
from cdk_constructs.catalog.table_maintenance import MaintainedTable, TableMaintenance
from cdk_constructs.common.removal import data_removal_policy
from cdk_constructs.governance.lake_formation_tags import associate
from model.datasets import Dataset
from model.iceberg import curated_table
from model.vocabulary import DATASET, DOMAIN, SENSITIVITY, SENSITIVITY_BY_TREATMENT


class CuratedTable(Construct):
    """The curated Iceberg table of one dataset, with its Lake Formation tags.

    Its columns, ids, partitions, sort order and properties are ``model.iceberg.curated_table``
    (``iceberg_table`` says why that shape survives every deploy). Partitions are Iceberg's
    own: queries on the partition column (or on the timestamp whose day it is) prune files
    without any partition in the catalog. The properties carry the owner, domain, data
    classification and the personal-data columns.

    The table and its personal-data columns carry LF-Tags: ``dataset`` and ``domain`` on the
    table, ``sensitivity`` on each personal-data column by its declared treatment.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: Dataset,
        database: glue.IDatabase,
        bucket: s3.IBucket,
        remove_on_destroy: bool,
        maintenance: TableMaintenance,
    ) -> None:
        """Declare the table.

        :param dataset: the declaration.
        :param database: the curated zone's database.
        :param bucket: the curated zone's bucket; the table lives under ``<dataset>/``.
        :param remove_on_destroy: whether deleting the stack may delete the table's catalog
            entry (its files stay in the bucket either way).
        :param maintenance: the dataset's table optimizers' role, which attaches them here.
        """
        super().__init__(scope, id)
        self.database_name = database.database_name
        self.prefix = f"{dataset.name}/"
        self.table = iceberg_table(
            self,
            "Table",
            definition=curated_table(dataset),
            database_name=database.database_name,
            location=bucket.s3_url_for_object(dataset.name),
            removal_policy=data_removal_policy(remove_on_destroy),
        )
        self._tag_table(dataset, database_name=database.database_name)
        self._tag_personal_data_columns(dataset, database_name=database.database_name)
        # Glue's optimizers keep the table compact and its history bounded (``TableMaintenance``).
        self.maintained = MaintainedTable(
            zone="curated",
            database_name=database.database_name,
            name=dataset.name,
            bucket=bucket,
            prefix=self.prefix,
            table=self.table,
        )
        self.optimizers = maintenance.attach(self, self.maintained)

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
        for column in dataset.table_columns:
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
