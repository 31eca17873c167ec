"""Security monitoring: metric filters on the trail's log group, and their alarms.

The filter patterns are checked by matching them against CloudTrail events, with a small
evaluator of the JSON filter syntax they use (``tests/filter_pattern.py``): each must fire on
the event it is for and stay quiet on ordinary lake traffic.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cdk_constructs.monitoring.security_alarms import NAMESPACE, SECURITY_EVENTS
from tests.conftest import built, construct_id, resources, template
from tests.filter_pattern import matches

PATTERNS = {event.metric: event.pattern for event in SECURITY_EVENTS}

# Ordinary traffic of a working lake: none of it may alarm.
QUIET = [
    {"eventSource": "s3.amazonaws.com", "eventName": "GetObject",
     "userIdentity": {"type": "AssumedRole"}, "eventType": "AwsApiCall"},
    {"eventSource": "glue.amazonaws.com", "eventName": "StartJobRun",
     "userIdentity": {"type": "AssumedRole"}, "eventType": "AwsApiCall"},
    {"eventSource": "lakeformation.amazonaws.com", "eventName": "GetDataAccess",
     "userIdentity": {"type": "AssumedRole"}, "eventType": "AwsApiCall"},
    {"eventSource": "kms.amazonaws.com", "eventName": "Decrypt",
     "userIdentity": {"type": "AWSService", "invokedBy": "s3.amazonaws.com"},
     "eventType": "AwsApiCall"},
    {"eventSource": "cloudtrail.amazonaws.com", "eventName": "LookupEvents",
     "userIdentity": {"type": "AssumedRole"}, "eventType": "AwsApiCall"},
]  # fmt: skip

LOUD: dict[str, list[dict[str, Any]]] = {
    "UnauthorizedApiCalls": [
        {"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "errorCode": "AccessDenied"},
        {"eventSource": "ec2.amazonaws.com", "errorCode": "Client.UnauthorizedOperation"},
    ],
    "RootAccountUse": [
        {"userIdentity": {"type": "Root"}, "eventType": "AwsConsoleSignIn",
         "eventName": "ConsoleLogin"},
    ],
    "BucketPolicyChanges": [
        {"eventSource": "s3.amazonaws.com", "eventName": name}
        for name in ("PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl",
                     "DeleteBucketPublicAccessBlock")
    ],
    "KeyDisabledOrScheduledForDeletion": [
        {"eventSource": "kms.amazonaws.com", "eventName": "ScheduleKeyDeletion"},
        {"eventSource": "kms.amazonaws.com", "eventName": "DisableKey"},
    ],
    "LakeFormationPermissionChanges": [
        {"eventSource": "lakeformation.amazonaws.com", "eventName": name}
        for name in ("GrantPermissions", "BatchRevokePermissions", "PutDataLakeSettings",
                     "AddLFTagsToResource", "DeregisterResource")
    ],
    "TrailChanges": [
        {"eventSource": "cloudtrail.amazonaws.com", "eventName": name}
        for name in ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors")
    ],
}  # fmt: skip


def test_every_security_event_has_cases() -> None:
    assert set(LOUD) == set(PATTERNS)


@pytest.mark.parametrize("metric", list(PATTERNS))
def test_each_filter_fires_on_its_event_and_not_on_lake_traffic(metric: str) -> None:
    for event in LOUD[metric]:
        assert matches(PATTERNS[metric], event), (metric, event)
    for event in QUIET:
        assert not matches(PATTERNS[metric], event), (metric, event)
    # Root use by an AWS service on the root's behalf is not a person at the root account.
    if metric == "RootAccountUse":
        service = {"userIdentity": {"type": "Root", "invokedBy": "support.amazonaws.com"},
                   "eventType": "AwsApiCall"}  # fmt: skip
        assert not matches(PATTERNS[metric], service)


def test_filters_count_matching_trail_events(env: str) -> None:
    tmpl = template(env, "Monitoring")
    filters = resources(tmpl, "AWS::Logs::MetricFilter")
    assert len(filters) == len(SECURITY_EVENTS)
    for metric_filter in filters.values():
        props = metric_filter["Properties"]
        reference = props["LogGroupName"]["Fn::GetStackOutput"]
        assert reference["StackName"] == built(env).audit.stack_name
        assert reference["OutputName"] == "TrailLogGroupName"
        (transformation,) = props["MetricTransformations"]
        assert transformation["MetricNamespace"] == NAMESPACE
        assert transformation["MetricValue"] == "1"
        assert props["FilterPattern"] == PATTERNS[transformation["MetricName"]]


def test_each_alarm_fires_on_the_first_event_and_tells_the_alerts_topic(env: str) -> None:
    tmpl = template(env, "Monitoring")
    alarms = {construct_id(lid): a["Properties"]
              for lid, a in resources(tmpl, "AWS::CloudWatch::Alarm").items()
              if lid.startswith("Security")}  # fmt: skip
    assert set(alarms) == {f"Security{metric}Alarm" for metric in PATTERNS}
    for name, alarm in alarms.items():
        assert alarm["Namespace"] == NAMESPACE
        assert f"Security{alarm['MetricName']}Alarm" == name
        assert alarm["Statistic"] == "Sum"
        assert alarm["Period"] == 300
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["EvaluationPeriods"] == 1
        assert alarm["TreatMissingData"] == "notBreaching"
        # Prod (CI's overlay) forwards to an existing topic too: test_alert_destinations.py.
        action, *forwarded = alarm["AlarmActions"]
        assert action["Fn::GetStackOutput"]["OutputName"] == "AlertsTopicArn"
        assert forwarded == [t for t in [built(env).config.alerts.topic_arn] if t]
        assert "What to do:" in alarm["AlarmDescription"]


def alarms(env: str, stack_id: str) -> dict[str, dict[str, Any]]:
    """Alarms of a stack by name (security alarms, unnamed, by their metric)."""
    found = {}
    for alarm in resources(template(env, stack_id), "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        found[props.get("AlarmName") or props["MetricName"]] = props
    return found


def watched(alarm: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(namespace, metric, dimensions) an alarm watches."""
    if "MetricName" in alarm:
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        return alarm["Namespace"], alarm["MetricName"], dims
    (query,) = alarm["Metrics"]
    metric = query["MetricStat"]["Metric"]
    dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
    return metric["Namespace"], metric["MetricName"], dims


def test_every_alarm_tells_the_alerts_topic_what_happened_and_what_to_do(env: str) -> None:
    stacks = ["Monitoring", *(f"Dataset-{n}" for n in built(env).dataset_stacks)]
    for stack_id in stacks:
        for name, alarm in alarms(env, stack_id).items():
            action, *forwarded = alarm["AlarmActions"]
            assert action["Fn::GetStackOutput"]["OutputName"] == "AlertsTopicArn", name
            assert forwarded == [t for t in [built(env).config.alerts.topic_arn] if t], name
            assert alarm["AlarmDescription"].startswith("Fires when "), name
            assert "What to do: " in alarm["AlarmDescription"], name


def test_shared_parts_alarm_on_the_first_failure(env: str) -> None:
    found = alarms(env, "Monitoring")
    prefix = f"datalake-{env}"
    expected = {
        f"{prefix}-ingest-Fault-Count-Critical": ("AWS/Lambda", "Errors", 0),
        f"{prefix}-ingest-Throttled-Count-Critical": ("AWS/Lambda", "Throttles", 0),
        f"{prefix}-ingest-dlq-Queue-Message-Count-Max-Critical":
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", 0),
        f"{prefix}-alerts-dlq-Queue-Message-Count-Max-Critical":
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", 0),
        f"{prefix}-glue-failed-runs-Critical": ("AWS/Events", "TriggeredRules", 1),
    }  # fmt: skip
    operational = {n: a for n, a in found.items() if n.startswith(prefix)}
    assert set(operational) == set(expected)
    for name, (namespace, metric, threshold) in expected.items():
        alarm = operational[name]
        assert watched(alarm)[:2] == (namespace, metric), name
        assert alarm["Threshold"] == threshold, name
        assert alarm["EvaluationPeriods"] == 1, name
    rule = watched(operational[f"{prefix}-glue-failed-runs-Critical"])[2]["RuleName"]
    assert rule["Fn::GetStackOutput"]["OutputName"] == "GlueJobFailedRuleName"
    assert operational[f"{prefix}-glue-failed-runs-Critical"]["ComparisonOperator"] == (
        "GreaterThanOrEqualToThreshold"
    )


@pytest.mark.parametrize("dataset", list(built("sandbox").dataset_stacks))
def test_each_dataset_alarms_on_its_pipeline_trigger_stream_and_freshness(
    env: str, dataset: str
) -> None:
    stack = built(env).dataset_stacks[dataset]
    prefix = f"datalake-{env}-{dataset}"
    found = alarms(env, f"Dataset-{dataset}")
    expected = {
        f"{prefix}-pipeline-Failure-Count-Critical": ("AWS/States", "ExecutionsFailed"),
        f"{prefix}-pipeline-TimedOut-Count-Critical": ("AWS/States", "ExecutionsTimedOut"),
        f"{prefix}-trigger-dlq-Queue-Message-Count-Max-Critical":
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    }  # fmt: skip
    # Fresh data is what a running schedule promises: no freshness alarm where they are off.
    schedules = built(env).config.processing.schedules_enabled
    if schedules:
        expected[f"{prefix}-data-freshness-Critical"] = ("DataLake/Processing", "RowsWritten")
    if stack.dataset.source.mode == "streaming":
        expected[f"{prefix}-data-delivery-Critical"] = ("AWS/Firehose", "DeliveryToS3.Success")
    assert {n: watched(a)[:2] for n, a in found.items()} == expected
    if schedules:
        freshness = found[f"{prefix}-data-freshness-Critical"]
        hours = stack.dataset.fresh_within_hours
        assert watched(freshness)[2] == {"Dataset": dataset}
        assert (freshness["Period"], freshness["Statistic"]) == (3600, "Sum")
        assert freshness["EvaluationPeriods"] == freshness["DatapointsToAlarm"] == hours
        assert (freshness["Threshold"], freshness["ComparisonOperator"]) == (1, "LessThanThreshold")
        assert freshness["TreatMissingData"] == "breaching"  # no run, no rows: late
    for kind in ("Failure", "TimedOut"):
        alarm = found[f"{prefix}-pipeline-{kind}-Count-Critical"]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        machines = resources(
            template(env, f"Dataset-{dataset}"), "AWS::StepFunctions::StateMachine"
        )
        assert watched(alarm)[2]["StateMachineArn"] == {"Ref": next(iter(machines))}


def test_the_dashboard_is_made_where_the_environment_asks_for_it(env: str) -> None:
    dashboards = resources(template(env, "Monitoring"), "AWS::CloudWatch::Dashboard")
    assert len(dashboards) == (1 if built(env).config.monitoring.dashboard else 0)
    # Without it the alarms are the same: the dashboard only shows them.
    counts = {
        stack.node.id: len(resources(template(stack_env, stack.node.id), "AWS::CloudWatch::Alarm"))
        for stack_env in ("sandbox", "prod")
        for stack in [built(stack_env).monitoring]
    }
    assert len(set(counts.values())) == 1


def test_one_dashboard_shows_every_part() -> None:
    env = "prod"  # the sandbox leaves it out (monitoring.dashboard): 3 USD a month
    (dashboard,) = resources(template(env, "Monitoring"), "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"datalake-{env}-lake"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for shown in (
        "IngestFunctionName",  # the ingest function (through the ingest stack's output)
        "ApproximateNumberOfMessagesVisible",  # the dead-letter queues
        "TriggeredRules",  # failed job runs
        "Security alarms",
    ):
        assert shown in body, shown
    # Every dataset's pipelines, jobs, rows and streams, and every workgroup, by search:
    # the dimensions in the schema, no value pinned (search has no wildcard for values).
    searches = {
        " ".join(re.sub(r'[\\"]', "", found).split())
        for found in re.findall(r"SEARCH\('(.*?)', '", body)
    }
    assert searches == {
        f"{{AWS/States,StateMachineArn}} MetricName=Executions{what} datalake-{env}"
        for what in ("Succeeded", "Failed", "TimedOut")
    } | {
        f"{{Glue,JobName,JobRunId,Type}} MetricName=glue.driver.aggregate.numCompletedTasks "
        f"datalake-{env}",
        "{DataLake/Processing,Dataset} MetricName=RowsWritten",
        "{DataLake/Processing,Dataset} MetricName=RowsQuarantined",
        f"{{AWS/Firehose,DeliveryStreamName}} MetricName=DeliveryToS3.Records datalake-{env}",
        f"{{AWS/Firehose,DeliveryStreamName}} MetricName=DeliveryToS3.DataFreshness datalake-{env}",
        f"{{AWS/Athena,QueryState,QueryType,WorkGroup}} MetricName=ProcessedBytes datalake-{env}",
        f"{{AWS/Athena,QueryState,QueryType,WorkGroup}} MetricName=TotalExecutionTime "
        f"datalake-{env}",
    }


def test_this_accounts_alarms_may_publish_to_the_alerts_topic(env: str) -> None:
    """The topic's policy replaces SNS's default one: without this statement no alarm
    could notify anyone."""
    policy = next(iter(resources(template(env, "Alerts"), "AWS::SNS::TopicPolicy").values()))
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"
                and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]  # fmt: skip
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = json.dumps(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    assert ":cloudwatch:" in source
    assert ":alarm:*" in source
