"""What a dataset's pipeline retries, and how long each of its waits may last.

What it retries: a Glue start or call refused for concurrency limits or throttling, and the
listing of running executions refused for throttling, with backoff. Nothing else: a failed
job run would fail the same way again, and the curation job must not run twice over the same
raw files.

Every wait is bounded: the crawler and each job run are polled a bounded number of times
(``getCrawler``, ``getJobRun``), every task has a timeout, and so does the execution. The
numbers live here, apart from the states that use them, because the construct adds them up
into the execution's timeout and the tests hold the synthesized definition to them.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_stepfunctions as sfn

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


def job_polls(job_timeout_minutes: int) -> int:
    """How many times a job run is polled: once a ``JOB_POLL`` for the job's own timeout plus
    ``JOB_START_ALLOWANCE_MINUTES``."""
    return int((job_timeout_minutes + JOB_START_ALLOWANCE_MINUTES) * 60 // JOB_POLL.to_seconds())


def execution_timeout(*, jobs: int, job_timeout_minutes: int) -> Duration:
    """The execution's own timeout: the crawler's polls, each job's polls, and an hour for
    start retries with backoff and for alerting."""
    return Duration.minutes(
        int(CRAWLER_POLLS * CRAWLER_POLL.to_seconds() // 60)
        + jobs * (job_timeout_minutes + JOB_START_ALLOWANCE_MINUTES)
        + 60  # start retries with backoff, alerts
    )


def retry_glue_busy(task: sfn.TaskStateBase | sfn.CustomState, *also: str) -> None:
    """Retry ``GLUE_BUSY`` (and ``also``) up to 5 times, about 30 s, 1, 2, 4 and 8 minutes
    apart (full jitter)."""
    task.add_retry(errors=[*GLUE_BUSY, *also], interval=Duration.seconds(30), backoff_rate=2,
                   max_attempts=5, jitter_strategy=sfn.JitterType.FULL)  # fmt: skip


def retry_sfn_busy(task: sfn.TaskStateBase) -> None:
    """Retry ``SFN_BUSY`` up to 5 times, about 5, 10, 20, 40 and 80 s apart (full jitter)."""
    task.add_retry(errors=list(SFN_BUSY), interval=Duration.seconds(5), backoff_rate=2,
                   max_attempts=5, jitter_strategy=sfn.JitterType.FULL)  # fmt: skip
