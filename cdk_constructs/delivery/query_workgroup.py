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

from cdk_constructs.common.nag import acknowledge, in_finding

ENGINE = "Athena engine version 3"
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
        prefix = f"{name}/"
        self.name = name
        self.workgroup = athena.CfnWorkGroup(
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
                    output_location=results_bucket.s3_url_for_object(prefix),
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=encryption_key.key_arn
                    ),
                    expected_bucket_owner=Stack.of(self).account,
                ),
            ),
        )
        arn = Stack.of(self).format_arn(
            service="athena", resource="workgroup", resource_name=name,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )  # fmt: skip
        results = results_bucket.arn_for_objects(f"{prefix}*")
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description=f"The {persona} runs queries in {name} and reads its results only.",
            roles=[role],
            statements=[
                iam.PolicyStatement(actions=QUERY_ACTIONS, resources=[arn]),
                # The console lists workgroups and reads the catalog through Athena; what a
                # query may read is still decided by Lake Formation.
                iam.PolicyStatement(actions=["athena:ListWorkGroups"], resources=["*"]),
                iam.PolicyStatement(
                    actions=[
                        "athena:GetDataCatalog",
                        "athena:ListDatabases",
                        "athena:GetDatabase",
                        "athena:ListTableMetadata",
                        "athena:GetTableMetadata",
                    ],
                    resources=[
                        Stack.of(self).format_arn(
                            service="athena",
                            resource="datacatalog",
                            resource_name="AwsDataCatalog",
                            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                        )
                    ],
                ),
                iam.PolicyStatement(
                    actions=[
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts",
                    ],
                    resources=[results],
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
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[encryption_key.key_arn],
                ),
            ],
        )
        acknowledge(
            self.policy,
            f"Athena names each result object by query ID under the {persona}'s own prefix; "
            "the role reads and writes that prefix only. athena:ListWorkGroups (for the "
            "console) has no resource-level permissions.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, results_bucket.bucket_arn)}/{prefix}*]",
            # athena:ListWorkGroups has no resource-level permissions.
            "AwsSolutions-IAM5[Resource::*]",
        )
