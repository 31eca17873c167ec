"""A customer managed KMS key with rotation, kept unless the environment says otherwise."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_constructs.common.removal import data_removal_policy, warn_data_removal


class EncryptionKey(kms.Key):
    """A symmetric KMS key with yearly automatic rotation.

    The key policy starts as CDK's default (the account's IAM policies decide who may use
    it); services that need it are added by whoever creates the key.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        description: str,
        remove_on_destroy: bool = False,
    ) -> None:
        """Create the key.

        :param description: what the key protects, shown in the KMS console.
        :param remove_on_destroy: schedule the key for deletion (after 7 days) with the stack.
            Default: the key is retained, so data it encrypted stays readable.
        """
        super().__init__(
            scope,
            id,
            description=description,
            enable_key_rotation=True,
            removal_policy=data_removal_policy(remove_on_destroy),
            pending_window=cdk.Duration.days(7 if remove_on_destroy else 30),
        )
        warn_data_removal(
            self,
            remove_on_destroy,
            "this key (after its pending window) and so the means to read what it encrypted",
        )

    def allow_cloudwatch_logs(self) -> None:
        """Let CloudWatch Logs encrypt log groups of this account and region with the key.

        Logs calls KMS itself, as the regional service principal, with the log group's ARN as
        encryption context; the condition limits it to this account's log groups.
        """
        stack = cdk.Stack.of(self)
        log_groups = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
        self.add_to_resource_policy(
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
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            )
        )

    def allow_service(self, service: str, *actions: str) -> None:
        """Let an AWS service of this account use the key for its own calls (for example
        EventBridge writing to an encrypted dead-letter queue)."""
        stack = cdk.Stack.of(self)
        self.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"Allow{service.split('.')[0].capitalize()}ToUseKey",
                principals=[iam.ServicePrincipal(service)],
                actions=list(actions),
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
