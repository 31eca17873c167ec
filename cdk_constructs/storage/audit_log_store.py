"""Where CloudTrail writes: a key and a bucket that only the audit services may write with."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.encryption_key import EncryptionKey
from cdk_constructs.common.nag import acknowledge, in_finding
from cdk_constructs.storage.secure_bucket import SecureBucket


class AuditLogStore(Construct):
    """The audit key and the bucket that holds CloudTrail log files.

    The audit key is separate from the lake's data key, so being allowed to read lake data
    never means being able to read the record of what was done. Its key policy lets the one
    trail named ``trail_name`` and CloudWatch Logs of this account use it; the bucket policy
    lets that trail, and no other, write log files. The trail lives in a stack of its own,
    deployed after this one: it has a fixed name, so its ARN is known here in advance and
    neither stack refers to the other's resources.

    Log files cannot be quietly rewritten: where the environment keeps its data, every log
    file version is locked (Object Lock, in ``object_lock_mode``) for the whole retention
    period, so neither an overwrite nor a delete removes it before then; in compliance mode
    not even the account's root user can. CloudTrail's log-file validation makes any change
    detectable in every environment.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        access_logs_bucket: s3.IBucket,
        trail_name: str,
        retention_days: int,
        noncurrent_version_expiration_days: int,
        object_lock_mode: str | None,
        remove_on_destroy: bool = False,
    ) -> None:
        """Create the key and the bucket.

        :param access_logs_bucket: where the bucket's S3 server access logs go.
        :param trail_name: the name of the one trail (in this stack's account and region)
            that may write here and encrypt with the key.
        :param retention_days: how long log files are kept (and, where locked, locked).
        :param noncurrent_version_expiration_days: when replaced versions may go; a locked
            version stays until its retention ends whatever this says.
        :param object_lock_mode: ``COMPLIANCE`` or ``GOVERNANCE`` (see ``SecureBucket``), or
            None to lock nothing, which only ``remove_on_destroy`` allows.
        :param remove_on_destroy: delete key and logs with the stack. Default: retained.
        """
        super().__init__(scope, id)
        if (object_lock_mode is None) != remove_on_destroy:
            raise ValueError(
                f"AuditLogStore {id}: object_lock_mode {object_lock_mode!r} with "
                f"remove_on_destroy={remove_on_destroy}: expected a lock exactly where the "
                "logs are kept (a stack cannot empty a locked bucket)"
            )
        self.trail_name = trail_name
        self.trail_arn = Stack.of(self).format_arn(
            service="cloudtrail",
            resource="trail",
            resource_name=trail_name,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
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
            object_lock_mode=object_lock_mode,
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
        object_lock_mode: str | None,
        remove_on_destroy: bool,
    ) -> SecureBucket:
        """The log file bucket: encrypted with the audit key, log files expire after
        ``retention_days`` and, where a lock mode is given, are locked until then (the day
        they expire, so expiry never meets a locked version)."""
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
            object_lock_days=None if object_lock_mode is None else retention_days,
            object_lock_mode=s3.ObjectLockMode[object_lock_mode or "GOVERNANCE"],
            remove_on_destroy=remove_on_destroy,
        )

    def _from_this_trail(self, **more: str) -> dict[str, dict[str, str]]:
        """Conditions admitting CloudTrail's calls for this trail only: the ARN CloudTrail
        sends as ``aws:SourceArn`` to S3 and KMS is the trail's own (a multi-region trail
        has one ARN, in its home region), plus ``more`` keys that must equal their value."""
        return {
            "StringEquals": {
                "aws:SourceAccount": Stack.of(self).account,
                "aws:SourceArn": self.trail_arn,
                **more,
            }
        }

    def _let_cloudtrail_use_key(self) -> None:
        """Key policy: the trail may encrypt log files (with itself named in the encryption
        context, as CloudTrail names it) and describe the key."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToEncryptLogFiles",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions=self._from_this_trail(
                    **{"kms:EncryptionContext:aws:cloudtrail:arn": self.trail_arn}
                ),
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToDescribeKey",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions=self._from_this_trail(),
            )
        )

    def _let_cloudtrail_write(self) -> None:
        """Bucket policy: the trail may check the bucket's ACL and write log files under
        ``AWSLogs/<account>/``, handing the bucket owner full control of each."""
        account = Stack.of(self).account
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailAclCheck",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:GetBucketAcl"],
                resources=[self.bucket.bucket_arn],
                conditions=self._from_this_trail(),
            )
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailWrite",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"AWSLogs/{account}/*")],
                conditions=self._from_this_trail(**{"s3:x-amz-acl": "bucket-owner-full-control"}),
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
