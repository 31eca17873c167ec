"""An analytics table (a mart) of one dataset, declared so governance can refer to it."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.catalog.curated_table import glue_type
from cdk_constructs.governance.lake_formation_tags import associate
from model.datasets import Dataset, Mart
from model.vocabulary import DATASET, DOMAIN


class MartTable(Construct):
    """Parquet under ``s3://<analytics>/<mart>/``, date partitions found by projection.

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
        history_start: str = "2020-01-01",
    ) -> None:
        super().__init__(scope, id)
        by_name = {c.name: c for c in mart.columns}
        self.table = glue.S3Table(
            self,
            "Table",
            database=database,
            table_name=mart.name,
            description=mart.description,
            columns=[
                glue.Column(name=c.name, type=glue_type(c.type), comment=c.description)
                for c in mart.columns
                if c.name not in mart.partition_by
            ],
            partition_keys=[
                glue.Column(name=p, type=glue_type(by_name[p].type), comment=by_name[p].description)
                for p in mart.partition_by
            ],
            partition_projection={
                p: glue.PartitionProjectionConfiguration.date(
                    min=history_start, max="NOW", format="yyyy-MM-dd"
                )
                for p in mart.partition_by
            }
            or None,
            data_format=glue.DataFormat.PARQUET,
            storage=glue.S3TableStorage.from_bucket(bucket),
            s3_prefix=f"{mart.name}/",
            parameters={
                "classification": "parquet",
                "owner": dataset.owner,
                "domain": dataset.domain,
                "dataset": dataset.name,
                "data_classification": dataset.classification,
            },
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
