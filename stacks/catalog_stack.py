"""Catalog: the Glue databases of the lake zones, their tags and zone-wide grants.

Per-dataset tables and crawlers live in each dataset's own stack; this stack holds what every
dataset shares, so onboarding a dataset never changes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.catalog.security_configuration import GlueSecurityConfiguration
from cdk_constructs.catalog.zone_database import zone_database
from cdk_constructs.governance.persona_grants import grant_zone_reach
from model.config import EnvironmentConfig
from model.vocabulary import CATALOGUED_ZONES


class CatalogStack(cdk.Stack):
    """Glue databases per zone, the Glue security configuration, and zone-wide grants."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        zone_buckets: Mapping[str, s3.IBucket],
        data_key: kms.IKey,
        personas: Mapping[str, iam.IRole],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.security_configuration = GlueSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=config.resource_name("glue"),
            encryption_key=data_key,
        )
        self.databases: dict[str, glue.Database] = {
            zone: zone_database(
                self, zone=zone, name=config.database_name(zone), bucket=zone_buckets[zone]
            )
            for zone in CATALOGUED_ZONES
        }
        # Database visibility, and the tables of personas that reach every dataset.
        grant_zone_reach(self, personas)
