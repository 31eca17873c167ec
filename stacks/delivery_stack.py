"""Delivery: where the analysts, scientists and engineers query the lake.

Stateless. An Athena workgroup per persona that queries (see
``cdk_constructs/query_workgroup.py`` for why not one), results in the Athena results bucket
under the workgroup's own prefix. The datasets' ready queries are saved in these workgroups
by each dataset's stack.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.delivery.query_workgroup import QueryWorkgroup
from cdk_constructs.governance.persona_role import PersonaRole
from model.config import EnvironmentConfig
from model.vocabulary import PERSONAS
from stacks.outputs import SharedOutputs
from stacks.storage_stack import StorageStack


class DeliveryStack(SharedOutputs, cdk.Stack):
    """The Athena workgroups ``datalake-<env>-<persona>``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        storage: StorageStack,
        personas: dict[str, PersonaRole],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_dependency(storage)
        key = kms.Key.from_key_arn(self, "DataKey", storage.shared("DataKeyArn"))
        results = s3.Bucket.from_bucket_attributes(
            self,
            "AthenaResults",
            bucket_arn=storage.shared("AthenaResultsBucketArn"),
            bucket_name=storage.shared("AthenaResultsBucketName"),
            encryption_key=key,
        )
        # A workgroup for each persona that reads table data.
        self.workgroups = {
            persona.name: QueryWorkgroup(
                self,
                f"{persona.pascal}WorkGroup",
                name=config.resource_name(persona.name),
                persona=persona.title,
                role=personas[persona.name],
                results_bucket=results,
                encryption_key=key,
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
