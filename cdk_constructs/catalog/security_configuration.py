"""The Glue security configuration every crawler and job of the lake runs with."""

from __future__ import annotations

from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from constructs import Construct

_Config = glue.CfnSecurityConfiguration


class GlueSecurityConfiguration(glue.CfnSecurityConfiguration):
    """Encrypts what crawlers and jobs produce about their runs with ``encryption_key`` (the
    operations key): their CloudWatch logs and their job bookmarks. Crawlers and jobs refer to
    it by ``name``.

    Their S3 output is left to each bucket's default encryption (SSE-KMS with the zone's key,
    applied by S3 to every write): a key named here would be used for every object a job
    writes, in whichever bucket, so the curation job's quarantined rows in raw would be
    encrypted with the key of curated data, or its curated table with the key of personal data.
    """

    def __init__(self, scope: Construct, id: str, *, name: str, encryption_key: kms.IKey) -> None:
        key = encryption_key.key_arn
        super().__init__(
            scope,
            id,
            name=name,
            encryption_configuration=_Config.EncryptionConfigurationProperty(
                s3_encryptions=[_Config.S3EncryptionProperty(s3_encryption_mode="DISABLED")],
                cloud_watch_encryption=_Config.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key
                ),
                job_bookmarks_encryption=_Config.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key
                ),
            ),
        )
