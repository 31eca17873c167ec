"""Security monitoring: metric filters on the trail's log group, and their alarms.

The filter patterns are checked by matching them against CloudTrail events, with a small
evaluator of the JSON filter syntax they use (``tests/filter_pattern.py``): each must fire on
the event it is for and stay quiet on ordinary lake traffic.
"""

from __future__ import annotations

from typing import Any

import pytest

from cdk_constructs.security_alarms import NAMESPACE, SECURITY_EVENTS
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
              for lid, a in resources(tmpl, "AWS::CloudWatch::Alarm").items()}  # fmt: skip
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
        (action,) = alarm["AlarmActions"]
        assert action["Fn::GetStackOutput"]["OutputName"] == "AlertsTopicArn"
        assert "What to do:" in alarm["AlarmDescription"]
