"""Warehouse: the optional Redshift Serverless namespace and workgroup over the lake.

Built only when the environment sets ``redshift.enabled``. Its role reads the curated and
analytics zones as the analyst does: tables without personal data, granted by LF-Tags.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_constructs.delivery.serverless_warehouse import ServerlessWarehouse
from cdk_constructs.governance.lake_formation_tags import grant_by_tags
from cdk_constructs.governance.persona_grants import table_expression
from model.config import EnvironmentConfig
from model.vocabulary import ZONE, persona
from stacks.sharing import Borrowed
from stacks.storage_stack import StorageStack


class WarehouseStack(cdk.Stack):
    """Redshift Serverless, its VPC and role, and the role's Lake Formation grant."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        storage: StorageStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        # The warehouse reads what the analyst reads: general columns of curated and marts.
        analyst = persona("analyst")
        borrowed = Borrowed(self)
        self.warehouse = ServerlessWarehouse(
            self,
            "Warehouse",
            name=config.resource_name("warehouse"),
            encryption_key=borrowed.key(storage.keys.curated),
            log_key=borrowed.key(storage.keys.operations),
            availability_zones=config.redshift.availability_zones,
            base_capacity=config.redshift.base_capacity,
            databases=[config.database_name(zone) for zone in analyst.zones],
            log_retention_days=config.retention.log_group_days,
            remove_on_destroy=config.remove_data_on_destroy,
        )
        # Seeing the databases (CREATE EXTERNAL SCHEMA), then reading the tables.
        grant_by_tags(
            self,
            "WarehouseSeesDatabases",
            principal_arn=self.warehouse.role.role_arn,
            resource_type="DATABASE",
            expression={ZONE: analyst.zones},
            permissions=["DESCRIBE"],
        )
        grant_by_tags(
            self,
            "WarehouseReads",
            principal_arn=self.warehouse.role.role_arn,
            resource_type="TABLE",
            expression=table_expression(analyst),
            permissions=["SELECT", "DESCRIBE"],
        )
        cdk.CfnOutput(self, "WorkgroupName", value=config.resource_name("warehouse"))
