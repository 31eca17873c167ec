"""One dataset's pipeline as a Step Functions standard workflow: crawl raw, curate (with the
data-quality verdict), build the marts, publish; alert on every failure.

What it retries: a Glue start or call refused for concurrency limits or throttling, with
backoff. Nothing else: a failed job run would fail the same way again, and the curation job
must not run twice over the same raw files.

Every wait is bounded: the crawler and each job run are polled a bounded number of times
(``getCrawler``, ``getJobRun``), every task has a timeout, and so does the execution. Jobs
are polled rather than run with ``.sync`` so the same definition runs unchanged in the
tests (moto's ``.sync`` support for Glue is broken) and every wait has the same shape.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import acknowledge

# The curation job fails with this in its error message when a declared rule fails (see
# glue_jobs/raw_to_curated.py; a test holds the two together).
DATA_QUALITY_FAILED = "DATA_QUALITY_FAILED"
CRAWLER_POLL = Duration.seconds(30)
CRAWLER_POLLS = 40  # 20 minutes: a crawl of new folders only takes a few
JOB_POLL = Duration.minutes(1)
# Time a Flex job may wait for capacity before it starts, on top of its own timeout.
JOB_START_ALLOWANCE_MINUTES = 30
CALL_TIMEOUT_SECONDS = 120
CALL_TIMEOUT = sfn.Timeout.duration(Duration.seconds(CALL_TIMEOUT_SECONDS))
# Glue refusing a call for the moment: worth retrying with backoff.
GLUE_BUSY = (
    "Glue.ConcurrentRunsExceededException",
    "Glue.ResourceNumberLimitExceededException",
    "Glue.ThrottlingException",
)
# How the optimized glue:startJobRun integration reports throttling ("Rate exceeded ...
# ThrottlingException"): Glue's unmodelled error, so a start retries it too.
GLUE_START_THROTTLED = "Glue.AWSGlueException"
SFN_BUSY = ("Sfn.ThrottlingException",)
# Step Functions allows 80 characters in a state machine's name.
MAX_NAME = 80
JOB_ENDED_BADLY = ("FAILED", "TIMEOUT", "ERROR", "STOPPED", "EXPIRED")


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
    ) -> None:
        """Create the state machine.

        :param name: the state machine's name (alert rules and the overlap check use it).
        :param analytics_job: the marts job, run after curation. Default: none.
        :param job_timeout_minutes: the jobs' own timeout; a job run is polled for that plus
            ``JOB_START_ALLOWANCE_MINUTES``.
        :param alerts: the topic alerts go to.
        :param log_group: the KMS-encrypted log group of execution logs.
        :param encryption_key: the key of the alerts topic.
        """
        super().__init__(scope, id)
        if len(name) > MAX_NAME:
            raise ValueError(
                f"dataset {dataset}: its pipeline would be named {name!r}, {len(name)} "
                f"characters; Step Functions allows {MAX_NAME}: choose a shorter dataset name"
            )
        self.dataset, self.name, self.alerts = dataset, name, alerts
        self._failures: dict[str, sfn.IChainable] = {}
        self._started_jobs: list[str] = []
        self.job_polls = int(
            (job_timeout_minutes + JOB_START_ALLOWANCE_MINUTES) * 60 // JOB_POLL.to_seconds()
        )
        stack = Stack.of(self)
        crawler_arn = stack.format_arn(service="glue", resource="crawler",
                                       resource_name=str(crawler.name))  # fmt: skip
        own_arn = stack.format_arn(service="states", resource="stateMachine", resource_name=name,
                                   arn_format=ArnFormat.COLON_RESOURCE_NAME)  # fmt: skip

        self._alert_failure = self._alert(
            "AlertFailure",
            f"{name}: failed",
            sfn.JsonPath.format(
                "The pipeline of dataset {} failed at step {}. Nothing from this run was "
                "published as good. Error: {}. Cause: {}. Execution: {}",
                sfn.JsonPath.string_at("$.dataset"),
                sfn.JsonPath.string_at("$.failure.step"),
                sfn.JsonPath.string_at("$.failure.error"),
                sfn.JsonPath.string_at("$.failure.cause"),
                sfn.JsonPath.execution_id,
            ),
        ).next(sfn.Fail(self, "PipelineFailed", error_path="$.failure.name",
                        cause_path="$.failure.cause"))  # fmt: skip
        dq_failed = self._alert(
            "AlertDataQuality",
            f"{name}: data quality failed",
            sfn.JsonPath.format(
                # No apostrophes: they end a States.Format string.
                "Data quality failed for dataset {}: the rows of this run were held back in "
                "the quarantine (dq_failed/) and not published. Job run {}: {}. Execution: {}",
                sfn.JsonPath.string_at("$.dataset"),
                sfn.JsonPath.string_at("$.curation.JobRunId"),
                sfn.JsonPath.string_at("$.curationRun.Run.ErrorMessage"),
                sfn.JsonPath.execution_id,
            ),
        ).next(sfn.Fail(self, "DataQualityFailed", error="DataQualityFailed",
                        cause="declared quality rules failed; see the alert"))  # fmt: skip

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
        publish.add_catch(self._failure("PublishDataset"), result_path="$.error")
        after_curation: sfn.IChainable = publish
        if analytics_job is not None:
            after_curation = self._run_job("BuildMarts", "marts", analytics_job, publish)
        curate = self._run_job("Curate", "curation", curation_job, after_curation,
                               data_quality_failed=dq_failed)  # fmt: skip
        crawl = self._crawl(crawler_arn, str(crawler.name), curate)

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
        list_running.add_retry(errors=list(SFN_BUSY), interval=Duration.seconds(5), backoff_rate=2,
                               max_attempts=5, jitter_strategy=sfn.JitterType.FULL)  # fmt: skip
        list_running.add_catch(self._failure("ListRunningExecutions"), result_path="$.error")
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
        definition = start.next(list_running).next(
            sfn.Choice(self, "AnotherRunInProgress?")
            .when(sfn.Condition.is_present("$.running.arns[1]"), find_oldest.next(
                sfn.Choice(self, "OldestRun?")
                .when(sfn.Condition.string_equals_json_path("$.overlap.oldest",
                                                            "$.overlap.self"), crawl)
                .otherwise(skip)))
            .otherwise(crawl)
        )  # fmt: skip
        jobs = 2 if analytics_job is not None else 1
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=name,
            comment=f"The pipeline of dataset {dataset}: crawl raw, curate, marts, publish.",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            role=ManagedRole(
                self,
                "Role",
                description=f"The {name} state machine.",
                assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            ),
            timeout=Duration.minutes(
                int(CRAWLER_POLLS * CRAWLER_POLL.to_seconds() // 60)
                + jobs * (job_timeout_minutes + JOB_START_ALLOWANCE_MINUTES)
                + 60  # start retries with backoff, alerts
            ),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL,
                                include_execution_data=True),
        )  # fmt: skip
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(actions=["glue:StartJobRun"], resources=self._started_jobs)
        )
        # Publishing to the encrypted topic needs the key (exact actions, no wildcard).
        encryption_key.grant(self.state_machine, "kms:GenerateDataKey", "kms:Decrypt")
        acknowledge(
            self.state_machine.role,
            "X-Ray tracing and delivery of execution logs to CloudWatch Logs have no "
            "resource-level permissions; every other action names its job, crawler, topic, "
            "key, event bus or this state machine.",
            "AwsSolutions-IAM5[Resource::*]",
        )

    def _crawl(self, crawler_arn: str, crawler: str, then: sfn.IChainable) -> sfn.IChainable:
        """Start the crawler (or join a crawl under way) and poll until it is ready again."""
        start = tasks.CallAwsService(
            self, "CrawlRaw", service="glue", action="startCrawler", iam_resources=[crawler_arn],
            parameters={"Name": crawler}, result_path=sfn.JsonPath.DISCARD,
            task_timeout=CALL_TIMEOUT,
        )  # fmt: skip
        get = tasks.CallAwsService(
            self, "GetCrawler", service="glue", action="getCrawler", iam_resources=[crawler_arn],
            parameters={"Name": crawler}, result_selector={"Crawler.$": "$.Crawler"},
            result_path="$.crawler", task_timeout=CALL_TIMEOUT,
        )  # fmt: skip
        wait = sfn.Wait(self, "WaitForCrawler", time=sfn.WaitTime.duration(CRAWLER_POLL))
        for task in (start, get):
            self._retry_busy(task)
        start.add_catch(wait, errors=["Glue.CrawlerRunningException"], result_path="$.error")
        start.add_catch(self._failure("CrawlRaw"), result_path="$.error")
        get.add_catch(self._failure("CrawlRaw"), result_path="$.error")
        count = sfn.Pass(self, "CountCrawlerPoll", result_path="$.polls",
                         parameters={"n.$": "States.MathAdd($.polls, 1)"})  # fmt: skip
        last_crawl = "$.crawler.Crawler.LastCrawl"
        finished = (
            sfn.Choice(self, "CrawlerFinished?")
            .when(
                sfn.Condition.string_equals("$.crawler.Crawler.State", "READY"),
                sfn.Choice(self, "CrawlFailed?")
                .when(
                    sfn.Condition.and_(sfn.Condition.is_present(f"{last_crawl}.Status"),
                                       sfn.Condition.string_equals(f"{last_crawl}.Status",
                                                                   "FAILED")),
                    self._failure("CrawlRaw", name="Crawl", error="CrawlFailed",
                                  **{"cause.$": f"States.JsonToString({last_crawl})"}),
                )
                .otherwise(self._slim("CrawlDone", "$.crawler", "$.crawler.Crawler.State", then)),
            )
            .when(
                sfn.Condition.number_greater_than_equals("$.polls", CRAWLER_POLLS),
                self._failure("CrawlRaw", name="CrawlerWait", error="CrawlerDidNotFinish",
                              cause=f"the crawler was still running after {CRAWLER_POLLS} "
                                    f"polls, {int(CRAWLER_POLLS * CRAWLER_POLL.to_seconds())} s"),
            )
            .otherwise(count.next(sfn.Pass(self, "KeepCrawlerPollCount", result_path="$.polls",
                                           input_path="$.polls.n")).next(wait))
        )  # fmt: skip
        start.next(wait)
        wait.next(get).next(finished)
        return start

    def _run_job(
        self,
        step: str,
        key: str,
        job: glue.CfnJob,
        then: sfn.IChainable,
        *,
        data_quality_failed: sfn.IChainable | None = None,
    ) -> sfn.IChainable:
        """Start ``job``, poll its run to its end, then go on to ``then``. The run id and the
        poll count are kept at ``$.<key>``, the last look at the run at ``$.<key>Run``."""
        job_name = str(job.name)
        job_arn = Stack.of(self).format_arn(service="glue", resource="job", resource_name=job_name)
        # The optimized integration, written out: CDK's GlueStartJobRun turns a task timeout
        # into the job run's own timeout instead of the state's.
        start = sfn.CustomState(self, step, state_json={
            "Type": "Task",
            "Resource": f"arn:{Aws.PARTITION}:states:::glue:startJobRun",
            "Parameters": {"JobName": job_name},
            "ResultSelector": {"JobRunId.$": "$.JobRunId", "polls": 0},
            "ResultPath": f"$.{key}",
            "TimeoutSeconds": CALL_TIMEOUT_SECONDS,
        })  # fmt: skip
        self._started_jobs.append(job_arn)
        get = tasks.CallAwsService(
            self, f"Get{step}Run", service="glue", action="getJobRun", iam_resources=[job_arn],
            parameters={"JobName": job_name, "RunId.$": f"$.{key}.JobRunId"},
            result_selector={"Run.$": "$.JobRun"}, result_path=f"$.{key}Run",
            task_timeout=CALL_TIMEOUT,
        )  # fmt: skip
        self._retry_busy(start, GLUE_START_THROTTLED)
        self._retry_busy(get)
        for task in (start, get):
            task.add_catch(self._failure(step), result_path="$.error")
        wait = sfn.Wait(self, f"WaitFor{step}", time=sfn.WaitTime.duration(JOB_POLL))
        count = sfn.Pass(
            self, f"Count{step}Poll", result_path=f"$.{key}",
            parameters={"JobRunId.$": f"$.{key}.JobRunId",
                        "polls.$": f"States.MathAdd($.{key}.polls, 1)"},
        )  # fmt: skip
        run = f"$.{key}Run.Run"
        ended_badly = sfn.Condition.or_(
            *[sfn.Condition.string_equals(f"{run}.JobRunState", s) for s in JOB_ENDED_BADLY]
        )
        failed = (
            sfn.Choice(self, f"{step}ErrorMessage?")
            .when(sfn.Condition.is_present(f"{run}.ErrorMessage"),
                  self._failure(step, name=f"{step}Run", error="JobRunFailed",
                                **{"cause.$": f"{run}.ErrorMessage"}))
            .otherwise(self._failure(step, name=f"{step}RunEnded", error="JobRunFailed",
                                     **{"cause.$": f"States.Format('the run ended {{}}', "
                                                   f"{run}.JobRunState)"}))
        )  # fmt: skip
        finished = sfn.Choice(self, f"{step}Finished?").when(
            sfn.Condition.string_equals(f"{run}.JobRunState", "SUCCEEDED"),
            self._slim(f"{step}Done", f"$.{key}Run", f"{run}.JobRunState", then),
        )
        if data_quality_failed is not None:
            finished.when(
                sfn.Condition.and_(
                    sfn.Condition.string_equals(f"{run}.JobRunState", "FAILED"),
                    sfn.Condition.is_present(f"{run}.ErrorMessage"),
                    sfn.Condition.string_matches(f"{run}.ErrorMessage",
                                                 f"*{DATA_QUALITY_FAILED}*"),
                ),
                data_quality_failed,
            )  # fmt: skip
        finished.when(ended_badly, failed).when(
            sfn.Condition.number_greater_than_equals(f"$.{key}.polls", self.job_polls),
            self._failure(step, name=f"{step}Wait", error="JobRunDidNotFinish",
                          cause=f"the job run was still going after {self.job_polls} polls"),
        ).otherwise(count.next(wait))  # fmt: skip
        start.next(wait)
        wait.next(get).next(finished)
        return start

    def _slim(self, id: str, path: str, state: str, then: sfn.IChainable) -> sfn.IChainable:
        """Replace the last look at a crawler or job run (``path``) by its ``state`` alone
        before going on: the whole description would travel through every later state."""
        return sfn.Pass(self, id, parameters={"State.$": state}, result_path=path).next(then)

    def _retry_busy(self, task: sfn.TaskStateBase | sfn.CustomState, *also: str) -> None:
        """Up to 5 retries, about 30 s, 1, 2, 4 and 8 minutes apart (full jitter)."""
        task.add_retry(errors=[*GLUE_BUSY, *also], interval=Duration.seconds(30), backoff_rate=2,
                       max_attempts=5, jitter_strategy=sfn.JitterType.FULL)  # fmt: skip

    def _alert(self, id: str, subject: str, message: str) -> tasks.SnsPublish:
        return tasks.SnsPublish(
            self,
            id,
            topic=self.alerts,
            subject=subject[:99],  # SNS: fewer than 100 characters
            message=sfn.TaskInput.from_text(message),
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=CALL_TIMEOUT,
        )

    def _failure(self, step: str, *, name: str | None = None, **why: str) -> sfn.IChainable:
        """A state recording which step failed and why, then alerting and failing. From a
        Catch, why is the caught error and cause; otherwise ``why`` gives ``error`` and
        ``cause`` (or ``cause.$``, a path or intrinsic function)."""
        name = f"{name or step}Failed"
        if name not in self._failures:
            caught = {"error.$": "$.error.Error", "cause.$": "$.error.Cause"}
            self._failures[name] = sfn.Pass(
                self, name, result_path="$.failure",
                parameters={"step": step, "name": f"{step}Failed", **(why or caught)},
            ).next(self._alert_failure)  # fmt: skip
        return self._failures[name]
