"""Where CloudTrail writes: a key and a bucket that only the audit services may write with."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.encryption_key import EncryptionKey
from cdk_constructs.secure_bucket import SecureBucket


class AuditLogStore(Construct):
    """The audit key and the bucket that holds CloudTrail log files.

    The audit key is separate from the lake's data key: anyone who may read lake data may not
    read, or quietly rewrite, the record of what they did. Its key policy lets CloudTrail and
    CloudWatch Logs of this account use it; the bucket policy lets CloudTrail of this account
    write log files. Trails and log groups are matched by pattern, not ARN, so the trail can
    live in a stack of its own without the two stacks depending on each other.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        access_logs_bucket: s3.IBucket,
        lifecycle_rule: s3.LifecycleRule,
        remove_on_destroy: bool = False,
    ) -> None:
        """Create the key and the bucket.

        :param access_logs_bucket: where the bucket's S3 server access logs go.
        :param lifecycle_rule: expiry (the audit retention) and tiering of log files.
        :param remove_on_destroy: delete key and logs with the stack. Default: retained.
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
            lifecycle_rules=[lifecycle_rule],
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
        logs_arns = f"arn:{stack.partition}:logs:{stack.region}:{account}:log-group:*"
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsToUseKey",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": logs_arns}},
            )
        )
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
