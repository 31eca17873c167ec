"""One dataset's own resources, all derived from its declaration in datasets/<name>.toml.

A stack per dataset keeps onboarding cost constant: adding a declaration adds a stack and
changes no other stack's resources (only the tag values in governance), and no stack grows
with the number of datasets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from blueprint.config import EnvironmentConfig
from blueprint.datasets import Dataset
from cdk_constructs.analytics_job import AnalyticsJob
from cdk_constructs.curated_table import CuratedTable
from cdk_constructs.curation_job import CurationJob
from cdk_constructs.dataset_alarms import DatasetAlarms
from cdk_constructs.dataset_pipeline import DatasetPipeline
from cdk_constructs.encrypted_log_group import EncryptedLogGroup
from cdk_constructs.lake_formation_tags import (
    DATASET,
    GENERAL,
    PII_HASHED,
    SENSITIVITY,
    ZONE,
    Expression,
    grant_by_tags,
)
from cdk_constructs.mart_table import MartTable
from cdk_constructs.persona_role import PersonaRole
from cdk_constructs.pipeline_triggers import PipelineTriggers
from cdk_constructs.raw_crawler import RawCrawler
from cdk_constructs.stream_ingest import StreamIngest
from stacks.alerts_stack import AlertsStack
from stacks.delivery_stack import QUERYING_PERSONAS, DeliveryStack
from stacks.storage_stack import StorageStack

# What a reader of a dataset may see of it, by persona. The engineer reads every zone through
# a zone-wide grant (catalog stack), so it needs nothing per dataset.
READER_EXPRESSIONS: dict[str, Expression] = {
    "analyst": {ZONE: ("curated", "analytics"), SENSITIVITY: (GENERAL,)},
    "scientist": {ZONE: ("curated", "analytics"), SENSITIVITY: (GENERAL, PII_HASHED)},
}


class DatasetStack(cdk.Stack):
    """The raw crawler, the curated table, the jobs, the pipeline and its triggers, the reader
    grants and, for a streaming source, the Firehose delivery stream of one dataset."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        dataset: Dataset,
        databases: Mapping[str, glue.IDatabase],
        zone_buckets: Mapping[str, s3.IBucket],
        data_key: kms.IKey,
        security_configuration: str,
        personas: Mapping[str, PersonaRole],
        storage: StorageStack,
        alerts: AlertsStack,
        delivery: DeliveryStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.dataset = dataset
        self.crawler = RawCrawler(
            self,
            "RawCrawler",
            dataset=dataset,
            name=config.resource_name(f"{dataset.name}-raw"),
            database=databases["raw"],
            bucket=zone_buckets["raw"],
            encryption_key=data_key,
            security_configuration=security_configuration,
        )
        self.curated_table = CuratedTable(
            self,
            "CuratedTable",
            dataset=dataset,
            database=databases["curated"],
            bucket=zone_buckets["curated"],
        )
        self.add_dependency(storage)
        shared_key = kms.Key.from_key_arn(self, "SharedDataKey", storage.shared("DataKeyArn"))
        raw = storage.shared_bucket(self, "raw", shared_key)
        curated = storage.shared_bucket(self, "curated", shared_key)
        self.curation = CurationJob(
            self,
            "Curation",
            dataset=dataset,
            job_name=config.resource_name(f"{dataset.name}-curate"),
            processing=config.processing,
            raw_bucket=raw,
            curated_bucket=curated,
            salt=secretsmanager.Secret.from_secret_complete_arn(
                self, "PiiSalt", storage.shared("PiiSaltArn")
            ),
            encryption_key=shared_key,
            curated_database=config.database_name("curated"),
            security_configuration=security_configuration,
        )
        self.marts = [
            MartTable(
                self,
                f"Mart-{mart.name}",
                dataset=dataset,
                mart=mart,
                database=databases["analytics"],
                bucket=zone_buckets["analytics"],
            )
            for mart in dataset.marts
        ]
        self.analytics: AnalyticsJob | None = None
        if dataset.marts:
            self.analytics = AnalyticsJob(
                self,
                "Analytics",
                dataset=dataset,
                job_name=config.resource_name(f"{dataset.name}-analytics"),
                processing=config.processing,
                curated_bucket=curated,
                analytics_bucket=storage.shared_bucket(self, "analytics", shared_key),
                security_configuration=security_configuration,
            )
        self.stream: StreamIngest | None = None
        if dataset.source.mode == "streaming":
            self.stream = StreamIngest(
                self,
                "StreamIngest",
                dataset=dataset,
                stream_name=config.resource_name(dataset.name),
                raw_bucket=raw,
                encryption_key=shared_key,
                log_retention_days=config.retention.log_group_days,
                remove_on_destroy=config.remove_data_on_destroy,
            )
            cdk.CfnOutput(self, "DeliveryStreamName", value=self.stream.stream.delivery_stream_name)
        self.add_dependency(alerts)
        alerts_topic = sns.Topic.from_topic_arn(self, "Alerts", alerts.shared("AlertsTopicArn"))
        pipeline_name = config.resource_name(f"{dataset.name}-pipeline")
        self.pipeline = DatasetPipeline(
            self,
            "Pipeline",
            dataset=dataset.name,
            name=pipeline_name,
            crawler=self.crawler.crawler,
            curation_job=self.curation.job,
            analytics_job=self.analytics.job if self.analytics else None,
            job_timeout_minutes=config.processing.timeout_minutes,
            alerts=alerts_topic,
            log_group=EncryptedLogGroup(
                self,
                "PipelineLogs",
                # Under /aws/vendedlogs/ CloudWatch Logs needs no resource policy entry per
                # state machine (that account-wide policy is limited to 5,120 characters).
                log_group_name=f"/aws/vendedlogs/states/{pipeline_name}",
                encryption_key=shared_key,
                retention_days=config.retention.log_group_days,
                holds="pipeline execution logs",
                remove_on_destroy=config.remove_data_on_destroy,
            ),
            encryption_key=shared_key,
        )
        self.triggers = PipelineTriggers(
            self,
            "Triggers",
            dataset=dataset,
            state_machine=self.pipeline.state_machine,
            raw_bucket=raw,
            encryption_key=shared_key,
            schedule_enabled=config.processing.schedules_enabled,
        )
        cdk.CfnOutput(self, "PipelineArn", value=self.pipeline.state_machine.state_machine_arn)
        self.alarms = DatasetAlarms(
            self,
            "Monitoring",
            dataset=dataset,
            prefix=config.resource_name(dataset.name),
            topic=alerts_topic,
            pipeline=self.pipeline.state_machine,
            trigger_dead_letter_queue=self.triggers.dead_letter_queue,
            delivery_stream_name=config.resource_name(dataset.name) if self.stream else None,
            # Fresh data is what a running schedule promises; without one there is no promise.
            freshness=config.processing.schedules_enabled,
        )
        # The ready queries, saved in the workgroup of each persona that reads the dataset.
        self.add_dependency(delivery)
        databases_by_zone = {z: config.database_name(z) for z in ("curated", "analytics")}
        for query in dataset.queries:
            for persona in (p for p in QUERYING_PERSONAS if p in dataset.readers):
                athena.CfnNamedQuery(
                    self,
                    f"Query-{query.name}-{persona}",
                    name=f"{dataset.name}: {query.name}",
                    description=query.description,
                    database=databases_by_zone["curated"],
                    query_string=query.athena_sql(databases_by_zone).strip(),
                    work_group=delivery.workgroups[persona].name,
                )
        for persona in dataset.readers:
            if persona not in READER_EXPRESSIONS:
                continue
            grant_by_tags(
                self,
                f"{persona.capitalize()}Reads",
                principal_arn=personas[persona].role_arn,
                resource_type="TABLE",
                expression={DATASET: (dataset.name,), **READER_EXPRESSIONS[persona]},
                permissions=["SELECT", "DESCRIBE"],
            )
