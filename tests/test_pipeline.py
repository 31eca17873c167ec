"""The pipeline of each dataset, its triggers and the alerts stack, as synthesized.

tests/test_pipeline_runs.py runs the same definitions in moto; this file checks what a
reviewer would check in the templates: bounds, retries, logging, tracing, triggers, alerts.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from aws_cdk import assertions

from cdk_constructs.orchestration.pipeline_alerts import FAILED_EXECUTION_STATES, FAILED_JOB_STATES
from cdk_constructs.orchestration.pipeline_bounds import (
    CRAWLER_POLLS,
    GLUE_BUSY,
    GLUE_START_THROTTLED,
    JOB_START_ALLOWANCE_MINUTES,
    SFN_BUSY,
)
from model.config import ConfigError
from model.environments import load_config
from tests.conftest import (
    built,
    cdk_json_context,
    construct_id,
    make_blueprint,
    only,
    resources,
    template,
)


def dataset_names() -> list[str]:
    return list(built("sandbox").dataset_stacks)


def output_name(value: Any) -> str:
    """The output a weak cross-stack reference (Fn::GetStackOutput) reads."""
    return str(value["Fn::GetStackOutput"]["OutputName"])


def definition(env: str, dataset: str) -> dict[str, Any]:
    """The state machine definition, with each CloudFormation reference as ``<ref>``."""
    props = only(template(env, f"Dataset-{dataset}"), "AWS::StepFunctions::StateMachine")
    separator, parts = props["DefinitionString"]["Fn::Join"]
    return dict(json.loads(separator.join(p if isinstance(p, str) else "<ref>" for p in parts)))


@pytest.mark.parametrize("dataset", dataset_names())
def test_the_state_machine_is_a_logged_traced_standard_workflow(env: str, dataset: str) -> None:
    tmpl = template(env, f"Dataset-{dataset}")
    props = only(tmpl, "AWS::StepFunctions::StateMachine")
    assert props["StateMachineName"] == f"datalake-{env}-{dataset}-pipeline"
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    shipped = cdk_json_context()["environments"][env]["processing"]["pipelineLogExecutionData"]
    assert logging["IncludeExecutionData"] is shipped
    (destination,) = logging["Destinations"]
    group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    group = resources(tmpl, "AWS::Logs::LogGroup")[group_id]["Properties"]
    assert output_name(group["KmsKeyId"]) == "OperationsKeyArn"
    assert group["LogGroupName"] == f"/aws/vendedlogs/states/datalake-{env}-{dataset}-pipeline"


def _logging(env: str, setting: Any) -> list[dict[str, Any]]:
    """The logging of every pipeline with ``processing.pipelineLogExecutionData`` of ``env``
    set to ``setting`` (``_ABSENT``: left out)."""
    environments = copy.deepcopy(cdk_json_context()["environments"])
    processing = environments[env]["processing"]
    if processing.pop("pipelineLogExecutionData") == setting:
        blueprint = built(env)
    else:
        if setting is not _ABSENT:
            processing["pipelineLogExecutionData"] = setting
        blueprint = make_blueprint(env, environments=environments)
    assert blueprint.config.processing.pipeline_log_execution_data is (setting is True)
    return [
        only(assertions.Template.from_stack(stack), "AWS::StepFunctions::StateMachine")[
            "LoggingConfiguration"
        ]
        for stack in blueprint.dataset_stacks.values()
    ]


_ABSENT = object()


@pytest.mark.parametrize("setting", [_ABSENT, True, False], ids=["absent", "true", "false"])
def test_execution_data_is_logged_only_where_the_environment_asks(env: str, setting: Any) -> None:
    """Every event is logged either way (cdk-nag SF1); the input, output and error text of
    each state (object keys of personal files among them) only when asked, not by default."""
    for logging in _logging(env, setting):
        assert logging["Level"] == "ALL"
        assert logging["IncludeExecutionData"] is (setting is True)


def test_prod_logs_no_execution_data_the_sandbox_does_for_debugging() -> None:
    assert built("prod").config.processing.pipeline_log_execution_data is False
    assert built("sandbox").config.processing.pipeline_log_execution_data is True


@pytest.mark.parametrize("value", ["yes", "ERROR", 1, None])
def test_a_wrong_execution_data_setting_fails_naming_the_key(env: str, value: Any) -> None:
    environments = copy.deepcopy(cdk_json_context()["environments"])
    environments[env]["processing"]["pipelineLogExecutionData"] = value
    with pytest.raises(ConfigError) as error:
        load_config({**cdk_json_context(), "env": env, "environments": environments})
    assert str(error.value) == (
        f"cdk.json: context.environments.{env}.processing.pipelineLogExecutionData = "
        f"{value!r}: expected true or false"
    )


@pytest.mark.parametrize("dataset", dataset_names())
def test_every_wait_is_bounded(env: str, dataset: str) -> None:
    states = definition(env, dataset)
    processing = built(env).config.processing
    stack = built(env).dataset_stacks[dataset]
    jobs = 2 if stack.analytics else 1
    job_minutes = processing.timeout_minutes + JOB_START_ALLOWANCE_MINUTES
    # The execution's own bound covers the longest path of polls, plus an hour of start-up
    # retries and alerts.
    assert states["TimeoutSeconds"] == (CRAWLER_POLLS // 2 + jobs * job_minutes + 60) * 60
    for name, state in states["States"].items():
        if state["Type"] == "Task":
            assert state["TimeoutSeconds"] <= 120, name
    # Each poll loop ends at a bound on its count.
    bounds = {
        choice: rule["NumericGreaterThanEquals"]
        for choice, state in states["States"].items()
        if state["Type"] == "Choice"
        for rule in state["Choices"]
        if "NumericGreaterThanEquals" in rule
    }
    job_polls = job_minutes  # one poll a minute
    assert bounds == {
        "CrawlerFinished?": CRAWLER_POLLS,
        "CurateFinished?": job_polls,
        **({"BuildMartsFinished?": job_polls} if stack.analytics else {}),
    }


@pytest.mark.parametrize("dataset", dataset_names())
def test_only_a_refused_glue_call_is_retried_and_every_step_is_caught(
    env: str, dataset: str
) -> None:
    states = definition(env, dataset)["States"]
    job_starts = {"Curate", "BuildMarts"}
    for name, state in states.items():
        for retry in state.get("Retry", []):
            refused = (
                SFN_BUSY if name == "ListRunningExecutions"
                else (*GLUE_BUSY, GLUE_START_THROTTLED) if name in job_starts
                else GLUE_BUSY
            )  # fmt: skip
            assert set(retry["ErrorEquals"]) == set(refused), name
            assert retry["BackoffRate"] == 2
            assert retry["MaxAttempts"] == 5
        if state["Type"] == "Task" and not name.startswith("Alert"):
            caught = [c["ErrorEquals"] for c in state["Catch"]]
            assert ["States.ALL"] in caught, f"{name} fails without an alert"
    # The jobs are started once and then watched; a running crawler is joined, not retried.
    assert states["Curate"]["Resource"].endswith(":states:::glue:startJobRun")
    assert states["CrawlRaw"]["Catch"][0] == {
        "ErrorEquals": ["Glue.CrawlerRunningException"],
        "ResultPath": "$.error",
        "Next": "WaitForCrawler",
    }


@pytest.mark.parametrize("dataset", dataset_names())
def test_the_pipeline_runs_its_own_crawler_and_jobs(env: str, dataset: str) -> None:
    states = definition(env, dataset)["States"]
    stack = built(env).dataset_stacks[dataset]
    assert states["CrawlRaw"]["Parameters"] == {"Name": f"datalake-{env}-{dataset}-raw"}
    assert states["Curate"]["Parameters"]["JobName"] == f"datalake-{env}-{dataset}-curate"
    if stack.analytics:
        assert (
            states["BuildMarts"]["Parameters"]["JobName"] == f"datalake-{env}-{dataset}-analytics"
        )
        assert states["CurateDone"]["Next"] == "BuildMarts"
    else:
        assert "BuildMarts" not in states
        assert states["CurateDone"]["Next"] == "PublishDataset"
    entry = states["PublishDataset"]["Parameters"]["Entries"][0]
    assert entry["Source"] == "datalake.pipeline"
    assert entry["DetailType"] == "Dataset Published"


def test_the_role_can_do_what_the_pipeline_does_and_no_more(env: str) -> None:
    for dataset, _stack in built(env).dataset_stacks.items():
        tmpl = template(env, f"Dataset-{dataset}")
        policies = [p["Properties"] for lid, p in resources(tmpl, "AWS::IAM::ManagedPolicy").items()
                    if construct_id(lid) == "PipelineRolePolicy"]  # fmt: skip
        (policy,) = policies
        actions = {
            action
            for statement in policy["PolicyDocument"]["Statement"]
            for action in (statement["Action"] if isinstance(statement["Action"], list)
                           else [statement["Action"]])
        }  # fmt: skip
        assert "states:ListExecutions" in actions
        assert "sns:Publish" in actions
        assert {"glue:StartJobRun", "glue:getJobRun", "glue:startCrawler", "glue:getCrawler",
                "events:PutEvents", "kms:GenerateDataKey", "kms:Decrypt"} <= actions  # fmt: skip
        assert not [a for a in actions if a.endswith("*") and not a.startswith(("xray", "logs"))]
        publish = next(
            s for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "sns:Publish"
        )
        assert output_name(publish["Resource"]) == "AlertsTopicArn"


@pytest.mark.parametrize("dataset", dataset_names())
def test_the_schedule_starts_the_pipeline_as_declared(env: str, dataset: str) -> None:
    tmpl = template(env, f"Dataset-{dataset}")
    schedule = only(tmpl, "AWS::Scheduler::Schedule")
    declared = built(env).dataset_stacks[dataset].dataset
    assert schedule["ScheduleExpression"] == declared.schedule
    assert schedule["ScheduleExpressionTimezone"] == "Etc/UTC"
    # Deployed disabled where the environment runs no schedules (the sandbox: docs/cost.md).
    enabled = built(env).config.processing.schedules_enabled
    assert schedule["State"] == ("ENABLED" if enabled else "DISABLED")
    target = schedule["Target"]
    machine = next(iter(resources(tmpl, "AWS::StepFunctions::StateMachine")))
    assert target["Arn"] == {"Ref": machine}
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3}
    assert "DeadLetterConfig" in target
    # Scheduler writes dead letters as the schedule's role: it needs the queue's key.
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    assert key_actions(tmpl, role_id) == {"kms:GenerateDataKey", "kms:Decrypt"}


def key_actions(tmpl: Any, role_id: str) -> set[str]:
    """What a role may do with the operations key, through its managed policies."""
    actions: set[str] = set()
    for policy in resources(tmpl, "AWS::IAM::ManagedPolicy").values():
        if {"Ref": role_id} not in policy["Properties"].get("Roles", []):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resource = statement["Resource"]
            reference = isinstance(resource, dict) and "Fn::GetStackOutput" in resource
            if reference and output_name(resource) == "OperationsKeyArn":
                found = statement["Action"]
                actions |= set(found if isinstance(found, list) else [found])
    return actions


@pytest.mark.parametrize("dataset", dataset_names())
def test_new_raw_data_starts_the_pipeline_only_where_declared(env: str, dataset: str) -> None:
    tmpl = template(env, f"Dataset-{dataset}")
    rules = resources(tmpl, "AWS::Events::Rule")
    if not built(env).dataset_stacks[dataset].dataset.start_on_arrival:
        assert rules == {}
        return
    (rule,) = rules.values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    (bucket,) = pattern["detail"]["bucket"]["name"]
    assert output_name(bucket) == "RawBucketName"
    assert pattern["detail"]["object"]["key"] == [{"prefix": f"{dataset}/"}]
    (target,) = rule["Properties"]["Targets"]
    machine = next(iter(resources(tmpl, "AWS::StepFunctions::StateMachine")))
    assert target["Arn"] == {"Ref": machine}
    assert "DeadLetterConfig" in target


def test_the_alerts_topic_is_encrypted_and_tls_only(env: str) -> None:
    tmpl = template(env, "Alerts")
    topic = only(tmpl, "AWS::SNS::Topic")
    assert output_name(topic["KmsMasterKeyId"]) == "OperationsKeyArn"
    policy = only(tmpl, "AWS::SNS::TopicPolicy")["PolicyDocument"]["Statement"]
    insecure = {"Bool": {"aws:SecureTransport": "false"}}
    assert any(s["Effect"] == "Deny" and s["Condition"] == insecure for s in policy)
    # cdk.json subscribes no one by default (prod's destinations come from CI's overlay:
    # tests/test_alert_destinations.py).
    if env == "sandbox":
        assert resources(tmpl, "AWS::SNS::Subscription") == {}


def test_the_configured_address_is_subscribed() -> None:
    context = cdk_json_context()
    context["environments"]["sandbox"]["alerts"]["email"] = "data-team@example.com"
    blueprint = make_blueprint("sandbox", environments=context["environments"])
    from aws_cdk import assertions

    tmpl = assertions.Template.from_stack(blueprint.alerts)
    tmpl.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "data-team@example.com"}
    )


def test_failed_jobs_and_executions_reach_the_topic_as_readable_text(env: str) -> None:
    tmpl = template(env, "Alerts")
    rules = {construct_id(lid).removeprefix("PipelineAlerts"): r["Properties"]
             for lid, r in resources(tmpl, "AWS::Events::Rule").items()}  # fmt: skip
    assert set(rules) == {"GlueJobFailed", "PipelineFailed"}
    glue = rules["GlueJobFailed"]["EventPattern"]
    assert glue["detail"]["jobName"] == [{"prefix": f"datalake-{env}-"}]
    assert glue["detail"]["state"] == list(FAILED_JOB_STATES)
    states = rules["PipelineFailed"]["EventPattern"]
    assert states["detail"]["stateMachineArn"] == [{"wildcard": f"*:stateMachine:datalake-{env}-*"}]
    assert states["detail"]["status"] == list(FAILED_EXECUTION_STATES)
    topic = next(iter(resources(tmpl, "AWS::SNS::Topic")))
    for name, rule in rules.items():
        # Prod (CI's overlay) also forwards to an existing topic: the same text, role and
        # dead-letter queue (tests/test_alert_destinations.py).
        target, *forwarded = rule["Targets"]
        assert target["Arn"] == {"Ref": topic}
        assert len(forwarded) == (1 if env == "prod" else 0)
        for other in forwarded:
            assert {**other, "Arn": None, "Id": None} == {**target, "Arn": None, "Id": None}
        assert "DeadLetterConfig" in target
        # EventBridge publishes to the encrypted topic as a role that holds the key.
        assert key_actions(tmpl, target["RoleArn"]["Fn::GetAtt"][0]) == {
            "kms:GenerateDataKey*",
            "kms:Decrypt",
        }
        transformer = target["InputTransformer"]
        # Text with the event's fields filled in, not the raw event.
        template_text = json.loads(transformer["InputTemplate"])
        assert isinstance(template_text, str), name
        assert "<" in template_text, name
        assert set(transformer["InputPathsMap"].values()) <= {
            "$.time", "$.detail.jobName", "$.detail.state", "$.detail.jobRunId",
            "$.detail.message", "$.detail.name", "$.detail.status", "$.detail.stateMachineArn",
            "$.detail.error", "$.detail.cause",
        }  # fmt: skip


def test_a_dataset_name_too_long_for_its_pipeline_fails_synth(tmp_path: Any) -> None:
    from tests.conftest import datasets_folder, docs_example_declaration

    # A name with "_" is fine: its stack name has "-" instead.
    fine = (
        docs_example_declaration()
        .replace('name = "payments"', 'name = "card_payments"')
        .replace("{curated}.payments", "{curated}.card_payments")
    )
    folder = datasets_folder(tmp_path / "ok", ("card_payments.toml", fine))
    stack = make_blueprint("prod", datasets=str(folder)).dataset_stacks["card_payments"]
    assert stack.stack_name == "datalake-prod-dataset-card-payments"
    assert stack.pipeline.name == "datalake-prod-card_payments-pipeline"

    long_name = "payments_" + "x" * 54  # 63 characters: a valid dataset name
    declaration = (
        docs_example_declaration()
        .replace('name = "payments"', f'name = "{long_name}"')
        .replace("{curated}.payments", f"{{curated}}.{long_name}")
    )
    folder = datasets_folder(tmp_path / "d", (f"{long_name}.toml", declaration))
    with pytest.raises(ValueError, match=f"dataset {long_name}: its pipeline would be named .*"
                       r"Step Functions allows 80: choose a shorter dataset name"):  # fmt: skip
        make_blueprint("prod", datasets=str(folder))
