"""One dataset's curated -> analytics Glue job: rebuilds its marts."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.nag import GRANT_WILDCARDS, acknowledge, in_finding
from cdk_constructs.processing.glue_job import add_glue_job, grant_dataset_tables
from model.config import Processing
from model.datasets import Dataset


def analytics_arguments(
    dataset: Dataset, *, analytics: s3.IBucket, databases: Mapping[str, str]
) -> dict[str, str]:
    """The job's own arguments (``curated_to_analytics.ARGUMENTS``), as the stack sets them."""
    return {
        "--marts_spec": json.dumps([m.spec() for m in dataset.marts], sort_keys=True),
        "--curated_table": f"{databases['curated']}.{dataset.name}",
        "--analytics_database": databases["analytics"],
        "--warehouse": f"{analytics.s3_url_for_object()}/",
    }


class AnalyticsJob(Construct):
    """A Glue 5.1 job that rebuilds the dataset's marts from its whole curated table.

    Same run settings as the curation job (Flex where allowed, one run at a time, no retry,
    shared security configuration, metrics and continuous logs); no bookmark, since every
    run reads all of curated and replaces each mart's table in one commit.
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
        databases: Mapping[str, str],
        security_configuration: str,
    ) -> None:
        super().__init__(scope, id)
        if not dataset.marts:
            raise ValueError(f"AnalyticsJob {id}: dataset {dataset.name} declares no marts")
        parts = add_glue_job(
            self,
            name=job_name,
            description=f"Curated {dataset.name} to its analytics marts.",
            role_description=f"The {job_name} Glue job: curated {dataset.name} to its marts.",
            script="curated_to_analytics",
            processing=processing,
            security_configuration=security_configuration,
            arguments=analytics_arguments(dataset, analytics=analytics_bucket, databases=databases),
            # The pipeline watches one run: a retry by Glue would be a run it does not see.
            max_retries=0,
            wildcard_kind="analytics job role",
        )
        self.role, self.job = parts.role, parts.job
        curated_bucket.grant_read(self.role, f"{dataset.name}/*")
        for mart in dataset.marts:
            analytics_bucket.grant_read_write(self.role, f"{mart.name}/*")
        grant_dataset_tables(
            self,
            "CuratedTableAccess",
            self.role,
            zone="curated",
            database=databases["curated"],
            dataset=dataset.name,
            tables=[dataset.name],
            write=False,
        )
        grant_dataset_tables(
            self,
            "MartTableAccess",
            self.role,
            zone="analytics",
            database=databases["analytics"],
            dataset=dataset.name,
            tables=[m.name for m in dataset.marts],
            write=True,
        )
        curated_arn = in_finding(self, curated_bucket.bucket_arn)
        analytics_arn = in_finding(self, analytics_bucket.bucket_arn)
        acknowledge(
            self.role,
            "The job reads its dataset's curated table's folder and rewrites its marts' tables "
            "(Iceberg removes the files of a failed commit, hence delete there); every "
            "pattern is one dataset's or one mart's prefix.",
            f"AwsSolutions-IAM5[Resource::{curated_arn}/{dataset.name}/*]",
            *(f"AwsSolutions-IAM5[Resource::{analytics_arn}/{m.name}/*]" for m in dataset.marts),
            *parts.role_findings,
            *GRANT_WILDCARDS,
        )
