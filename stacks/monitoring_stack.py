"""Monitoring: what the operators and the security officer are told, and what they can see.

Stateless. It reads the trail's log group and the alerts topic through their stacks'
outputs, and sends every alarm to the alerts topic.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.monitoring.lake_dashboard import LakeDashboard
from cdk_constructs.monitoring.security_alarms import SecurityAlarms
from model.config import EnvironmentConfig
from stacks.alerts_stack import AlertsStack
from stacks.audit_stack import AuditStack
from stacks.ingest_stack import IngestStack
from stacks.outputs import stack_output


class MonitoringStack(cdk.Stack):
    """The environment's dashboard, the alarms on what every dataset shares, and security
    metric filters and alarms on the CloudTrail log group."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: EnvironmentConfig,
        audit: AuditStack,
        alerts: AlertsStack,
        ingest: IngestStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        for stack in (audit, alerts, ingest):
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
        self.dashboard = LakeDashboard(
            self,
            "Operations",
            prefix=config.resource_name(""),
            topic=topic,
            ingest_function=lambda_.Function.from_function_name(
                self, "IngestFunction", stack_output(ingest, "IngestFunctionName")
            ),
            dead_letter_queues={
                "ingest": self._queue("IngestDeadLetterQueue", ingest),
                "alerts": self._queue("AlertsDeadLetterQueue", alerts),
            },
            glue_job_failed_rule=stack_output(alerts, "GlueJobFailedRuleName"),
            security_alarms=list(self.security.alarms.values()),
            dashboard=config.monitoring.dashboard,
        )

    def _queue(self, id: str, owner: cdk.Stack) -> sqs.IQueue:
        """A dead-letter queue of ``owner``, by its outputs (name and URL given, not parsed
        from the ARN: cfn-lint cannot follow a split of a cross-stack value)."""
        return sqs.Queue.from_queue_attributes(
            self,
            id,
            queue_arn=stack_output(owner, "DeadLetterQueueArn"),
            queue_name=stack_output(owner, "DeadLetterQueueName"),
            queue_url=stack_output(owner, "DeadLetterQueueUrl"),
        )
