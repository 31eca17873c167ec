"""A lake bucket with every protection the blueprint asks of stored data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.nag import acknowledge
from cdk_constructs.common.removal import data_removal_policy, warn_data_removal


def private_bucket_settings() -> dict[str, Any]:
    """What every bucket of the blueprint has, whatever it holds.

    Public access blocked, ACLs disabled (bucket owner enforced), SSE-C uploads refused,
    requests without TLS 1.2 denied by bucket policy, and versioning on.
    """
    return {
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "blocked_encryption_types": [s3.BlockedEncryptionType.SSE_C],
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "enforce_ssl": True,
        "minimum_tls_version": 1.2,
        "versioned": True,
    }


def acknowledge_single_region(bucket: s3.Bucket) -> None:
    """Acknowledge, on ``bucket`` only, that it is not replicated to a second region."""
    acknowledge(
        bucket,
        "Cross-region replication needs a second region with its own bucket and key, which an "
        "environment-agnostic blueprint cannot name; in-region durability comes from S3 "
        "itself plus versioning and the retain-by-default removal policy. Teams with a "
        "disaster-recovery requirement add replication rules for their chosen region.",
        "HIPAA.Security-S3BucketReplicationEnabled",
        "NIST.800.53.R5-S3BucketReplicationEnabled",
        "PCI.DSS.321-S3BucketReplicationEnabled",
    )


class SecureBucket(s3.Bucket):
    """A private, TLS-only, versioned, SSE-KMS bucket that logs its access.

    Public access is blocked, ACLs are disabled (bucket owner enforced), SSE-C uploads are
    refused, objects are encrypted with ``encryption_key`` using S3 bucket keys (far fewer KMS
    requests), and access is logged to ``access_logs_bucket`` under the bucket's construct path.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        lifecycle_rules: Sequence[s3.LifecycleRule],
        remove_on_destroy: bool = False,
        event_bridge_enabled: bool = False,
        bucket_key_enabled: bool = True,
        object_lock_days: int | None = None,
        object_lock_mode: s3.ObjectLockMode = s3.ObjectLockMode.GOVERNANCE,
    ) -> None:
        """Create the bucket.

        :param encryption_key: the customer managed key for default encryption.
        :param access_logs_bucket: where S3 server access logs go, under a prefix that is the
            bucket's construct path (for example ``Storage/RawBucket/``).
        :param lifecycle_rules: expiry and tiering rules; at least one is required, so that
            incomplete uploads and old versions never accumulate unnoticed.
        :param remove_on_destroy: empty and delete the bucket with the stack. Default: the
            bucket and its data are retained when the stack is deleted.
        :param event_bridge_enabled: send object events to EventBridge. Default: off.
        :param bucket_key_enabled: use an S3 bucket key, which cuts KMS requests (and their
            cost) by caching a bucket-level data key. Default: on. Turn it off where a
            writer's key policy conditions name its own encryption context (CloudTrail).
        :param object_lock_days: write-once retention (Object Lock) of every new object
            version, in days. Default: no Object Lock. Cannot be combined with
            ``remove_on_destroy``: locked objects cannot be emptied out with the stack.
        :param object_lock_mode: how that retention binds: ``COMPLIANCE``, no one (root
            included) can delete a version or shorten its lock before it ends;
            ``GOVERNANCE``, whoever holds ``s3:BypassGovernanceRetention`` can. Default:
            governance.
        """
        if object_lock_days is not None and remove_on_destroy:
            raise ValueError(
                f"SecureBucket {id}: object_lock_days and remove_on_destroy exclude each other"
            )
        if not lifecycle_rules:
            raise ValueError(f"SecureBucket {id}: lifecycle_rules must hold at least one rule")
        super().__init__(
            scope,
            id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=bucket_key_enabled,
            **private_bucket_settings(),
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=f"{scope.node.path}/{id}/",
            # Date-partitioned log keys, so that log queries can prune by day.
            target_object_key_format=s3.TargetObjectKeyFormat.partitioned_prefix(
                s3.PartitionDateSource.EVENT_TIME
            ),
            lifecycle_rules=lifecycle_rules,
            removal_policy=data_removal_policy(remove_on_destroy),
            auto_delete_objects=remove_on_destroy,
            object_lock_enabled=object_lock_days is not None or None,
            object_lock_default_retention=(
                _lock(object_lock_mode, object_lock_days) if object_lock_days is not None else None
            ),
        )
        warn_data_removal(self, remove_on_destroy, "this bucket and every object in it")
        if event_bridge_enabled:
            # Set on the CloudFormation resource: the L2 flag would deploy a custom-resource
            # Lambda function (and its role) just to switch this on.
            cfn_bucket = self.node.default_child
            assert isinstance(cfn_bucket, s3.CfnBucket)
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                    event_bridge_enabled=True
                )
            )
        acknowledge_single_region(self)


def _lock(mode: s3.ObjectLockMode, days: int) -> s3.ObjectLockRetention:
    """Object Lock's default retention of ``days`` in ``mode``."""
    if mode == s3.ObjectLockMode.COMPLIANCE:
        return s3.ObjectLockRetention.compliance(cdk.Duration.days(days))
    return s3.ObjectLockRetention.governance(cdk.Duration.days(days))
