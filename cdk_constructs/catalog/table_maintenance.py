"""Glue's managed table optimizers on a dataset's Iceberg tables, and the one role they use.

Every merge writes new files (data files, delete files, a manifest, a snapshot) and leaves the
earlier ones to time travel. Without maintenance, reads slow down as small files and delete
files pile up, and nothing a merge replaced, nor a deleted row, ever leaves S3. Three
optimizers per table (``AWS::Glue::TableOptimizer``) keep it in shape, run by Glue:

- ``compaction`` rewrites small files, folding delete files into the data files (merge-on-read
  writes deletes; compaction is what makes reading them cheap again);
- ``retention`` expires snapshots older than the environment's ``snapshotRetentionDays`` beyond
  its last ``snapshotsToRetain``, and deletes the files only they referred to: that is when a
  deleted row physically leaves the lake;
- ``orphan_file_deletion`` deletes files no snapshot refers to (left by a failed write) once
  they are older than ``orphanFileRetentionDays``.

The role is the dataset's own, and reaches only the dataset's tables: their S3 prefixes, their
catalog entries, the curated key (never the personal-data key), the optimizers' own log
groups, and in Lake Formation the permissions AWS documents for optimizers, on the tables
tagged with the dataset (https://docs.aws.amazon.com/glue/latest/dg/optimization-prerequisites.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.catalog_arns import table_arns
from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import GRANT_WILDCARDS, acknowledge, in_finding
from cdk_constructs.common.wildcards import allow_wildcards, wildcard_statement
from cdk_constructs.governance.lake_formation_tags import grant_by_tags
from model.config import TableMaintenance as Settings
from model.vocabulary import DATASET, ZONE

Optimizer = glue.CfnTableOptimizer
# The log groups Glue writes each optimizer's runs to (names fixed by Glue).
LOG_GROUPS = (
    "/aws-glue/iceberg-compaction/logs",
    "/aws-glue/iceberg-retention/logs",
    "/aws-glue/iceberg-orphan-file-deletion/logs",
)
# Lake Formation permissions the optimizers need on a table (AWS documents ALTER, DESCRIBE,
# INSERT and DELETE; compaction also reads the rows it rewrites).
TABLE_PERMISSIONS = ("SELECT", "INSERT", "DELETE", "ALTER", "DESCRIBE")


@dataclass(frozen=True)
class MaintainedTable:
    """One table to maintain: where it is, and the resource that creates it."""

    zone: str
    database_name: str
    name: str
    bucket: s3.IBucket
    prefix: str  # the table's folder in ``bucket``, with a trailing slash
    table: glue.CfnTable


class TableMaintenance(Construct):
    """The optimizers' role and its Lake Formation grant; ``attach`` maintains one table."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: str,
        zones: Sequence[str],
        encryption_key: kms.IKey,
        settings: Settings,
    ) -> None:
        """The role for the tables of ``dataset`` in ``zones``, maintained per ``settings``.

        :param encryption_key: the key of the tables' zones (curated and analytics share it).
        """
        super().__init__(scope, id)
        self.dataset, self.settings = dataset, settings
        self.role = ManagedRole(
            self,
            "Role",
            description=f"Glue's table optimizers on the {dataset} Iceberg tables.",
            assumed_by=iam.ServicePrincipal(
                "glue.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
        )
        self._grant_common(encryption_key)
        self.grant = grant_by_tags(
            self,
            "TableAccess",
            principal_arn=self.role.role_arn,
            resource_type="TABLE",
            expression={ZONE: sorted(zones), DATASET: [dataset]},
            permissions=TABLE_PERMISSIONS,
        )

    def attach(self, scope: Construct, table: MaintainedTable) -> list[Optimizer]:
        """The three optimizers of ``table``, in ``scope`` (the table's own construct, so
        their logical IDs follow the table's), and the role's access to that table only."""
        self._grant_table(table)
        optimizers = []
        for kind, configuration in self._configurations().items():
            optimizer = Optimizer(
                scope,
                f"Optimizer-{kind}",
                catalog_id=Stack.of(scope).account,
                database_name=table.database_name,
                table_name=table.name,
                type=kind,
                table_optimizer_configuration=configuration,
            )
            # The table first; the role's permissions before the first run.
            optimizer.node.add_dependency(table.table, self.role, self.grant)
            optimizers.append(optimizer)
        return optimizers

    def _configurations(self) -> dict[str, Optimizer.TableOptimizerConfigurationProperty]:
        """Each optimizer's configuration, by its type."""
        settings = self.settings

        def configuration(**kwargs: Any) -> Optimizer.TableOptimizerConfigurationProperty:
            return Optimizer.TableOptimizerConfigurationProperty(
                enabled=True, role_arn=self.role.role_arn, **kwargs
            )

        return {
            "compaction": configuration(
                compaction_configuration=Optimizer.CompactionConfigurationProperty(
                    iceberg_configuration=Optimizer.IcebergCompactionConfigurationProperty(
                        strategy="binpack"
                    )
                )
            ),
            "retention": configuration(
                retention_configuration=Optimizer.RetentionConfigurationProperty(
                    iceberg_configuration=Optimizer.IcebergRetentionConfigurationProperty(
                        snapshot_retention_period_in_days=settings.snapshot_retention_days,
                        number_of_snapshots_to_retain=settings.snapshots_to_retain,
                        clean_expired_files=True,
                    )
                )
            ),
            "orphan_file_deletion": configuration(
                orphan_file_deletion_configuration=Optimizer.OrphanFileDeletionConfigurationProperty(
                    iceberg_configuration=Optimizer.IcebergConfigurationProperty(
                        orphan_file_retention_period_in_days=settings.orphan_file_retention_days
                    )
                )
            ),
        }

    def _grant_table(self, table: MaintainedTable) -> None:
        """IAM: the table's folder (read, write, delete) and its catalog entry (read and
        commit)."""
        table.bucket.grant_read_write(self.role, f"{table.prefix}*")
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["glue:GetTable", "glue:UpdateTable"],
                resources=table_arns(self, table.database_name, [table.name]),
            )
        )
        acknowledge(
            self.role,
            f"The optimizers read, rewrite and delete the files of the {self.dataset} tables "
            "only: each pattern is one table's folder.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, table.bucket.bucket_arn)}/"
            f"{table.prefix}*]",
        )

    def _grant_common(self, encryption_key: kms.IKey) -> None:
        """IAM: the tables' key, the optimizers' log groups; Lake Formation's data access."""
        stack = Stack.of(self)
        encryption_key.grant(self.role, "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
        log_groups = [
            stack.format_arn(service="logs", resource="log-group", resource_name=f"{name}:*",
                             arn_format=ArnFormat.COLON_RESOURCE_NAME)
            for name in LOG_GROUPS
        ]  # fmt: skip
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=log_groups,
            )
        )
        # The lake's buckets are registered with Lake Formation, which vends the credentials.
        kind = "table maintenance role"
        self.role.add_to_principal_policy(wildcard_statement(kind, ["lakeformation:GetDataAccess"]))
        allow_wildcards(self.role, kind)
        acknowledge(
            self.role,
            "The optimizers' log streams are named per run inside the three log groups Glue "
            "names for them. The wildcard actions are CDK's bucket and key grants on the "
            "tables' folders.",
            *(f"AwsSolutions-IAM5[Resource::{in_finding(self, arn)}]" for arn in log_groups),
            *GRANT_WILDCARDS,
        )
