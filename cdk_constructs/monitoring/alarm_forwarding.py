"""Every alarm that notifies someone also notifies an existing topic outside the blueprint.

SNS cannot subscribe one topic to another, so alerts reach an organisation's existing topic
(a security operations centre's, say) the way CloudWatch allows: an alarm has several actions.
An aspect adds the topic to every alarm of the app that has an alarm action, so no alarm, the
security alarms and those added later included, can be left out by its author.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct, IConstruct


@jsii.implements(cloudwatch.IAlarmAction)
class _TopicAction:
    """An alarm action that publishes to the topic ``arn`` (no construct made per alarm)."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def bind(self, scope: Construct, alarm: cloudwatch.IAlarm) -> cloudwatch.AlarmActionConfig:
        return cloudwatch.AlarmActionConfig(alarm_action_arn=self.arn)


@jsii.implements(cdk.IAspect)
class ForwardAlarms:
    """Adds the topic ``topic_arn`` to the alarm actions of every alarm that has some.

    :param topic_arn: an existing standard SNS topic in the alarms' account and region; its
        topic policy must let ``cloudwatch.amazonaws.com`` publish, and its key (if any) must
        let CloudWatch use it (docs/monitoring.md).
    """

    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cloudwatch.Alarm):
            return
        resource: Any = node.node.default_child
        actions = cdk.Stack.of(node).resolve(resource.alarm_actions) or []
        if actions and self.topic_arn not in actions:
            node.add_alarm_action(_TopicAction(self.topic_arn))


def forward_alarms(scope: IConstruct, topic_arn: str) -> None:
    """Forward every alarm under ``scope`` (the app) to ``topic_arn`` too."""
    cdk.Aspects.of(scope).add(ForwardAlarms(topic_arn), priority=cdk.AspectPriority.MUTATING)
