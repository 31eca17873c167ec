"""The AWS side of ``deploy.forget``: the erasure jobs found, the pipelines asked whether they
run, the request object written and every version of it deleted, the job runs started and
watched, the audit records read back.

Each step takes the clients it needs and a way to print, so the command reads as its steps
and the tests can drive each against moto. Nothing here prints or returns the subject's
value: it goes into the request object and nowhere else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

# The states a Glue job run ends in (GetJobRun's JobRunState); any other one still changes.
ENDED = ("SUCCEEDED", "FAILED", "ERROR", "TIMEOUT", "STOPPED")
Out = Callable[[str], None]


def s3_location(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` as (bucket, key prefix)."""
    if not url.startswith("s3://"):
        raise ValueError(f"{url!r}: expected an s3://bucket/prefix/ URL")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    return bucket, prefix


@dataclass(frozen=True)
class ErasureJob:
    """One dataset's deployed erasure job, and where its requests and records are."""

    dataset: str
    name: str
    request_path: str  # s3://<raw>/_erasure/requests/
    records_path: str  # s3://<audit>/erasure/


def find_jobs(glue: Any, names: dict[str, str]) -> tuple[list[ErasureJob], list[str]]:
    """The job of each dataset (``names``: dataset -> job name) as deployed, and the names of
    those that do not exist. The two paths are the job's own default arguments, so the
    request goes where the deployed job reads it, whatever bucket names the stacks chose."""
    found, missing = [], []
    for dataset, name in names.items():
        try:
            arguments = glue.get_job(JobName=name)["Job"].get("DefaultArguments", {})
        except glue.exceptions.EntityNotFoundException:
            missing.append(name)
            continue
        found.append(ErasureJob(dataset, name, arguments["--request_path"],
                                arguments["--records_path"]))  # fmt: skip
    return found, missing


def running_pipelines(sfn: Any, machines: dict[str, str], out: Out) -> list[str]:
    """Why each pipeline of ``machines`` (dataset -> state machine ARN) keeps the erasure
    from starting: an execution RUNNING, or a question the account would not answer (the
    command then cannot tell, so it does not go on). A state machine that does not exist
    (the dataset deployed without its pipeline, or under another name) is said and passed."""
    reasons = []
    for dataset, arn in machines.items():
        try:
            running = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")
        except sfn.exceptions.StateMachineDoesNotExist:
            out(f"{dataset}: no state machine {arn.rpartition(':')[2]}: nothing runs there")
            continue
        except ClientError as error:
            code = error.response["Error"]["Code"]
            reasons.append(f"{dataset}: cannot tell whether its pipeline runs "
                           f"(ListExecutions answered {code})")  # fmt: skip
            continue
        for execution in running["executions"]:
            reasons.append(f"{dataset}: its pipeline runs ({execution['name']})")
    return reasons


def write_request(s3: Any, locations: Iterable[tuple[str, str]], request: dict[str, str]) -> None:
    """The request object at each (bucket, key) of ``locations``."""
    body = json.dumps(request, sort_keys=True).encode()
    for bucket, key in locations:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def delete_request(s3: Any, bucket: str, key: str) -> int:
    """Delete every version of ``key`` and every delete marker on it, so nothing in the
    versioned raw bucket keeps the value (a plain DeleteObject would only hide it behind a
    marker until the noncurrent versions expire); the number deleted."""
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            if version["Key"] == key:  # the prefix matches longer keys too
                s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])
                deleted += 1
    return deleted


def start_runs(
    glue: Any, jobs: Sequence[ErasureJob], request_id: str, out: Out
) -> tuple[dict[str, str], dict[str, str]]:
    """Start each job with the request's id, its only run argument (Glue and CloudTrail keep
    run arguments, so the value never is one): dataset -> run id of those started, and
    dataset -> why not of those Glue would not start (a run of it still going, say: the job
    takes one at a time)."""
    started, refused = {}, {}
    for job in jobs:
        try:
            run = glue.start_job_run(JobName=job.name, Arguments={"--request_id": request_id})
        except ClientError as error:
            refused[job.dataset] = f"not started: {error.response['Error']['Code']}"
            out(f"{job.dataset}: {job.name} {refused[job.dataset]}")
            continue
        started[job.dataset] = run["JobRunId"]
        out(f"{job.dataset}: started {job.name} run {run['JobRunId']}")
    return started, refused


def watch(
    glue: Any,
    jobs: Sequence[ErasureJob],
    started: dict[str, str],
    out: Out,
    *,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """Ask for each started run's state every ``poll_seconds`` until every run has ended,
    printing each change; dataset -> the state it ended in."""
    names = {job.dataset: job.name for job in jobs}
    states = dict.fromkeys(started, "")
    ended = {}
    while states:
        for dataset in list(states):
            run = glue.get_job_run(JobName=names[dataset], RunId=started[dataset])["JobRun"]
            state = run["JobRunState"]
            if state != states[dataset]:
                detail = f": {run['ErrorMessage']}" if run.get("ErrorMessage") else ""
                out(f"{dataset}: {state}{detail}")
                states[dataset] = state
            if state in ENDED:
                ended[dataset] = states.pop(dataset)
        if states:
            sleep(poll_seconds)
    return ended


def read_record(
    s3: Any, job: ErasureJob, request_id: str
) -> tuple[dict[str, Any] | None, str, str]:
    """The job's audit record of the request (None if not read), where it is, and the code
    S3 answered when it was not read: ``NoSuchKey``, the job wrote none (a run writes its
    record before it ends, even one that fails), or a refusal (these credentials may not
    read the audit store; the security officer may)."""
    bucket, prefix = s3_location(job.records_path)
    key = f"{prefix}{request_id}/{job.dataset}.json"
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        return None, f"s3://{bucket}/{key}", str(error.response["Error"]["Code"])
    return dict(json.loads(body)), f"s3://{bucket}/{key}", ""
