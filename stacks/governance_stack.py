"""Govern: Lake Formation settings, tags and registered locations, and the persona roles.

Deployed before the catalog: the CDK deployment role must be a Lake Formation admin before
databases, tags and grants are created (see docs/governance.md for the one-time prerequisite).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_constructs.governance.lake_formation_settings import LakeFormationSettings
from cdk_constructs.governance.lake_formation_tags import LakeFormationTags
from cdk_constructs.governance.persona_role import PersonaRole
from cdk_constructs.governance.registered_locations import RegisteredLocations
from model.config import EnvironmentConfig
from model.datasets import Dataset
from model.vocabulary import (
    AUDITS,
    CATALOGUED_ZONES,
    ERASES,
    OPERATES_PIPELINES,
    PERSONAS,
    Persona,
)
from stacks.audit_stack import AuditStack
from stacks.sharing import Borrowed, Lender
from stacks.storage_stack import StorageStack


class GovernanceStack(Lender, cdk.Stack):
    """Lake Formation for the whole lake, and one IAM role per persona."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        datasets: Sequence[Dataset],
        storage: StorageStack,
        audit: AuditStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        borrowed = Borrowed(self)
        ingest_review_policy = borrowed.managed_policy(storage.ingest_review_policy)
        audit_read_policy = borrowed.managed_policy(storage.audit_logs.read_policy)
        trail_log_group = borrowed.log_group(audit.audit_trail.log_group)
        duties = {
            OPERATES_PIPELINES: lambda role: role.operate_pipelines(
                crawlers=config.resource_name("*"), ingest_review_policy=ingest_review_policy
            ),
            AUDITS: lambda role: role.allow_audit_review(
                audit_read_policy, trail_log_group, borrowed.arn(audit.audit_trail.trail)
            ),
            ERASES: lambda role: role.allow_erasure(
                jobs=config.resource_name("*-forget"),
                pipelines=config.resource_name("*-pipeline"),
                raw=borrowed.bucket(storage.zone_buckets["raw"]),
                personal_data_key=borrowed.key(storage.keys.personal_data),
                audit=borrowed.bucket(storage.audit_logs.bucket),
                audit_key=borrowed.key(storage.audit_logs.key),
            ),
        }
        self.personas: dict[str, PersonaRole] = {
            persona.name: self._persona_role(persona, duties) for persona in PERSONAS
        }
        # Personas that audit are read-only Lake Formation admins: they see every grant, tag
        # and setting, change none, and (without data credentials) read no table data.
        self.settings = LakeFormationSettings(
            self,
            "LakeFormationSettings",
            admins=config.lake_formation_admins,
            read_only_admins=[
                self.personas[p.name].role_arn for p in PERSONAS if AUDITS in p.duties
            ],
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
            buckets={z: borrowed.bucket(storage.zone_buckets[z]) for z in CATALOGUED_ZONES},
            role_arn=borrowed.principal_arn(storage.data_access_role),
        )
        for location in self.locations.locations.values():
            location.node.add_dependency(self.settings)
        for persona in PERSONAS:
            self.lend(self.personas[persona.name], f"{persona.pascal}Role")

    def _persona_role(
        self, persona: Persona, duties: Mapping[str, Callable[[PersonaRole], None]]
    ) -> PersonaRole:
        """The persona's role, with the IAM calls of its reach and of its duties."""
        role = PersonaRole(
            self,
            f"{persona.pascal}Role",
            persona=persona,
            principals=self.config.personas[persona.name],
        )
        databases = [self.config.database_name(zone) for zone in persona.zones]
        if persona.reads_data:
            role.allow_queries(databases)
        for duty in persona.duties:
            duties[duty](role)
        if not persona.reads_data:
            role.allow_definitions(databases)
        return role
