"""Store: the lake's keys and buckets. Stateful, so it lives apart from everything that runs.

Four customer managed keys, on purpose, each separating readers the others must not have:

* the personal-data key (landing, raw and its quarantine, the PII salt), the curated key
  (curated, analytics, Athena query results) and the operations key (logs, alerts, dead-letter
  queues): see ``cdk_constructs/storage/lake_keys.py`` for who uses each and why;
* the audit key (in ``AuditLogStore``) encrypts CloudTrail's log files and log group, so that
  being allowed to read lake data never means being able to read the record of what was done.

Each key costs 1 USD a month. A key per zone would separate nothing more: curated and analytics
have the same readers, and so do landing and raw. The access-log bucket uses SSE-S3, because
S3 log delivery supports nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.governance.registered_locations import DataAccessRole
from cdk_constructs.ingest.review_policy import IngestReviewPolicy
from cdk_constructs.storage.access_log_bucket import AccessLogBucket
from cdk_constructs.storage.audit_log_store import AuditLogStore
from cdk_constructs.storage.lake_keys import lake_keys, refuse_other_keys
from cdk_constructs.storage.lifecycle import athena_results_rule, zone_lifecycle_rules
from cdk_constructs.storage.pii_salt import PiiSalt
from cdk_constructs.storage.secure_bucket import SecureBucket
from model.config import EnvironmentConfig
from model.datasets import Dataset
from model.vocabulary import CATALOGUED_ZONES, EVENT_ZONES, PERSONAL_DATA_ZONES, ZONES
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

        self.keys = lake_keys(self, remove_on_destroy=remove)
        # Zones holding personal data in clear, and those holding curated data only.
        zone_keys = {
            zone: self.keys.personal_data if zone in PERSONAL_DATA_ZONES else self.keys.curated
            for zone in ZONES
        }

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
                encryption_key=zone_keys[zone],
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
            encryption_key=self.keys.curated,
            access_logs_bucket=self.access_logs_bucket,
            lifecycle_rules=[athena_results_rule(lifecycle)],
            remove_on_destroy=remove,
        )
        for bucket in self.lake_buckets:
            refuse_other_keys(bucket, self.zone_key_of(bucket))
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
            encryption_key=self.keys.personal_data,
        )
        # Whoever reads the salt can reverse hashes of low-entropy values: it is personal data.
        self.pii_salt = PiiSalt(
            self, "PiiSalt", encryption_key=self.keys.personal_data, remove_on_destroy=remove
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
        self.lend(self.keys.personal_data, "PersonalDataKey")
        self.lend(self.keys.curated, "CuratedDataKey")
        self.lend(self.keys.operations, "OperationsKey")
        for zone, bucket in self.zone_buckets.items():
            self.lend(bucket, f"{zone.capitalize()}Bucket", key=self.zone_key(zone))
        self.lend(self.athena_results_bucket, "AthenaResultsBucket", key=self.keys.curated)
        self.lend(self.audit_logs.key, "AuditLogsKey")
        self.lend(self.audit_logs.bucket, "AuditLogsBucket", key=self.audit_logs.key)
        self.lend(self.audit_logs.read_policy, "AuditLogsReadPolicy")
        self.lend(self.pii_salt, "PiiSalt")
        self.lend(self.data_access_role, "DataAccessRole")
        self.lend(self.ingest_review_policy, "IngestReviewPolicy")

    def zone_key(self, zone: str) -> kms.IKey:
        """The key a zone's objects are encrypted with (KeyError for an unknown zone)."""
        return self.zone_key_of(self.zone_buckets[zone])

    @staticmethod
    def zone_key_of(bucket: s3.IBucket) -> kms.IKey:
        key = bucket.encryption_key
        assert key is not None
        return key

    @property
    def lake_buckets(self) -> list[s3.Bucket]:
        """Every bucket that holds lake data or query results (for audit data events)."""
        return [*self.zone_buckets.values(), self.athena_results_bucket]
