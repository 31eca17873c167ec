"""One dataset's own resources, all derived from its declaration in datasets/<name>.toml.

A stack per dataset keeps onboarding cost constant: adding a declaration adds a stack and
changes no other stack's resources (only the tag values in governance), and no stack grows
with the number of datasets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_constructs.catalog.curated_table import CuratedTable
from cdk_constructs.catalog.mart_table import MartTable
from cdk_constructs.catalog.raw_crawler import RawCrawler
from cdk_constructs.common.encrypted_log_group import EncryptedLogGroup
from cdk_constructs.delivery.saved_queries import save_queries
from cdk_constructs.governance.persona_grants import grant_dataset_readers
from cdk_constructs.governance.persona_role import PersonaRole
from cdk_constructs.ingest.stream_ingest import StreamIngest
from cdk_constructs.monitoring.dataset_alarms import DatasetAlarms
from cdk_constructs.orchestration.dataset_pipeline import DatasetPipeline
from cdk_constructs.orchestration.pipeline_triggers import PipelineTriggers
from cdk_constructs.processing.analytics_job import AnalyticsJob
from cdk_constructs.processing.curation_job import CurationJob
from model.config import EnvironmentConfig
from model.datasets import Dataset
from stacks.alerts_stack import AlertsStack
from stacks.delivery_stack import DeliveryStack
from stacks.storage_stack import StorageStack


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
        self.dataset, self.config = dataset, config
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
        self._processing(storage, raw, curated, shared_key, security_configuration)
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
        self._analytics(storage, curated, shared_key, security_configuration)
        self._stream(raw, shared_key)
        self.add_dependency(alerts)
        alerts_topic = sns.Topic.from_topic_arn(self, "Alerts", alerts.shared("AlertsTopicArn"))
        self._orchestration(raw, shared_key, alerts_topic)
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
        save_queries(
            self,
            dataset=dataset,
            workgroups={persona: wg.name for persona, wg in delivery.workgroups.items()},
            databases={z: config.database_name(z) for z in ("curated", "analytics")},
        )
        grant_dataset_readers(self, dataset=dataset.name, readers=dataset.readers, roles=personas)

    def _processing(
        self,
        storage: StorageStack,
        raw: s3.IBucket,
        curated: s3.IBucket,
        key: kms.IKey,
        security_configuration: str,
    ) -> None:
        """The raw -> curated job and its quality ruleset."""
        config, dataset = self.config, self.dataset
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
            encryption_key=key,
            curated_database=config.database_name("curated"),
            security_configuration=security_configuration,
        )

    def _analytics(
        self, storage: StorageStack, curated: s3.IBucket, key: kms.IKey, configuration: str
    ) -> None:
        """The marts job, when the dataset declares marts."""
        config, dataset = self.config, self.dataset
        self.analytics: AnalyticsJob | None = None
        if dataset.marts:
            self.analytics = AnalyticsJob(
                self,
                "Analytics",
                dataset=dataset,
                job_name=config.resource_name(f"{dataset.name}-analytics"),
                processing=config.processing,
                curated_bucket=curated,
                analytics_bucket=storage.shared_bucket(self, "analytics", key),
                security_configuration=configuration,
            )

    def _stream(self, raw: s3.IBucket, key: kms.IKey) -> None:
        """The Firehose delivery stream of a streaming source."""
        config, dataset = self.config, self.dataset
        self.stream: StreamIngest | None = None
        if dataset.source.mode == "streaming":
            self.stream = StreamIngest(
                self,
                "StreamIngest",
                dataset=dataset,
                stream_name=config.resource_name(dataset.name),
                raw_bucket=raw,
                encryption_key=key,
                log_retention_days=config.retention.log_group_days,
                remove_on_destroy=config.remove_data_on_destroy,
            )
            cdk.CfnOutput(self, "DeliveryStreamName", value=self.stream.stream.delivery_stream_name)

    def _orchestration(self, raw: s3.IBucket, key: kms.IKey, alerts: sns.ITopic) -> None:
        """The pipeline (crawl, curate, build marts, alert) and what starts it."""
        config, dataset = self.config, self.dataset
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
            alerts=alerts,
            log_group=EncryptedLogGroup(
                self,
                "PipelineLogs",
                # Under /aws/vendedlogs/ CloudWatch Logs needs no resource policy entry per
                # state machine (that account-wide policy is limited to 5,120 characters).
                log_group_name=f"/aws/vendedlogs/states/{pipeline_name}",
                encryption_key=key,
                retention_days=config.retention.log_group_days,
                holds="pipeline execution logs",
                remove_on_destroy=config.remove_data_on_destroy,
            ),
            encryption_key=key,
        )
        self.triggers = PipelineTriggers(
            self,
            "Triggers",
            dataset=dataset,
            state_machine=self.pipeline.state_machine,
            raw_bucket=raw,
            encryption_key=key,
            schedule_enabled=config.processing.schedules_enabled,
        )
        cdk.CfnOutput(self, "PipelineArn", value=self.pipeline.state_machine.state_machine_arn)
