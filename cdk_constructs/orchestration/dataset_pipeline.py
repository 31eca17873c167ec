"""One dataset's pipeline as a Step Functions standard workflow: crawl raw, curate (with the
data-quality verdict), build the marts, publish; alert on every failure.

An execution that finds an older one running ends at once (raw data the older one does not
read is read by the next run), so triggers may start executions freely. The states of each
step are built by ``pipeline_states``; what the pipeline retries and how long it waits is set
in ``pipeline_bounds``.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.service_trust import trusted_service
from cdk_constructs.common.wildcards import allow_wildcards
from cdk_constructs.orchestration.pipeline_bounds import (
    CALL_TIMEOUT,
    execution_timeout,
    job_polls,
    retry_sfn_busy,
)
from cdk_constructs.orchestration.pipeline_states import PipelineStates

# Step Functions allows 80 characters in a state machine's name.
MAX_NAME = 80


class DatasetPipeline(Construct):
    """The state machine ``name`` running ``crawler``, ``curation_job`` and, when given,
    ``analytics_job`` for ``dataset``, alerting to ``alerts``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: str,
        name: str,
        crawler: glue.CfnCrawler,
        curation_job: glue.CfnJob,
        analytics_job: glue.CfnJob | None,
        job_timeout_minutes: int,
        alerts: sns.ITopic,
        log_group: logs.ILogGroup,
        encryption_key: kms.IKey,
        log_execution_data: bool = False,
    ) -> None:
        """Create the state machine.

        :param name: the state machine's name (alert rules and the overlap check use it).
        :param analytics_job: the marts job, run after curation. Default: none.
        :param job_timeout_minutes: the jobs' own timeout; a job run is polled for that plus
            ``pipeline_bounds.JOB_START_ALLOWANCE_MINUTES``.
        :param alerts: the topic alerts go to.
        :param log_group: the KMS-encrypted log group of execution logs: every event of every
            execution (level ALL).
        :param log_execution_data: whether those events carry each state's input, output and
            error text, which name the objects a run read (personal files among them).
            Default: they do not; the execution's history keeps them (90 days, by the API).
        :param encryption_key: the key of the alerts topic (the operations key).
        """
        super().__init__(scope, id)
        if len(name) > MAX_NAME:
            raise ValueError(
                f"dataset {dataset}: its pipeline would be named {name!r}, {len(name)} "
                f"characters; Step Functions allows {MAX_NAME}: choose a shorter dataset name"
            )
        self.dataset, self.name, self.alerts = dataset, name, alerts
        self.job_polls = job_polls(job_timeout_minutes)
        states = PipelineStates(self, name=name, alerts=alerts, job_polls=self.job_polls)
        data_quality_failed = states.data_quality_alert()
        # Built from the end: each step is given the one that follows it.
        publish = self._publish(dataset, states)
        after_curation: sfn.IChainable = publish
        if analytics_job is not None:
            after_curation = states.run_job("BuildMarts", "marts", analytics_job, publish)
        curate = states.run_job("Curate", "curation", curation_job, after_curation,
                                data_quality_failed=data_quality_failed)  # fmt: skip
        crawl = states.crawl(crawler, curate)
        self.state_machine = self._state_machine(
            self._unless_an_older_run(dataset, states, then=crawl),
            jobs=2 if analytics_job is not None else 1,
            job_timeout_minutes=job_timeout_minutes,
            log_group=log_group,
            log_execution_data=log_execution_data,
        )
        self._grant(started_jobs=states.started_jobs, encryption_key=encryption_key)

    def _publish(self, dataset: str, states: PipelineStates) -> sfn.IChainable:
        """Announce the published run on the default event bus (``Dataset Published``), for
        whatever consumes the dataset."""
        publish = tasks.EventBridgePutEvents(
            self,
            "PublishDataset",
            entries=[
                tasks.EventBridgePutEventsEntry(
                    source="datalake.pipeline",
                    detail_type="Dataset Published",
                    detail=sfn.TaskInput.from_object(
                        {
                            "dataset": dataset,
                            "execution": sfn.JsonPath.execution_id,
                            "curationJobRunId": sfn.JsonPath.string_at("$.curation.JobRunId"),
                        }
                    ),
                )
            ],
            task_timeout=CALL_TIMEOUT,
            result_path=sfn.JsonPath.DISCARD,
        )
        publish.add_catch(states.failure("PublishDataset"), result_path="$.error")
        return publish

    def _unless_an_older_run(
        self, dataset: str, states: PipelineStates, *, then: sfn.IChainable
    ) -> sfn.IChainable:
        """The start: keep the dataset and the trigger, then go on to ``then`` unless an older
        execution is running (raw data that one does not read is read by the next run, as
        job bookmarks keep what was read)."""
        own_arn = Stack.of(self).format_arn(service="states", resource="stateMachine",
                                            resource_name=self.name,
                                            arn_format=ArnFormat.COLON_RESOURCE_NAME)  # fmt: skip
        start = sfn.Pass(self, "Start",
                         parameters={"dataset": dataset, "trigger.$": "$", "polls": 0})  # fmt: skip
        list_running = tasks.CallAwsService(
            self,
            "ListRunningExecutions",
            service="sfn",
            action="listExecutions",
            iam_action="states:ListExecutions",
            iam_resources=[own_arn],
            parameters={
                "StateMachineArn": sfn.JsonPath.state_machine_id,
                "StatusFilter": "RUNNING",
            },
            result_selector={"arns.$": "$.Executions[*].ExecutionArn"},
            result_path="$.running",
            task_timeout=CALL_TIMEOUT,
        )
        retry_sfn_busy(list_running)
        list_running.add_catch(states.failure("ListRunningExecutions"), result_path="$.error")
        # ListExecutions lists the newest first: only the oldest running execution goes on.
        find_oldest = sfn.Pass(
            self,
            "FindOldestRun",
            parameters={
                "oldest.$": "States.ArrayGetItem($.running.arns, "
                "States.MathAdd(States.ArrayLength($.running.arns), -1))",
                "self.$": "$$.Execution.Id",
            },
            result_path="$.overlap",
        )
        skip = sfn.Succeed(self, "LeaveItToTheRunningExecution",
                           comment="An older execution is running; raw data it does not read "
                                   "is read by the next run (job bookmarks).")  # fmt: skip
        return start.next(list_running).next(
            sfn.Choice(self, "AnotherRunInProgress?")
            .when(sfn.Condition.is_present("$.running.arns[1]"), find_oldest.next(
                sfn.Choice(self, "OldestRun?")
                .when(sfn.Condition.string_equals_json_path("$.overlap.oldest",
                                                            "$.overlap.self"), then)
                .otherwise(skip)))
            .otherwise(then)
        )  # fmt: skip

    def _state_machine(
        self,
        definition: sfn.IChainable,
        *,
        jobs: int,
        job_timeout_minutes: int,
        log_group: logs.ILogGroup,
        log_execution_data: bool,
    ) -> sfn.StateMachine:
        """The standard state machine: bounded by ``execution_timeout``, traced, every
        execution's events (with their data if ``log_execution_data``) logged to
        ``log_group``."""
        return sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.name,
            comment=f"The pipeline of dataset {self.dataset}: crawl raw, curate, marts, publish.",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            role=ManagedRole(
                self,
                "Role",
                description=f"The {self.name} state machine.",
                assumed_by=trusted_service(self, "states.amazonaws.com"),
            ),
            timeout=execution_timeout(jobs=jobs, job_timeout_minutes=job_timeout_minutes),
            tracing_enabled=True,
            # ALL events, so the log shows every state each run went through (cdk-nag SF1);
            # their data only where the environment asks for it (processing.
            # pipelineLogExecutionData), as it names personal files and repeats error text.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL,
                                include_execution_data=log_execution_data),
        )  # fmt: skip

    def _grant(self, *, started_jobs: list[str], encryption_key: kms.IKey) -> None:
        """What the states' own integrations do not grant: starting the jobs, and the key of
        the encrypted alerts topic."""
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(actions=["glue:StartJobRun"], resources=started_jobs)
        )
        # Publishing to the encrypted topic needs the key (exact actions, no wildcard).
        encryption_key.grant(self.state_machine, "kms:GenerateDataKey", "kms:Decrypt")
        # Tracing and execution logs add X-Ray's and log delivery's calls on "*" to the role.
        allow_wildcards(self.state_machine.role, "pipeline state machine role")
