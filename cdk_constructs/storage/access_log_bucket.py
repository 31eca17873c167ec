"""The bucket that receives S3 server access logs from every other bucket of the lake."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.nag import acknowledge
from cdk_constructs.common.removal import data_removal_policy, warn_data_removal
from cdk_constructs.storage.secure_bucket import acknowledge_single_region, private_bucket_settings


class AccessLogBucket(s3.Bucket):
    """A private, TLS-only, versioned bucket for S3 server access logs.

    It is the one bucket of the lake without SSE-KMS and without access logging of its own,
    because S3 log delivery allows neither (see the acknowledgments below).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        retention_days: int,
        noncurrent_version_expiration_days: int,
        remove_on_destroy: bool = False,
    ) -> None:
        """Create the bucket.

        :param retention_days: days after which log objects expire.
        :param noncurrent_version_expiration_days: days after which replaced versions expire.
        :param remove_on_destroy: empty and delete the bucket with the stack. Default: the
            bucket and its logs are retained.
        """
        super().__init__(
            scope,
            id,
            # S3 server access log delivery supports only SSE-S3 on the target bucket.
            encryption=s3.BucketEncryption.S3_MANAGED,
            **private_bucket_settings(),
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=cdk.Duration.days(retention_days),
                    noncurrent_version_expiration=cdk.Duration.days(
                        noncurrent_version_expiration_days
                    ),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=data_removal_policy(remove_on_destroy),
            auto_delete_objects=remove_on_destroy,
        )
        warn_data_removal(
            self, remove_on_destroy, "this bucket and the S3 server access logs in it"
        )
        acknowledge(
            self,
            "This bucket is the destination of S3 server access logs; logging it into itself "
            "would record its own log deliveries without end. Its bucket policy grants writes "
            "only to the S3 logging service, for the lake's own buckets, and its objects "
            "expire by lifecycle rule.",
            "AwsSolutions-S1",
            "HIPAA.Security-S3BucketLoggingEnabled",
            "NIST.800.53.R5-S3BucketLoggingEnabled",
            "PCI.DSS.321-S3BucketLoggingEnabled",
        )
        acknowledge(
            self,
            "S3 server access log delivery supports only SSE-S3 (AES-256) on the destination "
            "bucket, not SSE-KMS; the bucket is private, TLS-only and holds no lake data.",
            "HIPAA.Security-S3DefaultEncryptionKMS",
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "PCI.DSS.321-S3DefaultEncryptionKMS",
        )
        acknowledge_single_region(self)
