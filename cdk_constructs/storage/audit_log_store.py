"""Where CloudTrail writes: a key and a bucket that only the audit services may write with."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.encryption_key import EncryptionKey
from cdk_constructs.common.nag import acknowledge, in_finding
from cdk_constructs.storage.secure_bucket import SecureBucket


class AuditLogStore(Construct):
    """The audit key and the bucket that holds CloudTrail log files.

    The audit key is separate from the lake's data key, so being allowed to read lake data
    never means being able to read the record of what was done. Its key policy lets CloudTrail
    and CloudWatch Logs of this account use it; the bucket policy lets CloudTrail of this
    account write log files. Trails and log groups are matched by pattern, not ARN, so the
    trail can live in a stack of its own without the two stacks depending on each other.

    Log files cannot be quietly rewritten: where the environment keeps its data, every log
    file version is locked (Object Lock, governance mode) for the whole retention period, so
    neither an overwrite nor a delete removes it before then; CloudTrail's log-file validation
    makes any change detectable in every environment.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        access_logs_bucket: s3.IBucket,
        retention_days: int,
        noncurrent_version_expiration_days: int,
        remove_on_destroy: bool = False,
    ) -> None:
        """Create the key and the bucket.

        :param access_logs_bucket: where the bucket's S3 server access logs go.
        :param retention_days: how long log files are kept (and, where data is kept, locked).
        :param noncurrent_version_expiration_days: when replaced versions may go; a locked
            version stays until its retention ends whatever this says.
        :param remove_on_destroy: delete key and logs with the stack, and lock nothing.
            Default: retained, and locked.
        """
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.key = EncryptionKey(
            self,
            "Key",
            description="Encrypts CloudTrail log files and the trail's CloudWatch log group.",
            remove_on_destroy=remove_on_destroy,
        )
        self.bucket = SecureBucket(
            self,
            "Bucket",
            encryption_key=self.key,
            access_logs_bucket=access_logs_bucket,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="RetainAuditLogs",
                    expiration=Duration.days(retention_days),
                    noncurrent_version_expiration=Duration.days(noncurrent_version_expiration_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            # CloudTrail's key policy conditions name the trail in the encryption context; a
            # bucket key would replace it with the bucket's. CloudTrail writes few objects.
            bucket_key_enabled=False,
            object_lock_days=None if remove_on_destroy else retention_days,
            remove_on_destroy=remove_on_destroy,
        )

        account = stack.account
        cloudtrail = iam.ServicePrincipal("cloudtrail.amazonaws.com")
        trail_arns = f"arn:{stack.partition}:cloudtrail:*:{account}:trail/*"
        from_this_accounts_trails = {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": trail_arns},
        }
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToEncryptLogFiles",
                principals=[cloudtrail],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    **from_this_accounts_trails,
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": trail_arns},
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToDescribeKey",
                principals=[cloudtrail],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions=from_this_accounts_trails,
            )
        )
        self.key.allow_cloudwatch_logs()
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailAclCheck",
                principals=[cloudtrail],
                actions=["s3:GetBucketAcl"],
                resources=[self.bucket.bucket_arn],
                conditions=from_this_accounts_trails,
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailWrite",
                principals=[cloudtrail],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"AWSLogs/{account}/*")],
                conditions={
                    **from_this_accounts_trails,
                    "StringEquals": {
                        "aws:SourceAccount": account,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    },
                },
            )
        )

        # For whoever reviews the audit trail (the security officer persona): read log files
        # and digests, and decrypt them; nothing else. Attached by the governance stack.
        self.read_policy = iam.ManagedPolicy(
            self,
            "ReadPolicy",
            description="Read CloudTrail log files and digests, and decrypt them.",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:GetBucketLocation"],
                    resources=[self.bucket.bucket_arn],
                ),
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[self.bucket.arn_for_objects("*")],
                ),
                iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.key.key_arn]),
            ],
        )
        acknowledge(
            self.read_policy,
            "Reviewing the audit trail means reading any of its log and digest files; the "
            "policy reads only the audit bucket and decrypts only with the audit key.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self.bucket, self.bucket.bucket_arn)}/*]",
        )
