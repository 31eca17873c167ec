"""Audit: the CloudTrail trail over the account and the lake's objects.

Its keys and bucket live in the storage stack, so this stack only refers to them (one-way
references, from this stack to the stateful one).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.governance.audit_trail import AuditTrail
from model.config import EnvironmentConfig


class AuditStack(cdk.Stack):
    """The trail, its CloudWatch log group and the role CloudTrail writes to it with."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        audit_logs_bucket: s3.IBucket,
        audit_key: kms.IKey,
        lake_buckets: Sequence[s3.IBucket],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.audit_trail = AuditTrail(
            self,
            "AuditTrail",
            bucket=audit_logs_bucket,
            encryption_key=audit_key,
            data_event_buckets=lake_buckets,
            log_retention_days=config.retention.log_group_days,
            remove_on_destroy=config.remove_data_on_destroy,
        )
        cdk.CfnOutput(self, "TrailArn", value=self.audit_trail.trail_arn)
        cdk.CfnOutput(self, "TrailLogGroupName", value=self.audit_trail.log_group.log_group_name)
