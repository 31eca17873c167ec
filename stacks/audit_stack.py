"""Audit: the CloudTrail trail over the account and the lake's objects.

Its keys and bucket live in the storage stack, so this stack borrows them (one-way
references, from this stack to the stateful one).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_constructs.governance.audit_trail import AuditTrail
from model.config import EnvironmentConfig
from stacks.sharing import Borrowed, Lender
from stacks.storage_stack import StorageStack


class AuditStack(Lender, cdk.Stack):
    """The trail, its CloudWatch log group and the role CloudTrail writes to it with."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        storage: StorageStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        borrowed = Borrowed(self)
        self.audit_trail = AuditTrail(
            self,
            "AuditTrail",
            # The name the audit bucket's and key's policies admit, and no other.
            trail_name=storage.audit_logs.trail_name,
            bucket=borrowed.bucket(storage.audit_logs.bucket),
            encryption_key=borrowed.key(storage.audit_logs.key),
            data_event_buckets=[borrowed.bucket(b) for b in storage.lake_buckets],
            log_retention_days=config.retention.log_group_days,
            remove_on_destroy=config.remove_data_on_destroy,
        )
        self.lend(self.audit_trail.trail, "Trail")
        self.lend(self.audit_trail.log_group, "TrailLogGroup")
