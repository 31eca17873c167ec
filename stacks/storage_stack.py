"""Store: the lake's keys and buckets. Stateful, so it lives apart from everything that runs.

Two customer managed keys, on purpose:

* the data key encrypts every lake zone, the Athena results and the pipelines' log groups
  (which can hold sample rows). Everything that reads the lake (Lake Formation, Athena, Glue,
  the ingest function) needs it;
* the audit key (in ``AuditLogStore``) encrypts CloudTrail's log files and log group, so that
  being allowed to read lake data never means being able to read the record of what was done.

A key per zone would cost 1 USD a month each and separate nothing that Lake Formation grants
and bucket policies do not already separate. The access-log bucket uses SSE-S3, because S3
log delivery supports nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.encryption_key import EncryptionKey
from cdk_constructs.governance.registered_locations import DataAccessRole
from cdk_constructs.ingest.review_policy import IngestReviewPolicy
from cdk_constructs.storage.access_log_bucket import AccessLogBucket
from cdk_constructs.storage.audit_log_store import AuditLogStore
from cdk_constructs.storage.lifecycle import athena_results_rule, zone_lifecycle_rules
from cdk_constructs.storage.pii_salt import PiiSalt
from cdk_constructs.storage.secure_bucket import SecureBucket
from model.config import EnvironmentConfig
from model.datasets import Dataset
from model.vocabulary import CATALOGUED_ZONES, EVENT_ZONES, ZONES
from stacks.sharing import Lender


class StorageStack(Lender, cdk.Stack):
    """Keys, the four lake zones, Athena results, audit logs and access logs."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        datasets: Sequence[Dataset],
        **kwargs: Any,
    ) -> None:
        """:param datasets: the declarations, whose raw retention raw's lifecycle enforces."""
        super().__init__(scope, id, **kwargs)
        remove = config.remove_data_on_destroy
        lifecycle = config.lifecycle

        self.data_key = EncryptionKey(
            self,
            "DataKey",
            description="Encrypts the data lake zones, Athena query results and pipeline logs.",
            remove_on_destroy=remove,
        )
        # Pipeline logs (Glue jobs and crawlers, later functions) can hold sample rows.
        self.data_key.allow_cloudwatch_logs()
        # EventBridge puts undeliverable landing events in an encrypted dead-letter queue.
        self.data_key.allow_service("events.amazonaws.com", "kms:GenerateDataKey", "kms:Decrypt")
        # CloudWatch alarms publish to the alerts topic, which the data key encrypts.
        self.data_key.allow_service(
            "cloudwatch.amazonaws.com", "kms:GenerateDataKey", "kms:Decrypt"
        )

        self.access_logs_bucket = AccessLogBucket(
            self,
            "AccessLogsBucket",
            retention_days=config.retention.access_log_days,
            noncurrent_version_expiration_days=lifecycle.noncurrent_version_expiration_days,
            remove_on_destroy=remove,
        )
        zone_rules = zone_lifecycle_rules(lifecycle, datasets)
        self.zone_buckets: dict[str, s3.Bucket] = {
            zone: SecureBucket(
                self,
                f"{zone.capitalize()}Bucket",
                encryption_key=self.data_key,
                access_logs_bucket=self.access_logs_bucket,
                lifecycle_rules=zone_rules[zone],
                remove_on_destroy=remove,
                event_bridge_enabled=zone in EVENT_ZONES,
            )
            for zone in ZONES
        }
        self.athena_results_bucket = SecureBucket(
            self,
            "AthenaResultsBucket",
            encryption_key=self.data_key,
            access_logs_bucket=self.access_logs_bucket,
            lifecycle_rules=[athena_results_rule(lifecycle)],
            remove_on_destroy=remove,
        )
        self.audit_logs = self._audit_log_store(config)
        # Lake Formation's way into the catalogued zones; registered by the governance stack.
        self.data_access_role = DataAccessRole(
            self,
            "LakeFormationDataAccessRole",
            buckets=[self.zone_buckets[zone] for zone in CATALOGUED_ZONES],
        )
        self.ingest_review_policy = IngestReviewPolicy(
            self,
            "IngestReviewPolicy",
            landing=self.zone_buckets["landing"],
            raw=self.zone_buckets["raw"],
            encryption_key=self.data_key,
        )
        self.pii_salt = PiiSalt(
            self, "PiiSalt", encryption_key=self.data_key, remove_on_destroy=remove
        )
        self._lend_to_other_stacks()

    def _audit_log_store(self, config: EnvironmentConfig) -> AuditLogStore:
        """The audit key and bucket, locked as the environment says, for one trail."""
        return AuditLogStore(
            self,
            "AuditLogs",
            access_logs_bucket=self.access_logs_bucket,
            # The audit stack's trail, created later under this name.
            trail_name=config.resource_name("trail"),
            retention_days=config.retention.audit_log_days,
            noncurrent_version_expiration_days=config.lifecycle.noncurrent_version_expiration_days,
            object_lock_mode=config.retention.audit_object_lock_mode,
            remove_on_destroy=config.remove_data_on_destroy,
        )

    def _lend_to_other_stacks(self) -> None:
        """What the stateless stacks use, by name (see ``stacks.sharing``); the bucket names
        are also how people find the buckets, which have generated names."""
        self.lend(self.data_key, "DataKey")
        for zone, bucket in self.zone_buckets.items():
            self.lend(bucket, f"{zone.capitalize()}Bucket", key=self.data_key)
        self.lend(self.athena_results_bucket, "AthenaResultsBucket", key=self.data_key)
        self.lend(self.audit_logs.key, "AuditLogsKey")
        self.lend(self.audit_logs.bucket, "AuditLogsBucket", key=self.audit_logs.key)
        self.lend(self.audit_logs.read_policy, "AuditLogsReadPolicy")
        self.lend(self.pii_salt, "PiiSalt")
        self.lend(self.data_access_role, "DataAccessRole")
        self.lend(self.ingest_review_policy, "IngestReviewPolicy")

    @property
    def lake_buckets(self) -> list[s3.Bucket]:
        """Every bucket that holds lake data or query results (for audit data events)."""
        return [*self.zone_buckets.values(), self.athena_results_bucket]
