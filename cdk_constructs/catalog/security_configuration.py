"""The Glue security configuration every crawler and job of the lake runs with."""

from __future__ import annotations

from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from constructs import Construct

_Config = glue.CfnSecurityConfiguration


class GlueSecurityConfiguration(glue.CfnSecurityConfiguration):
    """Encrypts what crawlers and jobs write with ``encryption_key``: their S3 output, their
    CloudWatch logs and their job bookmarks. Crawlers and jobs refer to it by ``name``."""

    def __init__(self, scope: Construct, id: str, *, name: str, encryption_key: kms.IKey) -> None:
        key = encryption_key.key_arn
        super().__init__(
            scope,
            id,
            name=name,
            encryption_configuration=_Config.EncryptionConfigurationProperty(
                s3_encryptions=[
                    _Config.S3EncryptionProperty(s3_encryption_mode="SSE-KMS", kms_key_arn=key)
                ],
                cloud_watch_encryption=_Config.CloudWatchEncryptionProperty(
                    cloud_watch_encryption_mode="SSE-KMS", kms_key_arn=key
                ),
                job_bookmarks_encryption=_Config.JobBookmarksEncryptionProperty(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key
                ),
            ),
        )
