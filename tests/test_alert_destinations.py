"""Where alerts go: every alarm and every pipeline failure reaches the alerts topic, and the
topic reaches the configured destinations (an e-mail address, a Slack channel through AWS
Chatbot, an existing topic). Prod is built with CI's overlay, which names all three."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import pytest
from aws_cdk import assertions

from blueprint.factory import Blueprint
from tests.conftest import built, cdk_json_context, make_blueprint, resources, template

CI_TOPIC = "arn:aws:sns:eu-west-1:111122223333:security-operations"
OTHER_TOPIC = "arn:aws:sns:us-east-1:444455556666:soc-alerts"
SLACK = {"workspaceId": "T0SANDBOX1", "channelId": "G0PRIVATE1"}
ALERTS_TOPIC = {
    "Fn::GetStackOutput": {
        "StackName": "datalake-{env}-alerts",
        "Region": {"Ref": "AWS::Region"},
        "OutputName": "AlertsTopicArn",
    }
}


def alerts_topic(env: str) -> dict[str, Any]:
    """How stacks other than Alerts name the alerts topic."""
    return json.loads(json.dumps(ALERTS_TOPIC).replace("{env}", env))


@cache
def sandbox_with(alerts: str) -> Blueprint:
    """The sandbox with ``alerts`` (JSON) as its alerts object."""
    environments = copy.deepcopy(cdk_json_context()["environments"])
    environments["sandbox"]["alerts"] = json.loads(alerts)
    return make_blueprint("sandbox", environments=environments)


def forwarded(env: str) -> list[str]:
    """The topic ARNs ``env`` forwards alerts to (prod: CI's overlay; sandbox: none)."""
    return [CI_TOPIC] if env == "prod" else []


def test_every_alarm_of_every_stack_notifies_the_alerts_topic(env: str) -> None:
    """Security alarms (Monitoring) and the datasets' alarms alike, and nothing else."""
    counted = 0
    for stack in built(env).stacks:
        for logical_id, alarm in resources(
            template(env, stack.node.id), "AWS::CloudWatch::Alarm"
        ).items():
            actions = alarm["Properties"]["AlarmActions"]
            assert actions == [alerts_topic(env), *forwarded(env)], logical_id
            counted += 1
    security = resources(template(env, "Monitoring"), "AWS::CloudWatch::Alarm")
    # Every security alarm is among them: one per CIS filter, or one over all (sandbox).
    expected = len(built(env).monitoring.security.alarms)
    assert sum(k.startswith("Security") for k in security) == expected >= 1
    assert counted > len(security)


def test_every_pipeline_failure_reaches_the_alerts_topic(env: str) -> None:
    """The pipelines publish their own alert on every failure; the rules catch the rest."""
    for name, stack in built(env).dataset_stacks.items():
        tmpl = template(env, stack.node.id)
        (machine,) = resources(tmpl, "AWS::StepFunctions::StateMachine").values()
        definition = json.dumps(machine["Properties"]["DefinitionString"])
        assert ":states:::sns:publish" in definition, name
        assert json.dumps(alerts_topic(env)) in json.dumps(machine["Properties"]), name
    rules = resources(template(env, "Alerts"), "AWS::Events::Rule")
    assert {construct[: -len("XXXXXXXX")] for construct in rules} == {
        "PipelineAlertsGlueJobFailed",
        "PipelineAlertsPipelineFailed",
    }
    (topic,) = resources(template(env, "Alerts"), "AWS::SNS::Topic")
    for logical_id, rule in rules.items():
        arns = [target["Arn"] for target in rule["Properties"]["Targets"]]
        assert arns == [{"Ref": topic}, *forwarded(env)], logical_id
        for target in rule["Properties"]["Targets"]:
            assert "DeadLetterConfig" in target
            assert "RoleArn" in target


def test_the_sandbox_subscribes_no_one_and_prod_each_configured_destination(env: str) -> None:
    tmpl = template(env, "Alerts")
    subscriptions = [r["Properties"] for r in resources(tmpl, "AWS::SNS::Subscription").values()]
    channels = resources(tmpl, "AWS::Chatbot::SlackChannelConfiguration")
    if env == "sandbox":
        assert subscriptions == []
        assert channels == {}
        return
    (topic,) = resources(tmpl, "AWS::SNS::Topic")
    assert subscriptions == [
        {
            "Protocol": "email",
            "Endpoint": "data-platform-alerts@example.com",
            "TopicArn": {"Ref": topic},
        }
    ]
    (channel,) = channels.values()
    properties = channel["Properties"]
    assert properties["SlackWorkspaceId"] == "T07EA123LEP"
    assert properties["SlackChannelId"] == "C07EZ1ABC23"
    assert properties["SnsTopicArns"] == [{"Ref": topic}]
    assert properties["ConfigurationName"] == "datalake-prod-alerts"
    assert properties["LoggingLevel"] == "NONE"


def test_a_slack_channel_can_run_nothing_through_chatbot() -> None:
    """Without a guardrail Chatbot applies AdministratorAccess; here it is AWSDenyAll, and
    the channel's role has no policy."""
    tmpl = assertions.Template.from_stack(sandbox_with(json.dumps({"slack": SLACK})).alerts)
    (channel,) = resources(tmpl, "AWS::Chatbot::SlackChannelConfiguration").values()
    assert channel["Properties"]["GuardrailPolicies"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AWSDenyAll"]]}
    ]
    assert channel["Properties"]["SlackChannelId"] == "G0PRIVATE1"
    role_id = channel["Properties"]["IamRoleArn"]["Fn::GetAtt"][0]
    role = resources(tmpl, "AWS::IAM::Role")[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert "Policies" not in role
    assert not [
        p
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for p in resources(tmpl, kind).values()
        if {"Ref": role_id} in p["Properties"].get("Roles", [])
    ]
    assert resources(tmpl, "AWS::SNS::Subscription") == {}


def test_an_existing_topic_gets_every_alarm_and_failure_rule_in_a_sandbox_too() -> None:
    blueprint = sandbox_with(json.dumps({"topicArn": OTHER_TOPIC}))
    alarms = 0
    for stack in blueprint.stacks:
        tmpl = assertions.Template.from_stack(stack)
        for logical_id, alarm in resources(tmpl, "AWS::CloudWatch::Alarm").items():
            assert alarm["Properties"]["AlarmActions"] == [alerts_topic("sandbox"), OTHER_TOPIC], (
                logical_id
            )
            alarms += 1
    assert alarms > 6
    alerts = assertions.Template.from_stack(blueprint.alerts)
    for rule in resources(alerts, "AWS::Events::Rule").values():
        assert [t["Arn"] for t in rule["Properties"]["Targets"]][1:] == [OTHER_TOPIC]
    # The rules' role may publish to it (its topic policy and key are its owner's: docs).
    statements = [
        s
        for p in resources(alerts, "AWS::IAM::ManagedPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    (publish,) = [s for s in statements if s["Action"] == "sns:Publish"]
    assert OTHER_TOPIC in publish["Resource"]
    assert resources(alerts, "AWS::SNS::Subscription") == {}
    assert resources(alerts, "AWS::Chatbot::SlackChannelConfiguration") == {}


@pytest.mark.parametrize("env", ["sandbox", "prod"])
def test_the_alerts_topic_lets_only_this_accounts_alarms_publish(env: str) -> None:
    policy = next(iter(resources(template(env, "Alerts"), "AWS::SNS::TopicPolicy").values()))
    (alarms,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "AllowThisAccountsAlarms"
    ]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
