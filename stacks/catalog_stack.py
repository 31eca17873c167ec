"""Catalog: the Glue databases of the lake zones, their tags and zone-wide grants.

Per-dataset tables and crawlers live in each dataset's own stack; this stack holds what every
dataset shares, so onboarding a dataset never changes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprint.config import EnvironmentConfig
from cdk_constructs.lake_formation_tags import (
    GENERAL,
    PII_CLEAR,
    SENSITIVITY,
    ZONE,
    ZONES,
    Expression,
    associate,
    grant_by_tags,
)
from cdk_constructs.persona_role import PersonaRole

DESCRIPTIONS = {
    "raw": "Data as it arrived, one table per dataset, found by the dataset's crawler. May "
    "hold personal data in clear.",
    "curated": "Typed, deduplicated, partitioned Parquet, one table per dataset, declared "
    "from its declaration; personal data hashed or dropped as declared.",
    "analytics": "Aggregates and marts built from curated data for reporting.",
}
# Database-wide default sensitivity, which tables inherit: anything in raw may be personal.
DEFAULT_SENSITIVITY = {"raw": PII_CLEAR, "curated": GENERAL, "analytics": GENERAL}


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
        personas: Mapping[str, PersonaRole],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        # Every crawler and job runs with this: its S3 output, its CloudWatch logs and its
        # job bookmarks are encrypted with the data key. Referred to by name, hence named.
        self.security_configuration = glue.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=config.resource_name("glue"),
            encryption_configuration=glue.CfnSecurityConfiguration.EncryptionConfigurationProperty(
                s3_encryptions=[
                    glue.CfnSecurityConfiguration.S3EncryptionProperty(
                        s3_encryption_mode="SSE-KMS", kms_key_arn=data_key.key_arn
                    )
                ],
                cloud_watch_encryption=glue.CfnSecurityConfiguration.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=data_key.key_arn
                ),
                job_bookmarks_encryption=glue.CfnSecurityConfiguration.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=data_key.key_arn
                ),
            ),
        )

        self.databases: dict[str, glue.Database] = {}
        for zone in ZONES:
            database = glue.Database(
                self,
                f"{zone.capitalize()}Database",
                database_name=config.database_name(zone),
                description=DESCRIPTIONS[zone],
                location_uri=zone_buckets[zone].s3_url_for_object(),
                # Deleted with the stack in every environment: a database is only metadata
                # (the data stays in its retained bucket), declared tables are recreated on
                # deploy and crawlers rebuild raw tables, while a retained database would
                # block the next deploy under the same name.
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            # New tables get no default permissions from the database either, whatever the
            # account's defaults were before the governance stack's settings.
            cfn_database = database.node.default_child
            assert isinstance(cfn_database, glue.CfnDatabase)
            cfn_database.add_property_override("DatabaseInput.CreateTableDefaultPermissions", [])
            resource = lakeformation.CfnTagAssociation.ResourceProperty(
                database=lakeformation.CfnTagAssociation.DatabaseResourceProperty(
                    catalog_id=self.account, name=database.database_name
                )
            )
            associate(
                self,
                f"{zone.capitalize()}DatabaseTags",
                resource=resource,
                tags={ZONE: zone, SENSITIVITY: DEFAULT_SENSITIVITY[zone]},
                after=[database],
            )
            self.databases[zone] = database

        self._grant_zone_wide(personas)

    def _grant_zone_wide(self, personas: Mapping[str, PersonaRole]) -> None:
        """What does not depend on a dataset's readers: database visibility, the engineer's
        reading of every zone, and the security officer's view of every definition."""
        every_zone: Expression = {ZONE: ZONES}
        visible: dict[str, Expression] = {
            "analyst": {ZONE: ("curated", "analytics")},
            "scientist": {ZONE: ("curated", "analytics")},
            "engineer": every_zone,
            "security_officer": every_zone,
        }
        for name, expression in visible.items():
            grant_by_tags(
                self,
                f"{_pascal(name)}DescribesDatabases",
                principal_arn=personas[name].role_arn,
                resource_type="DATABASE",
                expression=expression,
                permissions=["DESCRIBE"],
            )
        grant_by_tags(
            self,
            "EngineerReadsEveryTable",
            principal_arn=personas["engineer"].role_arn,
            resource_type="TABLE",
            expression=every_zone,
            permissions=["SELECT", "DESCRIBE"],
        )
        grant_by_tags(
            self,
            "SecurityOfficerDescribesEveryTable",
            principal_arn=personas["security_officer"].role_arn,
            resource_type="TABLE",
            expression=every_zone,
            permissions=["DESCRIBE"],
        )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
