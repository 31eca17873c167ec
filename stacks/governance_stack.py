"""Govern: Lake Formation settings, tags and registered locations, and the persona roles.

Deployed before the catalog: the CDK deployment role must be a Lake Formation admin before
databases, tags and grants are created (see docs/governance.md for the one-time prerequisite).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprint.config import EnvironmentConfig
from blueprint.datasets import Dataset
from cdk_constructs.lake_formation_settings import LakeFormationSettings
from cdk_constructs.lake_formation_tags import ZONES, LakeFormationTags
from cdk_constructs.nag import acknowledge
from cdk_constructs.persona_role import PersonaRole
from cdk_constructs.registered_locations import RegisteredLocations

# Which zones each persona's catalog calls may reach; Lake Formation narrows it further.
READABLE_ZONES = {
    "analyst": ("curated", "analytics"),
    "scientist": ("curated", "analytics"),
    "engineer": ZONES,
}
_CATALOG_READ = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables"]
_PARTITION_READ = ["glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"]


class GovernanceStack(cdk.Stack):
    """Lake Formation for the whole lake, and one IAM role per persona."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        datasets: Sequence[Dataset],
        zone_buckets: Mapping[str, s3.IBucket],
        data_access_role: iam.IRole,
        audit_read_policy: iam.IManagedPolicy,
        ingest_review_policy: iam.IManagedPolicy,
        trail_log_group: logs.ILogGroup,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        personas = config.personas
        self.personas: dict[str, PersonaRole] = {}
        for name, principals in (
            ("analyst", personas.analyst),
            ("scientist", personas.scientist),
            ("engineer", personas.engineer),
        ):
            role = PersonaRole(
                self, f"{name.capitalize()}Role", persona=name, principals=principals
            )
            self._allow_lake_queries(role, READABLE_ZONES[name])
            self.personas[name] = role
        engineer = self.personas["engineer"]
        self._allow_crawler_operation(engineer)
        # Every zone includes landing, which is not catalogued, and quarantined files in raw:
        # plain S3 reads for those.
        engineer.add_managed_policy(ingest_review_policy)
        officer = PersonaRole(
            self,
            "SecurityOfficerRole",
            persona="data security officer",
            principals=personas.security_officer,
        )
        self._allow_audit_review(officer, audit_read_policy, trail_log_group)
        self.personas["security_officer"] = officer

        # The security officer is a read-only Lake Formation admin: it sees every grant, tag
        # and setting, changes none, and (without data credentials) reads no table data.
        self.settings = LakeFormationSettings(
            self,
            "LakeFormationSettings",
            admins=config.lake_formation_admins,
            read_only_admins=[officer.role_arn],
        )
        self.lf_tags = LakeFormationTags(
            self,
            "LakeFormationTags",
            domains=[d.domain for d in datasets],
            datasets=[d.name for d in datasets],
        )
        for tag in self.lf_tags.tags.values():
            tag.node.add_dependency(self.settings)
        # Landing holds files only until ingest has checked them; nothing is catalogued there.
        self.locations = RegisteredLocations(
            self,
            "RegisteredLocations",
            buckets={zone: zone_buckets[zone] for zone in ZONES},
            role=data_access_role,
        )
        for location in self.locations.locations.values():
            location.node.add_dependency(self.settings)

    def _catalog_arns(self, zones: Sequence[str], *, tables: bool) -> list[str]:
        arns = [self.format_arn(service="glue", resource="catalog")]
        for zone in zones:
            database = self.config.database_name(zone)
            arns.append(
                self.format_arn(service="glue", resource="database", resource_name=database)
            )
            if tables:
                arns.append(
                    self.format_arn(service="glue", resource="table", resource_name=f"{database}/*")
                )
        return arns

    def _allow_lake_queries(self, role: PersonaRole, zones: Sequence[str]) -> None:
        """Catalog reads in the persona's zones, and Lake Formation's data credentials."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=_CATALOG_READ + _PARTITION_READ,
                resources=self._catalog_arns(zones, tables=True),
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["lakeformation:GetDataAccess"], resources=["*"])
        )
        acknowledge(
            role,
            "lakeformation:GetDataAccess supports no resource-level permissions; what the "
            "credentials it vends may read is decided by this role's Lake Formation grants.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        self._acknowledge_table_wildcards(role, zones)

    def _acknowledge_table_wildcards(self, role: PersonaRole, zones: Sequence[str]) -> None:
        acknowledge(
            role,
            "Tables are created by crawlers and declarations over time, so catalog reads name "
            "the blueprint's own databases and all their tables; which tables and columns a "
            "query may read is decided by Lake Formation grants, not by this IAM policy.",
            *(
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:"
                f"<AWS::AccountId>:table/{self.config.database_name(zone)}/*]"
                for zone in zones
            ),
        )

    def _allow_crawler_operation(self, role: PersonaRole) -> None:
        crawlers = self.format_arn(
            service="glue", resource="crawler", resource_name=self.config.resource_name("*")
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["glue:StartCrawler", "glue:GetCrawler", "glue:GetCrawlerMetrics"],
                resources=[crawlers],
            )
        )
        acknowledge(
            role,
            "The engineer operates every dataset's crawler, and datasets are added over time; "
            "the pattern covers only crawlers named for this project and environment.",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:"
            f"<AWS::AccountId>:crawler/{self.config.resource_name('*')}]",
        )

    def _allow_audit_review(
        self,
        role: PersonaRole,
        audit_read_policy: iam.IManagedPolicy,
        trail_log_group: logs.ILogGroup,
    ) -> None:
        """The audit trail and the governance configuration; no table data."""
        role.add_managed_policy(audit_read_policy)
        trail_log_group.grant_read(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "cloudtrail:LookupEvents",
                    "cloudtrail:DescribeTrails",
                    "cloudtrail:GetTrailStatus",
                    "cloudtrail:GetEventSelectors",
                    "lakeformation:GetDataLakeSettings",
                    "lakeformation:ListPermissions",
                    "lakeformation:ListResources",
                    "lakeformation:DescribeResource",
                    "lakeformation:ListLFTags",
                    "lakeformation:GetLFTag",
                    "lakeformation:GetResourceLFTags",
                    "lakeformation:SearchDatabasesByLFTags",
                    "lakeformation:SearchTablesByLFTags",
                ],
                resources=["*"],
            )
        )
        # Table definitions (columns, tags, owners) but no partitions and no data credentials.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=_CATALOG_READ, resources=self._catalog_arns(ZONES, tables=True)
            )
        )
        acknowledge(
            role,
            "CloudTrail lookups and Lake Formation's settings, permission and tag listings "
            "support no resource-level permissions; they return configuration and audit "
            "records, never table data (the role has no lakeformation:GetDataAccess).",
            "AwsSolutions-IAM5[Resource::*]",
        )
        self._acknowledge_table_wildcards(role, ZONES)
