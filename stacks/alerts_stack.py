"""Alerts: the topic every pipeline failure reaches, and the rules that feed it.

Stateless apart from its subscribers; the dataset stacks and monitoring borrow the topic.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_constructs.orchestration.pipeline_alerts import PipelineAlerts
from model.config import EnvironmentConfig
from stacks.sharing import Borrowed, Lender
from stacks.storage_stack import StorageStack


class AlertsStack(Lender, cdk.Stack):
    """The pipeline alerts topic (KMS, TLS-only), its destinations (e-mail, Slack, an
    existing topic) and its EventBridge rules."""

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
        self.alerts = PipelineAlerts(
            self,
            "PipelineAlerts",
            name_prefix=config.resource_name(""),
            encryption_key=Borrowed(self).key(storage.keys.operations),
            email=config.alerts.email,
            slack=config.alerts.slack,
            forward_to=sns.Topic.from_topic_arn(self, "ForwardTopic", config.alerts.topic_arn)
            if config.alerts.topic_arn
            else None,
        )
        self.lend(self.alerts.topic, "AlertsTopic")
        self.lend(self.alerts.dead_letter_queue, "DeadLetterQueue")
        self.lend(self.alerts.glue_job_failed, "GlueJobFailedRule")
