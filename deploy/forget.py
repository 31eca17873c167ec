"""Asks a deployed environment to forget a person: one data subject's rows erased from every
dataset that declares a subject column, in every zone, each erasure recorded in the audit store.

    python -m deploy.forget --env sandbox --subject-value - --reason "ticket 2026-042"
    (or: python3 tasks.py forget [ENV] --subject-value - --reason TEXT)

The work is the datasets' erasure jobs' (``glue_jobs/forget_subject.py``); the command hands
them the request and waits for them. The value reaches the jobs through a request object in
the raw bucket, never as a job argument: Glue keeps a run's arguments and CloudTrail records
them, and neither may hold the identifier of someone who asked to be forgotten. The object
lives as long as the runs do; once they have ended, whatever happened, every version of it is
deleted. ``--subject-value -`` reads the value from stdin, which keeps it out of the shell's
history and the process list as well; nothing the command prints shows it.

It refuses while a dataset's pipeline runs: a curation that read the person's raw rows before
the erasure could commit them again after it. Credentials are boto3's default ones (the
engineer persona may run erasures); the region is the cdk.json environment's, else boto3's.
Exit status: 0 when every job succeeded and wrote its record, 1 otherwise, 2 for a wrong
command line.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import boto3

from deploy.forget_runs import (
    ErasureJob,
    Out,
    delete_request,
    find_jobs,
    read_record,
    running_pipelines,
    s3_location,
    start_runs,
    watch,
    write_request,
)
from model.config import EnvironmentConfig
from model.datasets import Dataset
from model.declarations import load_datasets
from model.environments import load_config

ROOT = Path(__file__).resolve().parent.parent


def _arguments(argv: Sequence[str] | None, stdin: TextIO) -> argparse.Namespace:
    """The command line, the value read from stdin for ``-``; exit 2 for an empty value or
    reason (an erasure of nobody, or one no one could later account for)."""
    parser = argparse.ArgumentParser(prog="python -m deploy.forget", description=__doc__)
    parser.add_argument("--env", required=True, help="the environment of cdk.json deployed")
    parser.add_argument("--subject-value", required=True, metavar="VALUE",
                        help="the person's value of each dataset's subject column, as the "
                        "source sends it; - reads one line from stdin")  # fmt: skip
    parser.add_argument("--reason", required=True, help="why, for the audit record")
    parser.add_argument("--poll-seconds", type=float, default=30.0,
                        help="how often to ask for the job runs' state (default 30)")  # fmt: skip
    parser.add_argument("--datasets", type=Path, default=None,
                        help="the declarations deployed (default: cdk.json's datasets "
                        "context value, else datasets/)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.subject_value != "-":
        print(
            "note: a value on the command line stays in the shell's history and, while this "
            "runs, the process list; --subject-value - reads it from stdin",
            file=sys.stderr,
        )
    if args.subject_value == "-":  # typed at a terminal, it is not echoed either
        tty = stdin.isatty()
        args.subject_value = getpass.getpass("the person's value: ") if tty else stdin.readline()
    args.subject_value, args.reason = args.subject_value.strip(), args.reason.strip()
    if not args.subject_value:
        parser.error("--subject-value: expected the person's value, or - and the value on stdin")
    if not args.reason:
        parser.error("--reason: expected why the person is forgotten (the audit record keeps it)")
    return args


def settings(env: str, datasets: Path | None) -> tuple[EnvironmentConfig, list[Dataset]]:
    """The environment's configuration, as cdk.json defines it, and the declared datasets
    with a subject column (the only ones deployed with an erasure job)."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    config = load_config({**context, "env": env})
    folder = datasets or ROOT / str(context.get("datasets") or "datasets")
    return config, [d for d in load_datasets(folder) if d.subject]


def _ready(
    aws: Callable[[str], Any], config: EnvironmentConfig, names: list[str], caller: str, out: Out
) -> list[ErasureJob] | None:
    """The datasets' deployed jobs, when every one exists and no pipeline of theirs runs;
    else None, with the reasons printed."""
    jobs, missing = find_jobs(aws("glue"), {n: config.resource_name(f"{n}-forget") for n in names})
    for name in missing:
        out(f"no Glue job {name}: deploy first (the erasure job comes with the dataset's stack)")
    if missing:
        return None
    partition, account = caller.split(":")[1], caller.split(":")[4]
    region = aws("stepfunctions").meta.region_name
    machines = {n: f"arn:{partition}:states:{region}:{account}:stateMachine:"
                   f"{config.resource_name(f'{n}-pipeline')}" for n in names}  # fmt: skip
    refusals = running_pipelines(aws("stepfunctions"), machines, out)
    for reason in refusals:
        out(f"refused: {reason}; a running curation could commit the person's rows again "
            "after the erasure: try again once it has ended")  # fmt: skip
    return None if refusals else jobs


def _erase(
    aws: Callable[[str], Any],
    jobs: list[ErasureJob],
    request: dict[str, str],
    out: Out,
    **polling: Any,
) -> dict[str, str]:
    """Write the request, start every job and watch it end; then, whatever happened, delete
    every version of the request. Dataset -> the state its run ended in, or why none ran."""
    s3, glue = aws("s3"), aws("glue")
    locations = sorted({s3_location(job.request_path) for job in jobs})
    objects = [(bucket, f"{prefix}{request['request_id']}.json") for bucket, prefix in locations]
    try:
        write_request(s3, objects, request)
        started, refused = start_runs(glue, jobs, request["request_id"], out)
        return {**refused, **watch(glue, jobs, started, out, **polling)}
    finally:
        for bucket, key in objects:
            deleted = delete_request(s3, bucket, key)
            out(f"request s3://{bucket}/{key} deleted ({deleted} versions): the value is gone")


def _report(aws: Callable[[str], Any], jobs: list[ErasureJob], request_id: str, out: Out) -> bool:
    """Print each job's audit record; whether every record is there (one these credentials
    may not read is there: the run wrote it before it ended, and its place is printed)."""
    complete, hashes, outcomes = True, set(), []
    for job in jobs:
        record, where, code = read_record(aws("s3"), job, request_id)
        if record is None:
            written = code not in ("NoSuchKey", "404")
            complete = complete and written
            out(f"{job.dataset}: record not read ({code}); it is at {where}" if written
                else f"{job.dataset}: no record at {where}: the job wrote none")  # fmt: skip
            continue
        hashes.add(str(record["subject_hash"]))
        outcomes.append(record["outcome"])
        out(f"{job.dataset}: {record['outcome']}, subject {record['subject_hash']} ({where})")
        for zone, figures in record["zones"].items():
            out(f"  {zone}: " + ", ".join(f"{k}: {v}" for k, v in figures.items()))
        out("  verification: " + ", ".join(f"{k}: {v}" for k, v in record["verification"].items()))
    if outcomes == ["nothing_found"] * len(jobs):  # every record read, and each says so
        names = ", ".join(job.dataset for job in jobs)
        out(f"nothing to do: {', '.join(sorted(hashes))} was found in no zone of {names}")
    return complete


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    session: boto3.session.Session | None = None,
    out: Out = print,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    args = _arguments(argv, stdin or sys.stdin)
    try:
        config, datasets = settings(args.env, args.datasets)
    except ValueError as error:  # a configuration or declaration error, which names its file
        raise SystemExit(str(error)) from error
    if not datasets:
        out("no dataset declares a subject column: nothing to erase, nothing changed")
        return 0
    session = session or boto3.session.Session(region_name=config.region)
    if not session.region_name:
        raise SystemExit("cdk.json pins no region and boto3 has none: set AWS_REGION")
    clients: dict[str, Any] = {}

    def aws(service: str) -> Any:
        if service not in clients:
            clients[service] = session.client(service)
        return clients[service]

    identity = aws("sts").get_caller_identity()
    if config.account and identity["Account"] != config.account:
        out(f"{identity['Arn']} is in account {identity['Account']}; {args.env} is in "
            f"{config.account}: use credentials for that account")  # fmt: skip
        return 1
    jobs = _ready(aws, config, [d.name for d in datasets], identity["Arn"], out)
    if jobs is None:
        return 1
    request = {"request_id": str(uuid.uuid4()), "subject_value": args.subject_value,
               "reason": args.reason, "requested_by": identity["Arn"],
               "requested_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    out(f"request {request['request_id']}: forget a person in "
        f"{', '.join(j.dataset for j in jobs)}, by {identity['Arn']}: {args.reason}")  # fmt: skip
    ended = _erase(aws, jobs, request, out, poll_seconds=args.poll_seconds, sleep=sleep)
    complete = _report(aws, jobs, request["request_id"], out)
    return 0 if complete and set(ended.values()) == {"SUCCEEDED"} else 1


if __name__ == "__main__":
    sys.exit(main())
