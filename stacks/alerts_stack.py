"""Alerts: the topic every pipeline failure reaches, and the rules that feed it.

Stateless apart from its subscribers; the dataset stacks publish to the topic and read its
ARN through this stack's output.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_constructs.orchestration.pipeline_alerts import PipelineAlerts
from model.config import EnvironmentConfig
from stacks.outputs import SharedOutputs
from stacks.storage_stack import StorageStack


class AlertsStack(SharedOutputs, cdk.Stack):
    """The pipeline alerts topic (KMS, TLS-only, optional e-mail) and its EventBridge rules."""

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
        self.add_dependency(storage)
        self.alerts = PipelineAlerts(
            self,
            "PipelineAlerts",
            name_prefix=config.resource_name(""),
            encryption_key=kms.Key.from_key_arn(self, "DataKey", storage.shared("DataKeyArn")),
            email=config.alert_email,
        )
        cdk.CfnOutput(self, "AlertsTopicArn", value=self.alerts.topic.topic_arn)
        queue = self.alerts.dead_letter_queue
        cdk.CfnOutput(self, "DeadLetterQueueArn", value=queue.queue_arn)
        cdk.CfnOutput(self, "DeadLetterQueueName", value=queue.queue_name)
        cdk.CfnOutput(self, "DeadLetterQueueUrl", value=queue.queue_url)
        cdk.CfnOutput(self, "GlueJobFailedRuleName", value=self.alerts.glue_job_failed.rule_name)
