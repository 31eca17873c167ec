"""One dataset's curated -> analytics Glue job: rebuilds its marts."""

from __future__ import annotations

import json

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as assets
from constructs import Construct

from blueprint.config import Processing
from blueprint.datasets import Dataset
from cdk_constructs.curation_job import GLUE_JOBS, glue_modules
from cdk_constructs.managed_role import ManagedRole
from cdk_constructs.nag import acknowledge, in_finding


def analytics_arguments(
    dataset: Dataset, *, curated: s3.IBucket, analytics: s3.IBucket
) -> dict[str, str]:
    """The job's own arguments (``curated_to_analytics.ARGUMENTS``), as the stack sets them."""
    return {
        "--marts_spec": json.dumps([m.spec() for m in dataset.marts], sort_keys=True),
        "--curated_path": curated.s3_url_for_object(f"{dataset.name}/"),
        "--analytics_path": analytics.s3_url_for_object(),
    }


class AnalyticsJob(Construct):
    """A Glue 5.0 job that rebuilds the dataset's marts from its whole curated table.

    Same run settings as the curation job (Flex where allowed, one run at a time, one retry,
    shared security configuration, metrics and continuous logs); no bookmark, since every
    run reads all of curated and overwrites the partitions it writes.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: Dataset,
        job_name: str,
        processing: Processing,
        curated_bucket: s3.IBucket,
        analytics_bucket: s3.IBucket,
        security_configuration: str,
    ) -> None:
        super().__init__(scope, id)
        if not dataset.marts:
            raise ValueError(f"AnalyticsJob {id}: dataset {dataset.name} declares no marts")
        stack = Stack.of(self)
        script = assets.Asset(self, "Script", path=str(GLUE_JOBS / "curated_to_analytics.py"))
        module = assets.Asset(self, "Marts", path=glue_modules("marts"))
        self.role = ManagedRole(
            self,
            "Role",
            description=f"The {job_name} Glue job: curated {dataset.name} to its marts.",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
        )
        for asset in (script, module):
            asset.grant_read(self.role)
        curated_bucket.grant_read(self.role, f"{dataset.name}/*")
        for mart in dataset.marts:
            analytics_bucket.grant_read_write(self.role, f"{mart.name}/*")
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                         "logs:AssociateKmsKey"],
                resources=[stack.format_arn(service="logs", resource="log-group",
                                            resource_name="/aws-glue/*",
                                            arn_format=ArnFormat.COLON_RESOURCE_NAME)],
            )
        )  # fmt: skip
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": ["Glue"]}},
            )
        )
        self.job = glue.CfnJob(
            self,
            "Job",
            name=job_name,
            description=f"Curated {dataset.name} to its analytics marts.",
            role=self.role.role_arn,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=script.s3_object_url
            ),
            glue_version="5.0",
            worker_type=processing.worker_type,
            number_of_workers=processing.max_workers,
            execution_class="FLEX" if processing.flex else "STANDARD",
            timeout=processing.timeout_minutes,
            max_retries=1,  # it overwrites what it writes: a retry is safe
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            security_configuration=security_configuration,
            default_arguments={
                **analytics_arguments(dataset, curated=curated_bucket, analytics=analytics_bucket),
                "--extra-py-files": module.s3_object_url,
                "--job-language": "python",
                "--enable-metrics": "true",
                "--enable-continuous-cloudwatch-log": "true",
                "--enable-auto-scaling": "true",
            },
        )
        self.job.node.add_dependency(self.role)
        curated_arn = in_finding(self, curated_bucket.bucket_arn)
        analytics_arn = in_finding(self, analytics_bucket.bucket_arn)
        acknowledge(
            self.role,
            "The job reads its dataset's curated folder and rewrites its marts' folders "
            "(Spark commits by renaming temporary objects, hence delete there), and reads its "
            "own script assets; every pattern is one dataset's or one mart's prefix. Job "
            "metrics (namespace-conditioned) have no resource-level permissions.",
            f"AwsSolutions-IAM5[Resource::{curated_arn}/{dataset.name}/*]",
            *(f"AwsSolutions-IAM5[Resource::{analytics_arn}/{m.name}/*]" for m in dataset.marts),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
            "cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
            "<AWS::AccountId>:log-group:/aws-glue/*]",
            "AwsSolutions-IAM5[Resource::*]",
            "AwsSolutions-IAM5[Action::s3:GetObject*]",
            "AwsSolutions-IAM5[Action::s3:GetBucket*]",
            "AwsSolutions-IAM5[Action::s3:List*]",
            "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
            "AwsSolutions-IAM5[Action::s3:Abort*]",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
        )
        acknowledge(
            self.job,
            "The job uses the catalog stack's shared security configuration by name, which "
            "cdk-nag cannot follow; it encrypts S3 output, CloudWatch logs and job bookmarks "
            "with the data key (asserted in tests).",
            "AwsSolutions-GL1",
            "AwsSolutions-GL3",
        )
