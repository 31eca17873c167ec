"""Metric filters and alarms on the CloudTrail log group for what a security officer must hear.

The events are ``security_events.SECURITY_EVENTS``: the CIS AWS Foundations Benchmark's
monitoring controls, plus Lake Formation permission changes. Each filter counts its events;
an alarm fires on the first matching event in five minutes, either one alarm per filter or,
where the environment asks for it (``monitoring.securityAlarms: "one"``), one alarm over a
metric every filter adds to: an alarm costs 0.10 USD a month, a filter nothing while idle.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_constructs.monitoring.security_events import SECURITY_EVENTS, SecurityEvent

NAMESPACE = "DataLake/Security"
# The metric every filter adds to when the environment has one security alarm.
COMBINED_METRIC = "SecurityEvents"

__all__ = ["COMBINED_METRIC", "NAMESPACE", "SECURITY_EVENTS", "SecurityAlarms", "SecurityEvent"]


def _describe(event: SecurityEvent) -> str:
    control = f" ({event.control})" if event.control else ""
    return f"Fires when {event.meaning}{control}. What to do: {event.response}."


COMBINED_DESCRIPTION = (
    "Fires when any of the trail events a security officer must hear about happened: "
    f"{', '.join(event.metric for event in SECURITY_EVENTS)}. What to do: find which in the "
    "trail's log group (CloudWatch Logs Insights over the last 10 minutes, with the filter "
    "patterns of docs/monitoring.md), then follow that event's row there."
)


class SecurityAlarms(Construct):
    """One metric filter (namespace ``DataLake/Security``) per entry of ``SECURITY_EVENTS``
    on ``trail_log_group``, and alarms on them that tell ``topic``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        trail_log_group: logs.ILogGroup,
        topic: sns.ITopic,
        one_alarm: bool = False,
    ) -> None:
        """Create the filters and their alarms.

        :param one_alarm: every filter adds to the metric ``SecurityEvents``, and one alarm
            watches it. Default: each filter has its own metric and alarm, which names the
            event in the alert.
        """
        super().__init__(scope, id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for event in SECURITY_EVENTS:
            metric_filter = logs.MetricFilter(
                self,
                f"{event.metric}Filter",
                log_group=trail_log_group,
                filter_pattern=logs.FilterPattern.literal(event.pattern),
                metric_namespace=NAMESPACE,
                metric_name=COMBINED_METRIC if one_alarm else event.metric,
                metric_value="1",
            )
            if not one_alarm:
                self._alarm(event.metric, metric_filter.metric(), _describe(event), topic)
        if one_alarm:
            metric = cloudwatch.Metric(namespace=NAMESPACE, metric_name=COMBINED_METRIC)
            self._alarm(COMBINED_METRIC, metric, COMBINED_DESCRIPTION, topic)

    def _alarm(
        self, name: str, metric: cloudwatch.Metric, description: str, topic: sns.ITopic
    ) -> None:
        alarm = metric.with_(statistic="Sum", period=Duration.minutes(5)).create_alarm(
            self,
            f"{name}Alarm",
            alarm_description=description,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(topic))
        self.alarms[name] = alarm
