"""The states of a dataset's pipeline: the crawl and job-run polling loops, and the states
that record a failure, alert and fail.

``PipelineStates`` builds them in the pipeline construct's own scope, so every state keeps
its name in the definition, and keeps what the loops share: one failure state per name,
the alert every failure ends in, and the jobs the state machine may start.

Jobs are polled rather than run with ``.sync`` so the same definition runs unchanged in the
tests (moto's ``.sync`` support for Glue is broken) and every wait has the same shape.
"""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk_constructs.orchestration.pipeline_bounds import (
    CALL_TIMEOUT,
    CALL_TIMEOUT_SECONDS,
    CRAWLER_POLL,
    CRAWLER_POLLS,
    GLUE_START_THROTTLED,
    JOB_POLL,
    retry_glue_busy,
)

# The curation job fails with this in its error message when a declared rule fails (see
# glue_jobs/raw_to_curated.py; a test holds the two together).
DATA_QUALITY_FAILED = "DATA_QUALITY_FAILED"
JOB_ENDED_BADLY = ("FAILED", "TIMEOUT", "ERROR", "STOPPED", "EXPIRED")


class PipelineStates:
    """Builds the states of the pipeline ``name`` in ``scope``, alerting to ``alerts``.

    Creating it creates the state every failure ends in: alert, then fail the execution.
    """

    def __init__(self, scope: Construct, *, name: str, alerts: sns.ITopic, job_polls: int) -> None:
        """:param job_polls: how many times a job run is polled before the wait fails."""
        self.scope, self.name, self.alerts, self.job_polls = scope, name, alerts, job_polls
        # The ARNs of the jobs the pipeline starts, for the state machine's role.
        self.started_jobs: list[str] = []
        self._failures: dict[str, sfn.IChainable] = {}
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
        ).next(sfn.Fail(scope, "PipelineFailed", error_path="$.failure.name",
                        cause_path="$.failure.cause"))  # fmt: skip

    def data_quality_alert(self) -> sfn.IChainable:
        """Alert that the curation run's rows were held back by a failed quality rule, then
        fail the execution with ``DataQualityFailed``. It reads the run the ``curation`` step
        of ``run_job`` keeps."""
        return self._alert(
            "AlertDataQuality",
            f"{self.name}: data quality failed",
            sfn.JsonPath.format(
                # No apostrophes: they end a States.Format string.
                "Data quality failed for dataset {}: the rows of this run were held back in "
                "the quarantine (dq_failed/) and not published. Job run {}: {}. Execution: {}",
                sfn.JsonPath.string_at("$.dataset"),
                sfn.JsonPath.string_at("$.curation.JobRunId"),
                sfn.JsonPath.string_at("$.curationRun.Run.ErrorMessage"),
                sfn.JsonPath.execution_id,
            ),
        ).next(sfn.Fail(self.scope, "DataQualityFailed", error="DataQualityFailed",
                        cause="declared quality rules failed; see the alert"))  # fmt: skip

    def crawl(self, crawler: glue.CfnCrawler, then: sfn.IChainable) -> sfn.IChainable:
        """Start the crawler (or join a crawl under way) and poll until it is ready again."""
        scope, name = self.scope, str(crawler.name)
        crawler_arn = Stack.of(scope).format_arn(service="glue", resource="crawler",
                                                 resource_name=name)  # fmt: skip
        start = tasks.CallAwsService(
            scope, "CrawlRaw", service="glue", action="startCrawler", iam_resources=[crawler_arn],
            parameters={"Name": name}, result_path=sfn.JsonPath.DISCARD,
            task_timeout=CALL_TIMEOUT,
        )  # fmt: skip
        get = tasks.CallAwsService(
            scope, "GetCrawler", service="glue", action="getCrawler", iam_resources=[crawler_arn],
            parameters={"Name": name}, result_selector={"Crawler.$": "$.Crawler"},
            result_path="$.crawler", task_timeout=CALL_TIMEOUT,
        )  # fmt: skip
        wait = sfn.Wait(scope, "WaitForCrawler", time=sfn.WaitTime.duration(CRAWLER_POLL))
        for task in (start, get):
            retry_glue_busy(task)
        start.add_catch(wait, errors=["Glue.CrawlerRunningException"], result_path="$.error")
        start.add_catch(self.failure("CrawlRaw"), result_path="$.error")
        get.add_catch(self.failure("CrawlRaw"), result_path="$.error")
        count = sfn.Pass(scope, "CountCrawlerPoll", result_path="$.polls",
                         parameters={"n.$": "States.MathAdd($.polls, 1)"})  # fmt: skip
        last_crawl = "$.crawler.Crawler.LastCrawl"
        finished = (
            sfn.Choice(scope, "CrawlerFinished?")
            .when(
                sfn.Condition.string_equals("$.crawler.Crawler.State", "READY"),
                sfn.Choice(scope, "CrawlFailed?")
                .when(
                    sfn.Condition.and_(sfn.Condition.is_present(f"{last_crawl}.Status"),
                                       sfn.Condition.string_equals(f"{last_crawl}.Status",
                                                                   "FAILED")),
                    self.failure("CrawlRaw", name="Crawl", error="CrawlFailed",
                                 **{"cause.$": f"States.JsonToString({last_crawl})"}),
                )
                .otherwise(self._slim("CrawlDone", "$.crawler", "$.crawler.Crawler.State", then)),
            )
            .when(
                sfn.Condition.number_greater_than_equals("$.polls", CRAWLER_POLLS),
                self.failure("CrawlRaw", name="CrawlerWait", error="CrawlerDidNotFinish",
                             cause=f"the crawler was still running after {CRAWLER_POLLS} "
                                   f"polls, {int(CRAWLER_POLLS * CRAWLER_POLL.to_seconds())} s"),
            )
            .otherwise(count.next(sfn.Pass(scope, "KeepCrawlerPollCount", result_path="$.polls",
                                           input_path="$.polls.n")).next(wait))
        )  # fmt: skip
        start.next(wait)
        wait.next(get).next(finished)
        return start

    def run_job(
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
        scope, job_name = self.scope, str(job.name)
        job_arn = Stack.of(scope).format_arn(service="glue", resource="job", resource_name=job_name)
        # The optimized integration, written out: CDK's GlueStartJobRun turns a task timeout
        # into the job run's own timeout instead of the state's.
        start = sfn.CustomState(scope, step, state_json={
            "Type": "Task",
            "Resource": f"arn:{Aws.PARTITION}:states:::glue:startJobRun",
            "Parameters": {"JobName": job_name},
            "ResultSelector": {"JobRunId.$": "$.JobRunId", "polls": 0},
            "ResultPath": f"$.{key}",
            "TimeoutSeconds": CALL_TIMEOUT_SECONDS,
        })  # fmt: skip
        self.started_jobs.append(job_arn)
        get = tasks.CallAwsService(
            scope, f"Get{step}Run", service="glue", action="getJobRun", iam_resources=[job_arn],
            parameters={"JobName": job_name, "RunId.$": f"$.{key}.JobRunId"},
            result_selector={"Run.$": "$.JobRun"}, result_path=f"$.{key}Run",
            task_timeout=CALL_TIMEOUT,
        )  # fmt: skip
        retry_glue_busy(start, GLUE_START_THROTTLED)
        retry_glue_busy(get)
        for task in (start, get):
            task.add_catch(self.failure(step), result_path="$.error")
        wait = sfn.Wait(scope, f"WaitFor{step}", time=sfn.WaitTime.duration(JOB_POLL))
        count = sfn.Pass(
            scope, f"Count{step}Poll", result_path=f"$.{key}",
            parameters={"JobRunId.$": f"$.{key}.JobRunId",
                        "polls.$": f"States.MathAdd($.{key}.polls, 1)"},
        )  # fmt: skip
        finished = self._job_finished(step, key, then, data_quality_failed=data_quality_failed)
        finished.otherwise(count.next(wait))
        start.next(wait)
        wait.next(get).next(finished)
        return start

    def _job_finished(
        self,
        step: str,
        key: str,
        then: sfn.IChainable,
        *,
        data_quality_failed: sfn.IChainable | None,
    ) -> sfn.Choice:
        """Where a look at the run leads: ``then`` when it succeeded, ``data_quality_failed``
        (when given) when a quality rule failed it, a failure when it ended otherwise or the
        polls ran out. The caller adds where a run still going leads."""
        run = f"$.{key}Run.Run"
        ended_badly = sfn.Condition.or_(
            *[sfn.Condition.string_equals(f"{run}.JobRunState", s) for s in JOB_ENDED_BADLY]
        )
        failed = (
            sfn.Choice(self.scope, f"{step}ErrorMessage?")
            .when(sfn.Condition.is_present(f"{run}.ErrorMessage"),
                  self.failure(step, name=f"{step}Run", error="JobRunFailed",
                               **{"cause.$": f"{run}.ErrorMessage"}))
            .otherwise(self.failure(step, name=f"{step}RunEnded", error="JobRunFailed",
                                    **{"cause.$": f"States.Format('the run ended {{}}', "
                                                  f"{run}.JobRunState)"}))
        )  # fmt: skip
        finished = sfn.Choice(self.scope, f"{step}Finished?").when(
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
        return finished.when(ended_badly, failed).when(
            sfn.Condition.number_greater_than_equals(f"$.{key}.polls", self.job_polls),
            self.failure(step, name=f"{step}Wait", error="JobRunDidNotFinish",
                         cause=f"the job run was still going after {self.job_polls} polls"),
        )  # fmt: skip

    def failure(self, step: str, *, name: str | None = None, **why: str) -> sfn.IChainable:
        """A state recording which step failed and why, then alerting and failing. From a
        Catch, why is the caught error and cause; otherwise ``why`` gives ``error`` and
        ``cause`` (or ``cause.$``, a path or intrinsic function)."""
        name = f"{name or step}Failed"
        if name not in self._failures:
            caught = {"error.$": "$.error.Error", "cause.$": "$.error.Cause"}
            self._failures[name] = sfn.Pass(
                self.scope, name, result_path="$.failure",
                parameters={"step": step, "name": f"{step}Failed", **(why or caught)},
            ).next(self._alert_failure)  # fmt: skip
        return self._failures[name]

    def _slim(self, id: str, path: str, state: str, then: sfn.IChainable) -> sfn.IChainable:
        """Replace the last look at a crawler or job run (``path``) by its ``state`` alone
        before going on: the whole description would travel through every later state."""
        return sfn.Pass(self.scope, id, parameters={"State.$": state}, result_path=path).next(then)

    def _alert(self, id: str, subject: str, message: str) -> tasks.SnsPublish:
        """Publish ``message`` to the alerts topic."""
        return tasks.SnsPublish(
            self.scope,
            id,
            topic=self.alerts,
            subject=subject[:99],  # SNS: fewer than 100 characters
            message=sfn.TaskInput.from_text(message),
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=CALL_TIMEOUT,
        )
