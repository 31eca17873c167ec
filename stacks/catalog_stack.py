"""Catalog: the Glue databases of the lake zones, their tags and zone-wide grants.

Per-dataset tables and crawlers live in each dataset's own stack; this stack holds what every
dataset shares, so onboarding a dataset never changes it.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from constructs import Construct

from cdk_constructs.catalog.security_configuration import GlueSecurityConfiguration
from cdk_constructs.catalog.zone_database import zone_database
from cdk_constructs.governance.persona_grants import grant_zone_reach
from model.config import EnvironmentConfig
from model.vocabulary import CATALOGUED_ZONES, PERSONAS
from stacks.governance_stack import GovernanceStack
from stacks.sharing import Borrowed, Lender
from stacks.storage_stack import StorageStack


class CatalogStack(Lender, cdk.Stack):
    """Glue databases per zone, the Glue security configuration, and zone-wide grants."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        storage: StorageStack,
        governance: GovernanceStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        borrowed = Borrowed(self)
        # Every crawler and job runs with it; they refer to it by name. A security
        # configuration cannot be changed, only replaced, and its name must change with it:
        # "glue" named the one that encrypted with the single data key before the lake had
        # an operations key.
        self.security_configuration = GlueSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=config.resource_name("glue-operations"),
            encryption_key=borrowed.key(storage.keys.operations),
        )
        self.databases: dict[str, glue.Database] = {
            zone: zone_database(
                self,
                zone=zone,
                name=config.database_name(zone),
                bucket=borrowed.bucket(storage.zone_buckets[zone]),
            )
            for zone in CATALOGUED_ZONES
        }
        # Database visibility, and the tables of personas that reach every dataset.
        grant_zone_reach(
            self,
            {p.name: borrowed.principal_arn(governance.personas[p.name]) for p in PERSONAS},
        )
        for zone, database in self.databases.items():
            self.lend(database, f"{zone.capitalize()}Database")

    @property
    def security_configuration_name(self) -> str:
        """The name crawlers and jobs give to use it (a name, not a reference)."""
        return str(self.security_configuration.name)
