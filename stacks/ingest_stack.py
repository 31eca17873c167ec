"""Ingest: files landing in the landing bucket are checked and moved to raw, or quarantined.

Stateless: the buckets and key it uses live in the storage stack and are borrowed from it.
Streaming sources come in through each streaming dataset's own Firehose delivery stream (in
the dataset's stack).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_constructs.ingest.ingest_function import IngestFunction
from model.config import EnvironmentConfig
from model.datasets import Dataset
from stacks.sharing import Borrowed, Lender
from stacks.storage_stack import StorageStack


class IngestStack(Lender, cdk.Stack):
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
        borrowed = Borrowed(self)
        self.ingest = IngestFunction(
            self,
            "BatchIngest",
            datasets=datasets,
            landing_bucket=borrowed.bucket(storage.zone_buckets["landing"]),
            raw_bucket=borrowed.bucket(storage.zone_buckets["raw"]),
            operations_key=borrowed.key(storage.keys.operations),
            max_file_bytes=config.ingest.max_file_megabytes * 1024 * 1024,
            reserved_concurrency=config.ingest.reserved_concurrency,
            log_retention_days=config.retention.log_group_days,
            remove_on_destroy=config.remove_data_on_destroy,
        )
        # Monitoring watches both; the function's name is also how people find its logs.
        self.lend(self.ingest.function, "IngestFunction")
        self.lend(self.ingest.dead_letter_queue, "DeadLetterQueue")
