"""One dataset's raw -> curated Glue job, and its data-quality ruleset."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as assets
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from blueprint.config import Processing
from blueprint.datasets import Dataset
from cdk_constructs.managed_role import ManagedRole
from cdk_constructs.nag import acknowledge, in_finding

GLUE_JOBS = Path(__file__).resolve().parent.parent / "glue_jobs"
QUARANTINE_PREFIX = "_quarantine"


def dq_ruleset(dataset: Dataset) -> str:
    """The declared quality rules as a DQDL ruleset, or "" when none are declared."""
    if not dataset.quality_rules:
        return ""
    return "Rules = [\n    " + ",\n    ".join(dataset.quality_rules) + "\n]"


def glue_modules(*names: str) -> str:
    """A folder holding only the named modules, to ship as one zip with --extra-py-files
    (a single-file asset would be named after its hash, and so not be importable)."""
    staging = Path(tempfile.mkdtemp(prefix="glue-modules-"))
    for name in names:
        shutil.copyfile(GLUE_JOBS / f"{name}.py", staging / f"{name}.py")
    return str(staging)


def job_arguments(
    dataset: Dataset, *, raw: s3.IBucket, curated: s3.IBucket, salt: secretsmanager.ISecret
) -> dict[str, str]:
    """The job's own arguments (``raw_to_curated.ARGUMENTS``), as the stack sets them."""
    return {
        "--dq_ruleset": dq_ruleset(dataset),
        "--dataset_spec": json.dumps(dataset.processing_spec(), sort_keys=True),
        "--raw_path": raw.s3_url_for_object(f"{dataset.name}/"),
        "--curated_path": curated.s3_url_for_object(f"{dataset.name}/"),
        "--quarantine_path": raw.s3_url_for_object(
            f"{QUARANTINE_PREFIX}/{dataset.name}/processing/"
        ),
        "--salt_secret_arn": salt.secret_arn,
    }


class CurationJob(Construct):
    """A Glue 5.0 PySpark job that turns new raw data into curated Parquet, and the Glue Data
    Quality ruleset that checks the curated table against the declared rules.

    Settings, on purpose: job bookmarks (each run reads only new raw files); auto-scaling up
    to ``max_workers``; the Flex execution class where the environment allows it (cheaper,
    may start later); one run at a time (two runs would both read the same new files);
    no retry (a run that failed after writing would write its rows again); the shared security
    configuration; continuous logging and job metrics.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: Dataset,
        job_name: str,
        processing: Processing,
        raw_bucket: s3.IBucket,
        curated_bucket: s3.IBucket,
        salt: secretsmanager.ISecret,
        encryption_key: kms.IKey,
        curated_database: str,
        security_configuration: str,
    ) -> None:
        """Create the job, its role and its ruleset.

        :param job_name: the job's name (the pipeline starts it by name).
        :param processing: worker type, maximum workers, Flex, timeout.
        :param raw_bucket: the raw zone (read; quarantine written under ``_quarantine/``).
        :param curated_bucket: the curated zone (written under ``<dataset>/``).
        :param salt: the secret holding the salt of hashed columns.
        :param encryption_key: the data key (buckets, logs, bookmarks).
        :param curated_database: the curated database, for the ruleset's target table.
        :param security_configuration: name of the Glue security configuration.
        """
        super().__init__(scope, id)
        stack = Stack.of(self)
        script = assets.Asset(self, "Script", path=str(GLUE_JOBS / "raw_to_curated.py"))
        module = assets.Asset(self, "Transforms", path=glue_modules("transforms"))
        self.role = ManagedRole(
            self,
            "Role",
            description=f"The {job_name} Glue job: raw {dataset.name} to curated.",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
        )
        for asset in (script, module):
            asset.grant_read(self.role)
        raw_bucket.grant_read(self.role, f"{dataset.name}/*")
        raw_bucket.grant_put(self.role, f"{QUARANTINE_PREFIX}/{dataset.name}/processing/*")
        # Spark commits output by renaming temporary files: read, write and delete there.
        curated_bucket.grant_read_write(self.role, f"{dataset.name}/*")
        salt.grant_read(self.role)
        encryption_key.grant(self.role, "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
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
                # Results of in-job evaluation (not tied to a ruleset resource).
                actions=["glue:PublishDataQuality"],
                resources=["*"],
            )
        )  # fmt: skip
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": ["Glue", "DataLake/*"]}},
            )
        )

        arguments = {
            **job_arguments(dataset, raw=raw_bucket, curated=curated_bucket, salt=salt),
            "--extra-py-files": module.s3_object_url,
            "--job-language": "python",
            "--job-bookmark-option": "job-bookmark-enable",
            "--enable-metrics": "true",
            "--enable-continuous-cloudwatch-log": "true",
            "--enable-auto-scaling": "true",
        }
        self.job = glue.CfnJob(
            self,
            "Job",
            name=job_name,
            description=f"Raw {dataset.name} to curated Parquet, with quarantine.",
            role=self.role.role_arn,
            command=glue.CfnJob.JobCommandProperty(
                name="glueetl", python_version="3", script_location=script.s3_object_url
            ),
            glue_version="5.0",
            worker_type=processing.worker_type,
            number_of_workers=processing.max_workers,
            execution_class="FLEX" if processing.flex else "STANDARD",
            timeout=processing.timeout_minutes,
            # No retry: a run that failed after writing would append the same rows again.
            max_retries=0,
            execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
            security_configuration=security_configuration,
            default_arguments=arguments,
        )
        self.job.node.add_dependency(self.role)

        self.ruleset = None
        if dataset.quality_rules:
            self.ruleset = glue.CfnDataQualityRuleset(
                self,
                "Ruleset",
                name=f"{job_name}-curated",
                description=f"Declared quality rules of {dataset.name}, on its curated table.",
                ruleset=dq_ruleset(dataset),
                target_table=glue.CfnDataQualityRuleset.DataQualityTargetTableProperty(
                    database_name=curated_database, table_name=dataset.name
                ),
            )

        raw_arn = in_finding(self, raw_bucket.bucket_arn)
        curated_arn = in_finding(self, curated_bucket.bucket_arn)
        acknowledge(
            self.role,
            "The job reads its dataset's raw folder, writes its curated folder (Spark commits by "
            "renaming temporary objects, hence delete there) and its quarantine folder, and "
            "reads its own script assets; every pattern is one dataset's prefix. Metrics "
            "(namespace-conditioned) and data-quality results have no resource-level "
            "permissions.",
            f"AwsSolutions-IAM5[Resource::{raw_arn}/{dataset.name}/*]",
            f"AwsSolutions-IAM5[Resource::{raw_arn}/{QUARANTINE_PREFIX}/{dataset.name}/processing/*]",
            f"AwsSolutions-IAM5[Resource::{curated_arn}/{dataset.name}/*]",
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
