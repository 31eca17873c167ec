"""Delivery: where the analysts, scientists and engineers query the lake.

Stateless. An Athena workgroup per persona that queries (see
``cdk_constructs/delivery/query_workgroup.py`` for why not one), results in the Athena results
bucket under the workgroup's own prefix. The datasets' ready queries are saved in these workgroups
by each dataset's stack.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_constructs.delivery.query_workgroup import QueryWorkgroup
from model.config import EnvironmentConfig
from model.vocabulary import PERSONAS
from stacks.governance_stack import GovernanceStack
from stacks.sharing import Borrowed
from stacks.storage_stack import StorageStack


class DeliveryStack(cdk.Stack):
    """The Athena workgroups ``datalake-<env>-<persona>``."""

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
        # A workgroup for each persona that reads table data.
        self.workgroups = {
            persona.name: QueryWorkgroup(
                self,
                f"{persona.pascal}WorkGroup",
                name=config.resource_name(persona.name),
                persona=persona.title,
                role=borrowed.role(governance.personas[persona.name]),
                results_bucket=borrowed.bucket(storage.athena_results_bucket),
                encryption_key=borrowed.key(storage.keys.curated),
                bytes_scanned_cutoff_megabytes=config.athena.bytes_scanned_cutoff_megabytes,
            )
            for persona in PERSONAS
            if persona.reads_data
        }
        for persona in PERSONAS:
            if persona.name in self.workgroups:
                cdk.CfnOutput(
                    self,
                    f"{persona.pascal}WorkGroupName",
                    value=self.workgroups[persona.name].name,
                )
