"""Metric filters and alarms on the CloudTrail log group for what a security officer must hear.

The patterns follow the CIS AWS Foundations Benchmark's monitoring controls (CloudWatch.1 to
.14), narrowed to this blueprint's concerns, plus Lake Formation permission changes, which
decide who reads the lake. Each alarm fires on the first matching event in five minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

NAMESPACE = "DataLake/Security"


def _any_event(source: str, *names: str) -> str:
    calls = " || ".join(f"($.eventName = {name})" for name in names)
    return f"{{ ($.eventSource = {source}) && ({calls}) }}"


BUCKET_CONTROL_CALLS = (
    "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
    "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle",
    "DeleteBucketReplication", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock",
)  # fmt: skip
LAKE_FORMATION_CONTROL_CALLS = (
    "GrantPermissions", "RevokePermissions", "BatchGrantPermissions", "BatchRevokePermissions",
    "PutDataLakeSettings", "CreateLFTag", "UpdateLFTag", "DeleteLFTag", "AddLFTagsToResource",
    "RemoveLFTagsFromResource", "RegisterResource", "DeregisterResource",
)  # fmt: skip


@dataclass(frozen=True)
class SecurityEvent:
    metric: str
    pattern: str
    meaning: str
    response: str


SECURITY_EVENTS = (
    SecurityEvent(
        "UnauthorizedApiCalls",
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
        "an API call was refused for lack of permission",
        "find the caller in the trail; a person probing, or a role missing a grant",
    ),
    SecurityEvent(
        "RootAccountUse",
        '{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) '
        '&& ($.eventType != "AwsServiceEvent") }',
        "the account's root user did something",
        "confirm who holds the root credentials and why they were used",
    ),
    SecurityEvent(
        "BucketPolicyChanges",
        _any_event("s3.amazonaws.com", *BUCKET_CONTROL_CALLS),
        "a bucket's policy, ACL, public access block, CORS, lifecycle or replication changed",
        "compare with the deployed template (CloudFormation drift detection)",
    ),
    SecurityEvent(
        "KeyDisabledOrScheduledForDeletion",
        _any_event("kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"),
        "a KMS key was disabled or scheduled for deletion",
        "if unplanned, cancel the deletion (CancelKeyDeletion) or enable the key at once: "
        "data under it becomes unreadable",
    ),
    SecurityEvent(
        "LakeFormationPermissionChanges",
        _any_event("lakeformation.amazonaws.com", *LAKE_FORMATION_CONTROL_CALLS),
        "a Lake Formation grant, setting, tag or registered location changed",
        "check the change against the governance stack; who may read what just changed",
    ),
    SecurityEvent(
        "TrailChanges",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
        "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
        "($.eventName = StopLogging) || ($.eventName = PutEventSelectors) }",
        "a CloudTrail trail was created, changed, stopped or deleted",
        "make sure the lake's trail still logs (GetTrailStatus); stopped logging hides "
        "everything after it",
    ),
)


class SecurityAlarms(Construct):
    """One metric filter (namespace ``DataLake/Security``) and one alarm per entry of
    ``SECURITY_EVENTS`` on ``trail_log_group``, alarming to ``topic``."""

    def __init__(
        self, scope: Construct, id: str, *, trail_log_group: logs.ILogGroup, topic: sns.ITopic
    ) -> None:
        super().__init__(scope, id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for event in SECURITY_EVENTS:
            metric_filter = logs.MetricFilter(
                self,
                f"{event.metric}Filter",
                log_group=trail_log_group,
                filter_pattern=logs.FilterPattern.literal(event.pattern),
                metric_namespace=NAMESPACE,
                metric_name=event.metric,
                metric_value="1",
            )
            alarm = metric_filter.metric(statistic="Sum", period=Duration.minutes(5)).create_alarm(
                self,
                f"{event.metric}Alarm",
                alarm_description=f"Fires when {event.meaning}. What to do: {event.response}.",
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(topic))
            self.alarms[event.metric] = alarm
