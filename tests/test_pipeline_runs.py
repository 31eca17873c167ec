"""The synthesized pipeline definitions, run for real in moto's Step Functions.

The definition is taken from the template as `cdk synth` writes it; the test only resolves
its CloudFormation references to the moto resources, shortens waits and retry intervals to
zero and one second, and translates the one ``aws-sdk:sfn`` call to the Step Functions API's
own camelCase (AWS takes and returns PascalCase for SDK integrations; moto passes names
through unchanged). moto's Glue stands in for the jobs and the crawler: a job run or crawl is
steered to fail, to be refused, or to never finish by adjusting moto's own models.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.exceptions import JsonRESTError
from moto.glue import models as glue_models
from moto.glue.exceptions import ConcurrentRunsExceededException
from moto.moto_api import state_manager

from cdk_constructs.orchestration.pipeline_bounds import CRAWLER_POLLS
from cdk_constructs.orchestration.pipeline_states import DATA_QUALITY_FAILED
from tests.conftest import built, only, template

REGION, ACCOUNT = "us-east-1", "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/pipeline"


def definition(dataset: str, topic_arn: str, wait_seconds: int = 0) -> str:
    """The dataset's state machine definition, references resolved for moto."""
    props = only(template("sandbox", f"Dataset-{dataset}"), "AWS::StepFunctions::StateMachine")
    separator, parts = props["DefinitionString"]["Fn::Join"]
    resolved = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    text = separator.join(
        part if isinstance(part, str)
        else resolved[part["Ref"]] if "Ref" in part
        else topic_arn if part.get("Fn::GetStackOutput", {}).get("OutputName") == "AlertsTopicArn"
        else pytest.fail(f"unresolved reference in the definition: {part}")
        for part in parts
    )  # fmt: skip
    states = json.loads(text)
    for state in _all_states(states):
        if state["Type"] == "Wait":
            state["Seconds"] = wait_seconds
        for retry in state.get("Retry", []):
            retry["IntervalSeconds"] = 1
            retry["BackoffRate"] = 1.0
            retry.pop("JitterStrategy", None)
        if state.get("Resource", "").endswith(":aws-sdk:sfn:listExecutions"):
            state["Parameters"] = {k[0].lower() + k[1:]: v for k, v in state["Parameters"].items()}
            state["ResultSelector"] = {"arns.$": "$.executions[*].executionArn"}
    return json.dumps(states)


def _all_states(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from definition["States"].values()


class Lake:
    """moto resources for one dataset's pipeline, and helpers to run it."""

    def __init__(
        self, dataset: str, *, wait_seconds: int = 0, crawls_end: bool = True, runs_end: bool = True
    ) -> None:
        self.dataset = dataset
        # A crawl or job run ends at the first look, or never.
        for model, ends in (("glue::crawl", crawls_end), ("glue::job_run", runs_end)):
            never = {"progression": "manual", "times": 10**9}
            state_manager.set_transition(model, {"progression": "immediate"} if ends else never)
        stack = built("sandbox").dataset_stacks[dataset]
        self.name = stack.pipeline.name
        self.jobs = [stack.curation.job.name] + (
            [stack.analytics.job.name] if stack.analytics else []
        )
        glue = boto3.client("glue", region_name=REGION)
        glue.create_database(DatabaseInput={"Name": "raw"})
        glue.create_crawler(Name=str(stack.crawler.crawler.name), Role=ROLE, DatabaseName="raw",
                            Targets={"S3Targets": [{"Path": "s3://raw/orders/"}]})  # fmt: skip
        for job in self.jobs:
            glue.create_job(Name=str(job), Role=ROLE, Command={"Name": "glueetl"},
                            ExecutionProperty={"MaxConcurrentRuns": 1})  # fmt: skip
        sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        self.alerts = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=self._arn(self.alerts),
                      Attributes={"RawMessageDelivery": "true"})  # fmt: skip
        events = boto3.client("events", region_name=REGION)
        self.published = sqs.create_queue(QueueName="published")["QueueUrl"]
        events.put_rule(
            Name="published", EventPattern=json.dumps({"source": ["datalake.pipeline"]})
        )
        events.put_targets(
            Rule="published", Targets=[{"Id": "q", "Arn": self._arn(self.published)}]
        )
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.arn = self.sfn.create_state_machine(
            name=self.name, definition=definition(dataset, topic, wait_seconds), roleArn=ROLE
        )["stateMachineArn"]

    def _arn(self, queue_url: str) -> str:
        return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_url.rsplit('/', 1)[1]}"

    def start(self) -> str:
        name = f"run-{time.monotonic_ns()}"
        return self.sfn.start_execution(stateMachineArn=self.arn, name=name, input="{}")[
            "executionArn"
        ]

    def finish(self, execution: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (described := self.sfn.describe_execution(executionArn=execution))[
            "status"
        ] == "RUNNING":
            assert time.monotonic() < deadline, "the execution did not end"
            time.sleep(0.2)
        return described

    def path(self, execution: str) -> list[str]:
        """The states the execution entered, in order."""
        history = self.sfn.get_execution_history(executionArn=execution, maxResults=1000)
        return [e["stateEnteredEventDetails"]["name"] for e in history["events"]
                if "stateEnteredEventDetails" in e]  # fmt: skip

    def messages(self, queue_url: str) -> list[str]:
        sqs = boto3.client("sqs", region_name=REGION)
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        return [m["Body"] for m in received.get("Messages", [])]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {"AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield
    for model in ("glue::crawl", "glue::job_run"):
        state_manager.unset_transition(model)


def fail_job_runs(monkeypatch: pytest.MonkeyPatch, job: str, message: str) -> None:
    """Runs of ``job`` end FAILED with ``message``, as Glue reports a script's exception."""
    as_dict = glue_models.FakeJobRun.as_dict

    def failed(run: glue_models.FakeJobRun) -> dict[str, Any]:
        described = as_dict(run)
        if run.job_name == job:
            described |= {"JobRunState": "FAILED", "ErrorMessage": message}
        return described

    monkeypatch.setattr(glue_models.FakeJobRun, "as_dict", failed)


def test_a_successful_run_crawls_curates_builds_marts_and_publishes(aws: None) -> None:
    lake = Lake("orders")
    execution = lake.start()
    assert lake.finish(execution)["status"] == "SUCCEEDED"
    assert lake.path(execution) == [
        "Start", "ListRunningExecutions", "AnotherRunInProgress?",
        "CrawlRaw", "WaitForCrawler", "GetCrawler", "CrawlerFinished?", "CrawlFailed?",
        "CrawlDone",
        "Curate", "WaitForCurate", "GetCurateRun", "CurateFinished?", "CurateDone",
        "BuildMarts", "WaitForBuildMarts", "GetBuildMartsRun", "BuildMartsFinished?",
        "BuildMartsDone",
        "PublishDataset",
    ]  # fmt: skip
    assert lake.messages(lake.alerts) == []
    (published,) = lake.messages(lake.published)
    event = json.loads(published)
    assert event["detail-type"] == "Dataset Published"
    assert event["detail"]["dataset"] == "orders"
    assert event["detail"]["curationJobRunId"]


def test_a_dataset_without_marts_goes_from_curation_to_publishing(aws: None) -> None:
    lake = Lake("clickstream")
    execution = lake.start()
    assert lake.finish(execution)["status"] == "SUCCEEDED"
    assert lake.path(execution)[-3:] == ["CurateFinished?", "CurateDone", "PublishDataset"]


def test_a_failed_job_alerts_with_dataset_step_and_error_then_fails(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake("orders")
    fail_job_runs(monkeypatch, lake.jobs[0], "AnalysisException: Path does not exist")
    execution = lake.start()
    described = lake.finish(execution)
    assert described["status"] == "FAILED"
    path = lake.path(execution)
    assert path[path.index("CurateFinished?"):] == [
        "CurateFinished?", "CurateErrorMessage?", "CurateRunFailed", "AlertFailure",
        "PipelineFailed",
    ]  # fmt: skip
    (alert,) = lake.messages(lake.alerts)
    assert "dataset orders failed at step Curate" in alert
    assert "AnalysisException: Path does not exist" in alert
    assert described["error"] == "CurateFailed"
    assert described["cause"] == "AnalysisException: Path does not exist"
    assert lake.messages(lake.published) == []


def test_a_data_quality_failure_alerts_with_the_failed_rules_and_publishes_nothing(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake("orders")
    rules = """['IsUnique "order_id"', 'ColumnValues "quantity" > 0']"""
    fail_job_runs(monkeypatch, lake.jobs[0],
                  f"RuntimeError: {DATA_QUALITY_FAILED} for orders: {rules}")  # fmt: skip
    execution = lake.start()
    described = lake.finish(execution)
    assert described["status"] == "FAILED"
    assert described["error"] == "DataQualityFailed"
    path = lake.path(execution)
    assert path[path.index("CurateFinished?") :] == [
        "CurateFinished?",
        "AlertDataQuality",
        "DataQualityFailed",
    ]
    assert "BuildMarts" not in path
    assert "PublishDataset" not in path
    (alert,) = lake.messages(lake.alerts)
    assert "Data quality failed for dataset orders" in alert
    assert 'IsUnique "order_id"' in alert
    assert 'ColumnValues "quantity" > 0' in alert
    assert lake.messages(lake.published) == []


@pytest.mark.parametrize(
    ("refusal", "error"),
    [
        (ConcurrentRunsExceededException("Job with name curate already running"),
         "Glue.ConcurrentRunsExceededException"),
        # How the optimized integration reports throttling: Glue's unmodelled error.
        (JsonRESTError("AWSGlueException", "Rate exceeded (Error Code: ThrottlingException)"),
         "Glue.AWSGlueException"),
    ],
    ids=["concurrency", "throttling"],
)  # fmt: skip
def test_a_refused_job_start_is_retried_and_the_run_succeeds(
    aws: None, monkeypatch: pytest.MonkeyPatch, refusal: Exception, error: str
) -> None:
    lake = Lake("orders")
    start_job_run = glue_models.FakeJob.start_job_run
    refusals = []

    def refused_once(job: glue_models.FakeJob, **kwargs: Any) -> str:
        if job.name == lake.jobs[0] and not refusals:
            refusals.append(job.name)
            raise refusal
        return start_job_run(job, **kwargs)

    monkeypatch.setattr(glue_models.FakeJob, "start_job_run", refused_once)
    execution = lake.start()
    assert lake.finish(execution)["status"] == "SUCCEEDED"
    assert refusals == [lake.jobs[0]]
    history = lake.sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    failed = [e["taskFailedEventDetails"]["error"] for e in history
              if "taskFailedEventDetails" in e]  # fmt: skip
    assert failed == [error]
    assert lake.path(execution).count("Curate") == 1  # one state, retried within it
    assert lake.messages(lake.alerts) == []


def test_a_crawler_that_never_finishes_is_polled_a_bounded_number_of_times(aws: None) -> None:
    lake = Lake("orders", crawls_end=False)
    execution = lake.start()
    described = lake.finish(execution)
    assert described["status"] == "FAILED"
    assert described["error"] == "CrawlRawFailed"
    path = lake.path(execution)
    assert path.count("GetCrawler") == CRAWLER_POLLS + 1
    assert path[-3:] == ["CrawlerWaitFailed", "AlertFailure", "PipelineFailed"]
    assert "Curate" not in path
    (alert,) = lake.messages(lake.alerts)
    assert "failed at step CrawlRaw" in alert
    assert "Error: CrawlerDidNotFinish" in alert


def test_a_job_run_that_never_ends_is_polled_a_bounded_number_of_times(aws: None) -> None:
    lake = Lake("orders", runs_end=False)
    execution = lake.start()
    described = lake.finish(execution)
    assert described["status"] == "FAILED"
    assert described["error"] == "CurateFailed"
    path = lake.path(execution)
    polls = built("sandbox").dataset_stacks["orders"].pipeline.job_polls
    assert path.count("GetCurateRun") == polls + 1
    assert path[-3:] == ["CurateWaitFailed", "AlertFailure", "PipelineFailed"]
    assert "BuildMarts" not in path
    assert "PublishDataset" not in path
    (alert,) = lake.messages(lake.alerts)
    assert "failed at step Curate" in alert
    assert "Error: JobRunDidNotFinish" in alert


def test_a_start_while_a_run_is_in_progress_leaves_it_to_that_run(aws: None) -> None:
    lake = Lake("orders", wait_seconds=1, crawls_end=False)
    first = lake.start()
    deadline = time.monotonic() + 30
    while "GetCrawler" not in lake.path(first):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    second = lake.start()
    assert lake.finish(second)["status"] == "SUCCEEDED"
    assert lake.path(second)[-1] == "LeaveItToTheRunningExecution"
    assert "CrawlRaw" not in lake.path(second)
    lake.sfn.stop_execution(executionArn=first)
    assert lake.finish(first)["status"] == "ABORTED"
