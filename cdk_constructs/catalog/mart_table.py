"""An analytics table (a mart) of one dataset, declared so governance can refer to it."""

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
from model.datasets import Dataset, Mart
from model.iceberg import mart_table
from model.vocabulary import DATASET, DOMAIN


class MartTable(Construct):
    """An Iceberg table under ``s3://<analytics>/<mart>/``, partitioned as declared
    (``model.iceberg.mart_table``; ``iceberg_table`` says why the shape survives deploys).

    Tagged with its dataset and domain, so the dataset's readers read it through the same
    tag-expression grants as the curated table; marts hold no personal data (the declaration
    check refuses a personal-data column), so the analytics database's ``general``
    sensitivity applies to every column.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: Dataset,
        mart: Mart,
        database: glue.IDatabase,
        bucket: s3.IBucket,
        remove_on_destroy: bool,
        maintenance: TableMaintenance,
    ) -> None:
        super().__init__(scope, id)
        self.database_name = database.database_name
        self.prefix = f"{mart.name}/"
        self.table = iceberg_table(
            self,
            "Table",
            definition=mart_table(dataset, mart),
            database_name=database.database_name,
            location=bucket.s3_url_for_object(mart.name),
            removal_policy=data_removal_policy(remove_on_destroy),
        )
        associate(
            self,
            "Tags",
            resource=lakeformation.CfnTagAssociation.ResourceProperty(
                table=lakeformation.CfnTagAssociation.TableResourceProperty(
                    catalog_id=Stack.of(self).account,
                    database_name=database.database_name,
                    name=mart.name,
                )
            ),
            tags={DATASET: dataset.name, DOMAIN: dataset.domain},
            after=[self.table],
        )
        # Glue's optimizers keep the table compact and its history bounded (``TableMaintenance``).
        self.maintained = MaintainedTable(
            zone="analytics",
            database_name=database.database_name,
            name=mart.name,
            bucket=bucket,
            prefix=self.prefix,
            table=self.table,
        )
        self.optimizers = maintenance.attach(self, self.maintained)
