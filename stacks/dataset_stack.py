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
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_constructs.catalog.curated_table import CuratedTable
from cdk_constructs.catalog.mart_table import MartTable
from cdk_constructs.catalog.raw_crawler import RawCrawler
from cdk_constructs.catalog.table_maintenance import TableMaintenance
from cdk_constructs.common.encrypted_log_group import EncryptedLogGroup
from cdk_constructs.delivery.saved_queries import save_queries
from cdk_constructs.governance.persona_grants import grant_dataset_readers
from cdk_constructs.ingest.stream_ingest import StreamIngest
from cdk_constructs.monitoring.dataset_alarms import DatasetAlarms
from cdk_constructs.orchestration.dataset_pipeline import DatasetPipeline
from cdk_constructs.orchestration.pipeline_triggers import PipelineTriggers
from cdk_constructs.processing.analytics_job import AnalyticsJob
from cdk_constructs.processing.curation_job import CurationJob
from cdk_constructs.processing.erasure_job import ErasureBuckets, ErasureJob
from model.config import EnvironmentConfig
from model.datasets import Dataset
from stacks.alerts_stack import AlertsStack
from stacks.catalog_stack import CatalogStack
from stacks.delivery_stack import DeliveryStack
from stacks.governance_stack import GovernanceStack
from stacks.sharing import Borrowed
from stacks.storage_stack import StorageStack


class DatasetStack(cdk.Stack):
    """The raw crawler, the curated table, the marts and their maintenance, the jobs, the
    pipeline and its triggers, the reader grants, the erasure job where a subject column is
    declared and, for a streaming source, the Firehose delivery stream of one dataset."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        dataset: Dataset,
        storage: StorageStack,
        catalog: CatalogStack,
        governance: GovernanceStack,
        alerts: AlertsStack,
        delivery: DeliveryStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.dataset, self.config = dataset, config
        borrowed = Borrowed(self)
        # Each bucket comes with its own key; the operations key is for logs, queues, bookmarks.
        keys = storage.keys
        personal_key, curated_key, operations_key = (
            borrowed.key(k) for k in (keys.personal_data, keys.curated, keys.operations)
        )
        raw, curated, analytics = (
            borrowed.bucket(storage.zone_buckets[zone]) for zone in ("raw", "curated", "analytics")
        )
        databases = {zone: borrowed.database(db) for zone, db in catalog.databases.items()}
        security_configuration = catalog.security_configuration_name
        self._tables(databases, curated, analytics, curated_key)
        self.crawler = RawCrawler(
            self,
            "RawCrawler",
            dataset=dataset,
            name=config.resource_name(f"{dataset.name}-raw"),
            database=databases["raw"],
            bucket=raw,
            encryption_key=operations_key,
            security_configuration=security_configuration,
        )
        self.curation = CurationJob(
            self,
            "Curation",
            dataset=dataset,
            job_name=config.resource_name(f"{dataset.name}-curate"),
            processing=config.processing,
            raw_bucket=raw,
            curated_bucket=curated,
            salt=borrowed.secret(storage.pii_salt),
            salt_key=personal_key,
            operations_key=operations_key,
            curated_database=config.database_name("curated"),
            security_configuration=security_configuration,
        )
        self._analytics(curated, analytics, security_configuration)
        self._erasure(storage, borrowed, security_configuration)
        self._stream(raw, personal_key, operations_key)
        alerts_topic = borrowed.topic(alerts.alerts.topic)
        self._orchestration(raw, operations_key, alerts_topic)
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
        self._deliver(
            delivery, {p: borrowed.principal_arn(r) for p, r in governance.personas.items()}
        )

    def _tables(
        self,
        databases: Mapping[str, glue.IDatabase],
        curated: s3.IBucket,
        analytics: s3.IBucket,
        key: kms.IKey,
    ) -> None:
        """The curated table and the marts, each with Glue's optimizers (one role for all)."""
        config, dataset = self.config, self.dataset
        self.maintenance = TableMaintenance(
            self,
            "TableMaintenance",
            dataset=dataset.name,
            zones=["curated", "analytics"] if dataset.marts else ["curated"],
            encryption_key=key,
            settings=config.table_maintenance,
        )
        self.curated_table = CuratedTable(
            self,
            "CuratedTable",
            dataset=dataset,
            database=databases["curated"],
            bucket=curated,
            remove_on_destroy=config.remove_data_on_destroy,
            maintenance=self.maintenance,
        )
        self.marts = [
            MartTable(
                self,
                f"Mart-{mart.name}",
                dataset=dataset,
                mart=mart,
                database=databases["analytics"],
                bucket=analytics,
                remove_on_destroy=config.remove_data_on_destroy,
                maintenance=self.maintenance,
            )
            for mart in dataset.marts
        ]

    def _analytics(
        self, curated: s3.IBucket, analytics: s3.IBucket, security_configuration: str
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
                analytics_bucket=analytics,
                databases={z: config.database_name(z) for z in ("curated", "analytics")},
                security_configuration=security_configuration,
            )

    def _erasure(
        self, storage: StorageStack, borrowed: Borrowed, security_configuration: str
    ) -> None:
        """The erasure job, when the dataset declares its subject column (without one, no
        request can find a person in it). Its records go to the audit bucket, borrowed
        here with its key like the zones."""
        config, dataset = self.config, self.dataset
        self.erasure: ErasureJob | None = None
        if dataset.subject is None:
            return
        zones = {z: borrowed.bucket(b) for z, b in storage.zone_buckets.items()}
        self.erasure = ErasureJob(
            self,
            "Erasure",
            dataset=dataset,
            job_name=config.resource_name(f"{dataset.name}-forget"),
            processing=config.processing,
            buckets=ErasureBuckets(**zones, audit=borrowed.bucket(storage.audit_logs.bucket)),
            databases={z: config.database_name(z) for z in ("curated", "analytics")},
            salt=borrowed.secret(storage.pii_salt),
            salt_key=borrowed.key(storage.keys.personal_data),
            security_configuration=security_configuration,
        )

    def _stream(self, raw: s3.IBucket, key: kms.IKey, log_key: kms.IKey) -> None:
        """The Firehose delivery stream of a streaming source: records and objects encrypted
        with raw's key, delivery errors logged under ``log_key``."""
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
                log_key=log_key,
                log_retention_days=config.retention.log_group_days,
                remove_on_destroy=config.remove_data_on_destroy,
            )
            cdk.CfnOutput(self, "DeliveryStreamName", value=self.stream.stream.delivery_stream_name)

    def _orchestration(self, raw: s3.IBucket, key: kms.IKey, alerts: sns.ITopic) -> None:
        """The pipeline (crawl, curate, build marts, alert) and what starts it. ``key``, the
        operations key, encrypts the pipeline's log group and the triggers' dead-letter queue,
        and is the alerts topic's key (publishing needs it)."""
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
            log_execution_data=config.processing.pipeline_log_execution_data,
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

    def _deliver(self, delivery: DeliveryStack, principals: Mapping[str, str]) -> None:
        """The ready queries, saved in the workgroup of each persona that reads the dataset,
        and each reader's grants on the dataset's tables."""
        config, dataset = self.config, self.dataset
        # The workgroups are named, not referred to: the stack dependency orders them first.
        self.add_stack_dependency(delivery)
        save_queries(
            self,
            dataset=dataset,
            workgroups={persona: wg.name for persona, wg in delivery.workgroups.items()},
            databases={z: config.database_name(z) for z in ("curated", "analytics")},
        )
        grant_dataset_readers(
            self, dataset=dataset.name, readers=dataset.readers, principals=principals
        )
