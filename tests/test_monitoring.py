"""Security monitoring: metric filters on the trail's log group, and their alarms.

The filter patterns are checked by matching them against CloudTrail events, with a small
evaluator of the JSON filter syntax they use (``tests/filter_pattern.py``): each must fire on
the event it is for and stay quiet on ordinary lake traffic.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from aws_cdk import assertions

from blueprint.factory import cdk_json_context
from cdk_constructs.monitoring.security_alarms import (
    COMBINED_DESCRIPTION,
    COMBINED_METRIC,
    NAMESPACE,
    SECURITY_EVENTS,
)
from model.config import ConfigError
from model.environments import load_config
from tests.conftest import built, construct_id, make_blueprint, resources, template
from tests.filter_pattern import matches

PATTERNS = {event.metric: event.pattern for event in SECURITY_EVENTS}


def _call(source: str, name: str, **more: Any) -> dict[str, Any]:
    """A CloudTrail record of an API call by a role, as it reaches the trail's log group."""
    return {"eventSource": f"{source}.amazonaws.com", "eventName": name,
            "eventType": "AwsApiCall", "userIdentity": {"type": "AssumedRole"}, **more}  # fmt: skip


def _sign_in(kind: str, outcome: str, mfa: str, **more: Any) -> dict[str, Any]:
    """A console sign-in record (outcome Success or Failure)."""
    record = {"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
              "eventType": "AwsConsoleSignIn", "userIdentity": {"type": kind},
              "responseElements": {"ConsoleLogin": outcome},
              "additionalEventData": {"MFAUsed": mfa}, **more}  # fmt: skip
    return record


# Ordinary traffic of a working lake: none of it may alarm.
QUIET = [
    _call("s3", "GetObject"),
    _call("glue", "StartJobRun"),
    _call("lakeformation", "GetDataAccess"),
    {"eventSource": "kms.amazonaws.com", "eventName": "Decrypt",
     "userIdentity": {"type": "AWSService", "invokedBy": "s3.amazonaws.com"},
     "eventType": "AwsApiCall"},
    _call("cloudtrail", "LookupEvents"),
    _call("sts", "AssumeRole"),
    _call("athena", "StartQueryExecution"),
]  # fmt: skip

# Each filter's events: what it must catch, and a near miss it must not.
LOUD: dict[str, list[dict[str, Any]]] = {
    "UnauthorizedApiCalls": [
        _call("s3", "GetObject", errorCode="AccessDenied"),
        _call("ec2", "RunInstances", errorCode="Client.UnauthorizedOperation"),
    ],
    "ConsoleSignInWithoutMfa": [_sign_in("IAMUser", "Success", "No")],
    "RootAccountUse": [
        {"userIdentity": {"type": "Root"}, "eventType": "AwsConsoleSignIn",
         "eventName": "ConsoleLogin"},
        {"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall",
         "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey"},
    ],
    "IamPolicyChanges": [_call("iam", name) for name in (
        "PutRolePolicy", "AttachRolePolicy", "CreatePolicyVersion", "DeleteUserPolicy",
        "UpdateAssumeRolePolicy", "DeleteRolePermissionsBoundary")],
    "TrailChanges": [_call("cloudtrail", name) for name in (
        "StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors")],
    "ConsoleAuthenticationFailures": [
        {**_sign_in("IAMUser", "Failure", "No"), "errorMessage": "Failed authentication"},
    ],
    "KeyDisabledOrScheduledForDeletion": [
        _call("kms", "ScheduleKeyDeletion"), _call("kms", "DisableKey")],
    "BucketPolicyChanges": [_call("s3", name) for name in (
        "PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl",
        "DeleteBucketPublicAccessBlock")],
    "ConfigChanges": [_call("config", name) for name in (
        "StopConfigurationRecorder", "DeleteDeliveryChannel")],
    "SecurityGroupChanges": [_call("ec2", name) for name in (
        "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupEgress", "DeleteSecurityGroup")],
    "NetworkAclChanges": [_call("ec2", name) for name in (
        "CreateNetworkAclEntry", "ReplaceNetworkAclAssociation")],
    "NetworkGatewayChanges": [_call("ec2", name) for name in (
        "AttachInternetGateway", "CreateCustomerGateway")],
    "RouteTableChanges": [_call("ec2", name) for name in ("CreateRoute", "DisassociateRouteTable")],
    "VpcChanges": [_call("ec2", name) for name in (
        "CreateVpcPeeringConnection", "ModifyVpcAttribute")],
    "OrganizationsChanges": [_call("organizations", name) for name in (
        "LeaveOrganization", "DetachPolicy", "InviteAccountToOrganization")],
    "LakeFormationPermissionChanges": [_call("lakeformation", name) for name in (
        "GrantPermissions", "BatchRevokePermissions", "PutDataLakeSettings",
        "AddLFTagsToResource", "DeregisterResource")],
}  # fmt: skip
NEAR_MISSES: dict[str, list[dict[str, Any]]] = {
    # Refusals are errors of another kind: a throttled call, a missing object.
    "UnauthorizedApiCalls": [_call("s3", "GetObject", errorCode="NoSuchKey"),
                             _call("glue", "GetTable", errorCode="ThrottlingException")],
    # With MFA; a federated (single sign-on) session; a failed attempt (4.6 counts those).
    "ConsoleSignInWithoutMfa": [_sign_in("IAMUser", "Success", "Yes"),
                                _sign_in("AssumedRole", "Success", "No"),
                                _sign_in("IAMUser", "Failure", "No")],
    # An AWS service acting for the root user, and an event of AWS's own, are not a person.
    "RootAccountUse": [
        {"userIdentity": {"type": "Root", "invokedBy": "support.amazonaws.com"},
         "eventType": "AwsApiCall"},
        {"userIdentity": {"type": "Root"}, "eventType": "AwsServiceEvent"},
    ],
    "IamPolicyChanges": [_call("iam", "GetRolePolicy"), _call("iam", "ListAttachedRolePolicies"),
                         _call("iam", "CreateRole")],
    "TrailChanges": [_call("cloudtrail", "GetTrailStatus"), _call("cloudtrail", "DescribeTrails")],
    "ConsoleAuthenticationFailures": [_sign_in("IAMUser", "Success", "Yes")],
    "KeyDisabledOrScheduledForDeletion": [_call("kms", "EnableKey"),
                                          _call("kms", "CancelKeyDeletion")],
    "BucketPolicyChanges": [_call("s3", "GetBucketPolicy"),
                            _call("s3control", "PutBucketPolicy")],
    "ConfigChanges": [_call("config", "DescribeConfigurationRecorderStatus"),
                      _call("config", "StartConfigurationRecorder")],
    "SecurityGroupChanges": [_call("ec2", "DescribeSecurityGroups")],
    "NetworkAclChanges": [_call("ec2", "DescribeNetworkAcls")],
    "NetworkGatewayChanges": [_call("ec2", "DescribeInternetGateways")],
    "RouteTableChanges": [_call("ec2", "DescribeRouteTables")],
    "VpcChanges": [_call("ec2", "DescribeVpcs")],
    # IAM's CreatePolicy is 4.4's; Organizations' reads change nothing.
    "OrganizationsChanges": [_call("iam", "CreatePolicy"),
                             _call("organizations", "ListAccounts")],
    "LakeFormationPermissionChanges": [_call("lakeformation", "ListPermissions"),
                                       _call("lakeformation", "GetDataLakeSettings")],
}  # fmt: skip

# The benchmark's own patterns (CIS AWS Foundations Benchmark v1.4 to v3.0, section 4), as it
# prints them; 4.2 in the variant it gives for accounts signed into through single sign-on.
BENCHMARK = {
    "CIS 4.1": '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
    "CIS 4.2": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
               '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = '
               '"Success") }',
    "CIS 4.3": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
               '$.eventType != "AwsServiceEvent" }',
    "CIS 4.4": "{ ($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||"
               "($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||"
               "($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||"
               "($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||"
               "($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||"
               "($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
               "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||"
               "($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy) }",
    "CIS 4.5": "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || "
               "($.eventName = DeleteTrail) || ($.eventName = StartLogging) || "
               "($.eventName = StopLogging) }",
    "CIS 4.6": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    "CIS 4.7": "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || "
               "($.eventName = ScheduleKeyDeletion)) }",
    "CIS 4.8": "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || "
               "($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || "
               "($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || "
               "($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || "
               "($.eventName = DeleteBucketLifecycle) || "
               "($.eventName = DeleteBucketReplication)) }",
    "CIS 4.9": "{ ($.eventSource = config.amazonaws.com) && "
               "(($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||"
               "($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    "CIS 4.10": "{ ($.eventName = AuthorizeSecurityGroupIngress) || "
                "($.eventName = AuthorizeSecurityGroupEgress) || "
                "($.eventName = RevokeSecurityGroupIngress) || "
                "($.eventName = RevokeSecurityGroupEgress) || "
                "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    "CIS 4.11": "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
                "($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || "
                "($.eventName = ReplaceNetworkAclEntry) || "
                "($.eventName = ReplaceNetworkAclAssociation) }",
    "CIS 4.12": "{ ($.eventName = CreateCustomerGateway) || "
                "($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || "
                "($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || "
                "($.eventName = DetachInternetGateway) }",
    "CIS 4.13": "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || "
                "($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || "
                "($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || "
                "($.eventName = DisassociateRouteTable) }",
    "CIS 4.14": "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || "
                "($.eventName = ModifyVpcAttribute) || "
                "($.eventName = AcceptVpcPeeringConnection) || "
                "($.eventName = CreateVpcPeeringConnection) || "
                "($.eventName = DeleteVpcPeeringConnection) || "
                "($.eventName = RejectVpcPeeringConnection) || "
                "($.eventName = AttachClassicLinkVpc) || "
                "($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || "
                "($.eventName = EnableVpcClassicLink) }",
    "CIS 4.15": '{ ($.eventSource = organizations.amazonaws.com) && '
                '(($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || '
                '($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || '
                '($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || '
                '($.eventName = "DeleteOrganization") || '
                '($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || '
                '($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || '
                '($.eventName = "EnablePolicyType") || '
                '($.eventName = "InviteAccountToOrganization") || '
                '($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || '
                '($.eventName = "RemoveAccountFromOrganization") || '
                '($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }',
}  # fmt: skip
# Security Hub checks CIS 4.1 to 4.14 as these controls (CloudWatch.1 is the root user's).
SECURITY_HUB = {"CIS 4.1": 2, "CIS 4.2": 3, "CIS 4.3": 1, **{f"CIS 4.{n}": n for n in range(4, 15)}}


def _benchmark_control(control: str | None) -> str:
    return (control or "").partition(",")[0]


def test_every_security_event_has_cases() -> None:
    assert set(LOUD) == set(NEAR_MISSES) == set(PATTERNS)


def test_the_filters_are_the_benchmarks_monitoring_section_and_the_lakes_own() -> None:
    controls = [event.control for event in SECURITY_EVENTS]
    assert len(set(controls)) == len(controls)
    assert {_benchmark_control(c) for c in controls if c} == set(BENCHMARK)
    for event in SECURITY_EVENTS:
        cis = _benchmark_control(event.control)
        hub = f"CloudWatch.{SECURITY_HUB[cis]}" if cis in SECURITY_HUB else None
        assert event.control == (", ".join(filter(None, (cis, hub))) or None), event.metric
    own = [event.metric for event in SECURITY_EVENTS if event.control is None]
    assert own == ["LakeFormationPermissionChanges"]
    # CloudWatch Logs refuses a filter pattern longer than 1,024 characters.
    assert all(len(event.pattern) <= 1024 for event in SECURITY_EVENTS)


@pytest.mark.parametrize("metric", list(PATTERNS))
def test_each_filter_fires_on_its_events_and_not_on_near_misses_or_lake_traffic(
    metric: str,
) -> None:
    for event in LOUD[metric]:
        assert matches(PATTERNS[metric], event), (metric, event)
    for event in NEAR_MISSES[metric] + QUIET:
        assert not matches(PATTERNS[metric], event), (metric, event)


def _benchmark_samples(pattern: str) -> list[dict[str, Any]]:
    """A call of every event name a benchmark pattern names, from the service it names."""
    source = re.search(r"\$\.eventSource\s*=\s*([\w.]+)", pattern)
    service = source.group(1).removesuffix(".amazonaws.com") if source else "ec2"
    names = re.findall(r'\$\.eventName\s*=\s*"?(\w+)"?', pattern)
    return [_call(service, name) for name in names]


@pytest.mark.parametrize("control", list(BENCHMARK))
def test_each_filter_fires_on_everything_its_benchmark_pattern_fires_on(control: str) -> None:
    (ours,) = [e.pattern for e in SECURITY_EVENTS if _benchmark_control(e.control) == control]
    samples = [event for events in (*LOUD.values(), *NEAR_MISSES.values()) for event in events]
    samples += QUIET + _benchmark_samples(BENCHMARK[control])
    caught = [event for event in samples if matches(BENCHMARK[control], event)]
    assert caught, control
    for event in caught:
        assert matches(ours, event), (control, event)


def _security_parts(env: str, **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Monitoring stack's metric filters and security alarms, by construct id."""
    if overrides:
        stack = make_blueprint(env, **overrides).monitoring
        tmpl = assertions.Template.from_stack(stack)
    else:
        tmpl = template(env, "Monitoring")
    filters = {construct_id(lid): r["Properties"]
               for lid, r in resources(tmpl, "AWS::Logs::MetricFilter").items()}  # fmt: skip
    alarms = {construct_id(lid): r["Properties"]
              for lid, r in resources(tmpl, "AWS::CloudWatch::Alarm").items()
              if lid.startswith("Security")}  # fmt: skip
    return filters, alarms


def _with_security_alarms(env: str, value: Any) -> dict[str, Any]:
    """Context overrides setting ``monitoring.securityAlarms`` of ``env`` (None: absent)."""
    environments = copy.deepcopy(cdk_json_context()["environments"])
    monitoring = environments[env]["monitoring"]
    monitoring.pop("securityAlarms", None)
    if value is not None:
        monitoring["securityAlarms"] = value
    return {"environments": environments}


def _assert_alarm(alarm: dict[str, Any], metric: str, env: str) -> None:
    assert (alarm["Namespace"], alarm["MetricName"]) == (NAMESPACE, metric)
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    # Prod (CI's overlay) forwards to an existing topic too: test_alert_destinations.py.
    action, *forwarded = alarm["AlarmActions"]
    assert action["Fn::GetStackOutput"]["OutputName"] == "AlertsTopicArn"
    assert forwarded == [t for t in [built(env).config.alerts.topic_arn] if t]
    assert alarm["AlarmDescription"].startswith("Fires when ")
    assert "What to do:" in alarm["AlarmDescription"]


def test_filters_count_matching_trail_events(env: str) -> None:
    filters, _ = _security_parts(env)
    assert set(filters) == {f"Security{metric}Filter" for metric in PATTERNS}
    one = built(env).config.monitoring.security_alarms == "one"
    for name, props in filters.items():
        metric = name.removeprefix("Security").removesuffix("Filter")
        reference = props["LogGroupName"]["Fn::GetStackOutput"]
        assert reference["StackName"] == built(env).audit.stack_name
        assert reference["OutputName"] == "TrailLogGroupName"
        (transformation,) = props["MetricTransformations"]
        assert transformation["MetricNamespace"] == NAMESPACE
        assert transformation["MetricValue"] == "1"
        assert "DefaultValue" not in transformation  # a default would publish (and bill) idle
        assert transformation["MetricName"] == (COMBINED_METRIC if one else metric)
        assert props["FilterPattern"] == PATTERNS[metric]


@pytest.mark.parametrize("setting", [None, "each", "one"])
def test_each_filter_has_its_alarm_or_all_share_one_as_the_environment_says(
    env: str, setting: str | None
) -> None:
    filters, alarms = _security_parts(env, **_with_security_alarms(env, setting))
    assert len(filters) == len(SECURITY_EVENTS)
    if setting == "one":
        assert {p["MetricTransformations"][0]["MetricName"] for p in filters.values()} == {
            COMBINED_METRIC
        }
        assert set(alarms) == {f"Security{COMBINED_METRIC}Alarm"}
        (alarm,) = alarms.values()
        _assert_alarm(alarm, COMBINED_METRIC, env)
        assert alarm["AlarmDescription"] == COMBINED_DESCRIPTION
        assert all(metric in COMBINED_DESCRIPTION for metric in PATTERNS)
        return
    assert set(alarms) == {f"Security{metric}Alarm" for metric in PATTERNS}
    for event in SECURITY_EVENTS:
        alarm = alarms[f"Security{event.metric}Alarm"]
        _assert_alarm(alarm, event.metric, env)
        assert event.meaning in alarm["AlarmDescription"]
        assert (event.control or "") in alarm["AlarmDescription"]


def test_prod_alarms_on_each_event_the_sandbox_on_any() -> None:
    assert built("prod").config.monitoring.security_alarms == "each"
    assert built("sandbox").config.monitoring.security_alarms == "one"
    assert list(built("prod").monitoring.security.alarms) == list(PATTERNS)
    assert list(built("sandbox").monitoring.security.alarms) == [COMBINED_METRIC]


@pytest.mark.parametrize("value", ["all", "One", True, 1, None])
def test_a_wrong_security_alarms_setting_fails_naming_the_key(env: str, value: Any) -> None:
    environments = copy.deepcopy(cdk_json_context()["environments"])
    environments[env]["monitoring"]["securityAlarms"] = value
    with pytest.raises(ConfigError) as error:
        load_config({**cdk_json_context(), "env": env, "environments": environments})
    assert str(error.value) == (
        f"cdk.json: context.environments.{env}.monitoring.securityAlarms = {value!r}: expected "
        '"each" (an alarm per security event) or "one" (one alarm over all of them)'
    )


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
    # Without it the operational alarms are the same: the dashboard only shows them.
    counts = {
        stack_env: len([a for a in alarms(stack_env, "Monitoring") if a.startswith("datalake-")])
        for stack_env in ("sandbox", "prod")
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
