"""Ingest: files landing in the landing bucket are checked and moved to raw, or quarantined.

Stateless: the buckets and key it uses live in the storage stack and are read through that
stack's outputs. Streaming sources come in through each streaming dataset's own Firehose
delivery stream (in the dataset's stack).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_constructs.ingest.ingest_function import IngestFunction
from model.config import EnvironmentConfig
from model.datasets import Dataset
from stacks.storage_stack import StorageStack


class IngestStack(cdk.Stack):
    """The batch ingest function, its EventBridge rule and dead-letter queue."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        datasets: Sequence[Dataset],
        storage: StorageStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.add_dependency(storage)
        data_key = kms.Key.from_key_arn(self, "DataKey", storage.shared("DataKeyArn"))
        landing, raw = (storage.shared_bucket(self, zone, data_key) for zone in ("landing", "raw"))
        self.ingest = IngestFunction(
            self,
            "BatchIngest",
            datasets=datasets,
            landing_bucket=landing,
            raw_bucket=raw,
            encryption_key=data_key,
            max_file_bytes=config.ingest.max_file_megabytes * 1024 * 1024,
            reserved_concurrency=config.ingest.reserved_concurrency,
            log_retention_days=config.retention.log_group_days,
            remove_on_destroy=config.remove_data_on_destroy,
        )
        cdk.CfnOutput(self, "IngestFunctionName", value=self.ingest.function.function_name)
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=self.ingest.dead_letter_queue.queue_url)
        cdk.CfnOutput(self, "DeadLetterQueueArn", value=self.ingest.dead_letter_queue.queue_arn)
        cdk.CfnOutput(self, "DeadLetterQueueName", value=self.ingest.dead_letter_queue.queue_name)
