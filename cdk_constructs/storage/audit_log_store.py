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
        self.key = EncryptionKey(
            self,
            "Key",
            description="Encrypts CloudTrail log files and the trail's CloudWatch log group.",
            remove_on_destroy=remove_on_destroy,
        )
        self.bucket = self._bucket(
            access_logs_bucket=access_logs_bucket,
            retention_days=retention_days,
            noncurrent_version_expiration_days=noncurrent_version_expiration_days,
            remove_on_destroy=remove_on_destroy,
        )
        self._let_cloudtrail_use_key()
        self.key.allow_cloudwatch_logs()
        self._let_cloudtrail_write()
        self.read_policy = self._read_policy()

    def _bucket(
        self,
        *,
        access_logs_bucket: s3.IBucket,
        retention_days: int,
        noncurrent_version_expiration_days: int,
        remove_on_destroy: bool,
    ) -> SecureBucket:
        """The log file bucket: encrypted with the audit key, log files expire after
        ``retention_days`` and, where data is kept, are locked until then."""
        return SecureBucket(
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

    def _let_cloudtrail_use_key(self) -> None:
        """Key policy: this account's trails may encrypt log files (with the trail named in
        the encryption context) and describe the key."""
        trail_arns, from_this_accounts_trails = _this_accounts_trails(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToEncryptLogFiles",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
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
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions=from_this_accounts_trails,
            )
        )

    def _let_cloudtrail_write(self) -> None:
        """Bucket policy: this account's trails may check the bucket's ACL and write log files
        under ``AWSLogs/<account>/``, handing the bucket owner full control of each."""
        _, from_this_accounts_trails = _this_accounts_trails(self)
        account = Stack.of(self).account
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailAclCheck",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:GetBucketAcl"],
                resources=[self.bucket.bucket_arn],
                conditions=from_this_accounts_trails,
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailWrite",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"AWSLogs/{account}/*")],
                conditions={
                    **from_this_accounts_trails,
                    # Replaces the trail conditions' StringEquals, so it repeats the account.
                    "StringEquals": {
                        "aws:SourceAccount": account,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    },
                },
            )
        )

    def _read_policy(self) -> iam.ManagedPolicy:
        """For whoever reviews the audit trail (the security officer persona): read log files
        and digests, and decrypt them; nothing else. Attached by the governance stack."""
        policy = iam.ManagedPolicy(
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
            policy,
            "Reviewing the audit trail means reading any of its log and digest files; the "
            "policy reads only the audit bucket and decrypts only with the audit key.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self.bucket, self.bucket.bucket_arn)}/*]",
        )
        return policy


def _this_accounts_trails(scope: Construct) -> tuple[str, dict[str, dict[str, str]]]:
    """The ARN pattern of every trail of ``scope``'s account (any region, any name), and the
    conditions admitting calls from those trails only. A pattern, not the trail's ARN, so the
    trail's stack and this one do not depend on each other."""
    stack = Stack.of(scope)
    trail_arns = f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/*"
    return trail_arns, {
        "StringEquals": {"aws:SourceAccount": stack.account},
        "ArnLike": {"aws:SourceArn": trail_arns},
    }
