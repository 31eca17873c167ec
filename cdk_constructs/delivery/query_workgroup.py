"""One persona's Athena workgroup, and the policy that lets that persona's role use it alone.

A workgroup per persona, not one shared: Athena writes every query's results to its
workgroup's output location, and whoever can read that location (or list the workgroup's
query executions) can read what others queried. The scientist's results hold hashed
personal data the analyst may not see, so each persona's results stay in its own prefix,
readable by its own role only.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.kms_conditions import s3_service
from cdk_constructs.common.nag import acknowledge, in_finding
from cdk_constructs.common.wildcards import allow_wildcards, wildcard_statement

ENGINE = "Athena engine version 3"
WILDCARD_KIND = "query workgroup policy"
QUERY_ACTIONS = [
    "athena:StartQueryExecution",
    "athena:StopQueryExecution",
    "athena:GetQueryExecution",
    "athena:GetQueryResults",
    "athena:GetQueryRuntimeStatistics",
    "athena:ListQueryExecutions",
    "athena:BatchGetQueryExecution",
    "athena:GetWorkGroup",
    "athena:ListNamedQueries",
    "athena:GetNamedQuery",
    "athena:BatchGetNamedQuery",
]


class QueryWorkgroup(Construct):
    """The workgroup ``name``: engine version 3, configuration enforced, results in
    ``results_bucket`` under ``<name>/`` encrypted with ``encryption_key``, a per-query scan
    cutoff and CloudWatch metrics; and a managed policy on ``role`` for it."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        persona: str,
        role: iam.IRole,
        results_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        bytes_scanned_cutoff_megabytes: int,
    ) -> None:
        super().__init__(scope, id)
        self.name = name
        self.workgroup = self._workgroup(
            name=name,
            persona=persona,
            results_bucket=results_bucket,
            encryption_key=encryption_key,
            bytes_scanned_cutoff_megabytes=bytes_scanned_cutoff_megabytes,
        )
        self.policy = self._policy(
            name=name,
            persona=persona,
            role=role,
            results_bucket=results_bucket,
            encryption_key=encryption_key,
        )

    def _workgroup(
        self,
        *,
        name: str,
        persona: str,
        results_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        bytes_scanned_cutoff_megabytes: int,
    ) -> athena.CfnWorkGroup:
        """The workgroup. Its configuration is enforced: a query cannot choose another results
        location or another encryption than these."""
        return athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=name,
            description=f"Queries of the {persona}: results readable by the {persona} only.",
            state="ENABLED",
            # Emptied and deleted with the stack; query history is not data.
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=ENGINE
                ),
                bytes_scanned_cutoff_per_query=bytes_scanned_cutoff_megabytes * 1024 * 1024,
                publish_cloud_watch_metrics_enabled=True,
                requester_pays_enabled=False,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=results_bucket.s3_url_for_object(f"{name}/"),
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=encryption_key.key_arn
                    ),
                    expected_bucket_owner=Stack.of(self).account,
                ),
            ),
        )

    def _policy(
        self,
        *,
        name: str,
        persona: str,
        role: iam.IRole,
        results_bucket: s3.IBucket,
        encryption_key: kms.IKey,
    ) -> iam.ManagedPolicy:
        """The policy on ``role``: queries in this workgroup, its results prefix, its key."""
        prefix = f"{name}/"
        policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"The {persona} runs queries in {name} and reads its results only.",
            roles=[role],
            statements=[
                *self._query_statements(name),
                *_results_statements(results_bucket, prefix, encryption_key),
            ],
        )
        acknowledge(
            policy,
            f"Athena names each result object by query ID under the {persona}'s own prefix; "
            "the role reads and writes that prefix only.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, results_bucket.bucket_arn)}/{prefix}*]",
        )
        allow_wildcards(policy, WILDCARD_KIND)
        return policy

    def _query_statements(self, name: str) -> list[iam.PolicyStatement]:
        """Run queries in the workgroup ``name`` alone, and browse the catalog as the console
        does. The console lists workgroups and reads the catalog through Athena; what a query
        may read is still decided by Lake Formation."""
        stack = Stack.of(self)
        return [
            iam.PolicyStatement(
                actions=QUERY_ACTIONS,
                resources=[
                    stack.format_arn(
                        service="athena",
                        resource="workgroup",
                        resource_name=name,
                        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                    )
                ],
            ),
            wildcard_statement(WILDCARD_KIND, ["athena:ListWorkGroups"]),
            iam.PolicyStatement(
                actions=[
                    "athena:GetDataCatalog",
                    "athena:ListDatabases",
                    "athena:GetDatabase",
                    "athena:ListTableMetadata",
                    "athena:GetTableMetadata",
                ],
                resources=[
                    stack.format_arn(
                        service="athena",
                        resource="datacatalog",
                        resource_name="AwsDataCatalog",
                        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                    )
                ],
            ),
        ]


def _results_statements(
    results_bucket: s3.IBucket, prefix: str, encryption_key: kms.IKey
) -> list[iam.PolicyStatement]:
    """Write and read query results under ``prefix`` of the results bucket, with the key that
    encrypts them; list that prefix only."""
    return [
        iam.PolicyStatement(
            actions=[
                "s3:GetObject",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            resources=[results_bucket.arn_for_objects(f"{prefix}*")],
        ),
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[results_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{prefix}*", prefix]}},
        ),
        iam.PolicyStatement(
            actions=["s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
            resources=[results_bucket.bucket_arn],
        ),
        # Through S3 only (Athena reads and writes results with the caller's credentials).
        iam.PolicyStatement(
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=[encryption_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": s3_service(results_bucket)}},
        ),
    ]
