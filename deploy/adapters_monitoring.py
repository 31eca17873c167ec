"""Adapters for monitoring and alerting: alarms, dashboards, metric filters and log streams,
and the alerts topic's subscriptions."""

from __future__ import annotations

import json
from typing import Any

from deploy.adapters import Adapter, adapter


@adapter("AWS::CloudWatch::Alarm", "cloudwatch")
class Alarm(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        alarm = props.get("AlarmName") or name
        api.put_metric_alarm(**{**props, "AlarmName": alarm})
        return alarm, {
            "Arn": api.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["AlarmArn"]
        }

    def remove(self, api: Any) -> None:
        api.delete_alarms(AlarmNames=[self.physical_id])


@adapter("AWS::CloudWatch::Dashboard", "cloudwatch")
class Dashboard(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        dashboard = props.get("DashboardName") or name[-255:]
        api.put_dashboard(DashboardName=dashboard, DashboardBody=props["DashboardBody"])
        return dashboard, {}

    def remove(self, api: Any) -> None:
        api.delete_dashboards(DashboardNames=[self.physical_id])


@adapter("AWS::SNS::Subscription", "sns")
class Subscription(Adapter):
    """An e-mail subscription stays pending until someone confirms it, as in AWS."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        kept = ("FilterPolicy", "RawMessageDelivery", "RedrivePolicy", "DeliveryPolicy")
        attributes = {k: json.dumps(v) if isinstance(v, dict) else str(v)
                      for k, v in props.items() if k in kept}  # fmt: skip
        arn = api.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"],
                            Endpoint=props["Endpoint"], Attributes=attributes,
                            ReturnSubscriptionArn=True)["SubscriptionArn"]  # fmt: skip
        return arn, {"Arn": arn}

    def remove(self, api: Any) -> None:
        api.unsubscribe(SubscriptionArn=self.physical_id)


def _transformation(cfn: dict[str, Any]) -> dict[str, Any]:
    """A MetricTransformation in the API's camelCase; dimensions become a map."""
    api = {key[0].lower() + key[1:]: value for key, value in cfn.items() if key != "Dimensions"}
    if "Dimensions" in cfn:
        api["dimensions"] = {d["Key"]: d["Value"] for d in cfn["Dimensions"]}
    return api


@adapter("AWS::Logs::MetricFilter", "logs")
class MetricFilter(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        group, filter_name = props["LogGroupName"], props.get("FilterName") or name
        api.put_metric_filter(
            logGroupName=group,
            filterName=filter_name,
            filterPattern=props["FilterPattern"],
            metricTransformations=[_transformation(t) for t in props["MetricTransformations"]],
        )
        return filter_name, {}

    def remove(self, api: Any) -> None:
        api.delete_metric_filter(
            logGroupName=self.props["LogGroupName"], filterName=self.physical_id
        )


@adapter("AWS::Logs::LogStream", "logs")
class LogStream(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        stream = props.get("LogStreamName") or name
        api.create_log_stream(logGroupName=props["LogGroupName"], logStreamName=stream)
        return stream, {}

    def remove(self, api: Any) -> None:
        api.delete_log_stream(
            logGroupName=self.props["LogGroupName"], logStreamName=self.physical_id
        )
