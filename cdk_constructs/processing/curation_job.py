"""One dataset's raw -> curated Glue job, and its data-quality ruleset."""

from __future__ import annotations

import json

from aws_cdk import Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk_constructs.common.nag import GRANT_WILDCARDS, acknowledge, in_finding
from cdk_constructs.processing.glue_job import add_glue_job, grant_dataset_tables
from model.config import Processing
from model.datasets import Dataset
from model.vocabulary import QUARANTINE_PREFIX


def dq_ruleset(dataset: Dataset) -> str:
    """The declared quality rules as a DQDL ruleset, or "" when none are declared."""
    if not dataset.quality_rules:
        return ""
    return "Rules = [\n    " + ",\n    ".join(dataset.quality_rules) + "\n]"


def job_arguments(
    dataset: Dataset,
    *,
    raw: s3.IBucket,
    curated: s3.IBucket,
    curated_database: str,
    salt: secretsmanager.ISecret,
) -> dict[str, str]:
    """The job's own arguments (``raw_to_curated.ARGUMENTS``), as the stack sets them."""
    return {
        "--dq_ruleset": dq_ruleset(dataset),
        "--dataset_spec": json.dumps(dataset.processing_spec(), sort_keys=True),
        "--raw_path": raw.s3_url_for_object(f"{dataset.name}/"),
        "--curated_table": f"{curated_database}.{dataset.name}",
        "--warehouse": f"{curated.s3_url_for_object()}/",
        "--quarantine_path": raw.s3_url_for_object(
            f"{QUARANTINE_PREFIX}/{dataset.name}/processing/"
        ),
        "--salt_secret_arn": salt.secret_arn,
    }


class CurationJob(Construct):
    """A Glue 5.1 PySpark job that merges new raw data into the curated Iceberg table, and,
    when the dataset declares quality rules, the Glue Data Quality ruleset that checks the
    curated table against them.

    Settings, on purpose: job bookmarks (each run reads only new raw files); auto-scaling up
    to ``max_workers``; the Flex execution class where the environment allows it (cheaper,
    may start later); one run at a time (two runs would both read the same new files);
    no retry (the pipeline watches one run); the shared security
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
        salt_key: kms.IKey,
        operations_key: kms.IKey,
        curated_database: str,
        security_configuration: str,
    ) -> None:
        """Create the job, its role and its ruleset.

        :param job_name: the job's name (the pipeline starts it by name).
        :param processing: worker type, maximum workers, Flex, timeout.
        :param raw_bucket: the raw zone (read; quarantine written under ``_quarantine/``).
        :param curated_bucket: the curated zone (written under ``<dataset>/``).
        :param salt: the secret holding the salt of hashed columns.
        :param salt_key: the key encrypting the salt (the personal-data key).
        :param operations_key: the key of the security configuration's job bookmarks. The
            buckets' own keys come with the buckets (``stacks.sharing``).
        :param curated_database: the curated database, for the ruleset's target table.
        :param security_configuration: name of the Glue security configuration.
        """
        super().__init__(scope, id)
        parts = add_glue_job(
            self,
            name=job_name,
            description=f"Raw {dataset.name} merged into its curated table, with quarantine.",
            role_description=f"The {job_name} Glue job: raw {dataset.name} to curated.",
            script="raw_to_curated",
            processing=processing,
            security_configuration=security_configuration,
            arguments={
                **job_arguments(
                    dataset,
                    raw=raw_bucket,
                    curated=curated_bucket,
                    curated_database=curated_database,
                    salt=salt,
                ),
                "--job-bookmark-option": "job-bookmark-enable",
            },
            # No retry by Glue: the pipeline watches one run (a failed run committed nothing).
            max_retries=0,
            wildcard_kind="curation job role",
            metric_namespaces=("Glue", "DataLake/*"),
        )
        self.role, self.job = parts.role, parts.job
        self._role_findings = parts.role_findings
        self._grant_data(
            dataset,
            raw_bucket=raw_bucket,
            curated_bucket=curated_bucket,
            salt=salt,
            salt_key=salt_key,
            operations_key=operations_key,
        )
        grant_dataset_tables(
            self,
            "CuratedTableAccess",
            self.role,
            zone="curated",
            database=curated_database,
            dataset=dataset.name,
            tables=[dataset.name],
            write=True,
        )
        self.ruleset = self._ruleset(dataset, job_name=job_name, curated_database=curated_database)

    def _grant_data(
        self,
        dataset: Dataset,
        *,
        raw_bucket: s3.IBucket,
        curated_bucket: s3.IBucket,
        salt: secretsmanager.ISecret,
        salt_key: kms.IKey,
        operations_key: kms.IKey,
    ) -> None:
        """What the job reads and writes: its dataset's raw folder, its quarantine folder, its
        curated folder (each bucket's grant includes its key), the salt and its key, its
        bookmarks' key; and data-quality results."""
        raw_bucket.grant_read(self.role, f"{dataset.name}/*")
        raw_bucket.grant_put(self.role, f"{QUARANTINE_PREFIX}/{dataset.name}/processing/*")
        # Iceberg writes data, delete and metadata files, and the table optimizers remove
        # what no snapshot needs; the job itself deletes nothing, but S3FileIO cleans up the
        # files of a commit that failed: read, write and delete there.
        curated_bucket.grant_read_write(self.role, f"{dataset.name}/*")
        salt.grant_read(self.role)
        salt_key.grant(self.role, "kms:Decrypt")
        # Glue encrypts the job's bookmarks on the client side, as this role (CSE-KMS).
        operations_key.grant(self.role, "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
        # Results of in-job evaluation: the action's resource type is the data-quality ruleset
        # (https://docs.aws.amazon.com/glue/latest/dg/data-quality-authorization.html lists
        # glue:PublishDataQuality on dataQualityRuleset/*); an in-job evaluation has no
        # ruleset resource of its own to name, so: this account's and region's rulesets.
        rulesets = Stack.of(self).format_arn(
            service="glue", resource="dataQualityRuleset", resource_name="*"
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["glue:PublishDataQuality"], resources=[rulesets])
        )
        raw_arn = in_finding(self, raw_bucket.bucket_arn)
        curated_arn = in_finding(self, curated_bucket.bucket_arn)
        acknowledge(
            self.role,
            "The job reads its dataset's raw folder, writes its curated table's folder "
            "(Iceberg removes the files of a failed commit, hence delete there) and its "
            "quarantine folder; every pattern is one dataset's prefix. It publishes "
            "in-job data-quality results, which name no ruleset resource of their own.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, rulesets)}]",
            f"AwsSolutions-IAM5[Resource::{raw_arn}/{dataset.name}/*]",
            f"AwsSolutions-IAM5[Resource::{raw_arn}/{QUARANTINE_PREFIX}/{dataset.name}/processing/*]",
            f"AwsSolutions-IAM5[Resource::{curated_arn}/{dataset.name}/*]",
            *self._role_findings,
            *GRANT_WILDCARDS,
        )

    def _ruleset(
        self, dataset: Dataset, *, job_name: str, curated_database: str
    ) -> glue.CfnDataQualityRuleset | None:
        """The declared rules as a ruleset on the curated table, for checks of the whole table
        (the job checks each run's rows itself); none when the dataset declares no rules."""
        if not dataset.quality_rules:
            return None
        return glue.CfnDataQualityRuleset(
            self,
            "Ruleset",
            name=f"{job_name}-curated",
            description=f"Declared quality rules of {dataset.name}, on its curated table.",
            ruleset=dq_ruleset(dataset),
            target_table=glue.CfnDataQualityRuleset.DataQualityTargetTableProperty(
                database_name=curated_database, table_name=dataset.name
            ),
        )
