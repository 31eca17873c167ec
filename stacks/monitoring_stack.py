"""Monitoring: what the operators and the security officer are told, and what they can see.

Stateless. It reads the trail's log group and the alerts topic through their stacks'
outputs, and sends every alarm to the alerts topic.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from blueprint.config import EnvironmentConfig
from cdk_constructs.security_alarms import SecurityAlarms
from stacks.alerts_stack import AlertsStack
from stacks.audit_stack import AuditStack
from stacks.outputs import stack_output


class MonitoringStack(cdk.Stack):
    """Security metric filters and alarms on the CloudTrail log group."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        audit: AuditStack,
        alerts: AlertsStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        for stack in (audit, alerts):
            self.add_dependency(stack)
        topic = sns.Topic.from_topic_arn(self, "Alerts", alerts.shared("AlertsTopicArn"))
        self.security = SecurityAlarms(
            self,
            "Security",
            trail_log_group=logs.LogGroup.from_log_group_name(
                self, "TrailLogGroup", stack_output(audit, "TrailLogGroupName")
            ),
            topic=topic,
        )
