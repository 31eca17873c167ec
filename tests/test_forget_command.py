"""The forget command against a moto account holding what the dataset stacks deploy for it:
the erasure jobs with their default arguments, the versioned raw bucket, the audit bucket and
the pipelines' state machines. The jobs' own work (glue_jobs/forget_subject.py) is stood in
for by writing the audit records they would write while their runs go on."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws
from moto.moto_api import state_manager

from deploy import forget
from deploy.forget_runs import ErasureJob, delete_request

REGION = "eu-west-1"
RAW, AUDIT = "datalake-sandbox-raw", "datalake-sandbox-audit"
REQUESTS = "_erasure/requests/"
DATASETS = ("clickstream", "orders")  # both declare a subject (datasets/*.toml)
VALUE = "customer-4711"
STATES = ("STARTING", "RUNNING", "SUCCEEDED")
HASH = "9f" * 32  # the record's subject_hash: the jobs' salted hash, never the value


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    """An account where the sandbox is deployed: a forget job per dataset, the buckets."""
    for name in ("AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # A run is STARTING, then RUNNING, each for two questions, then SUCCEEDED: the command waits.
    state_manager.set_transition("glue::job_run", {"progression": "manual", "times": 2})
    with mock_aws(), contextlib.ExitStack() as cleanup:
        cleanup.callback(state_manager.unset_transition, "glue::job_run")
        session = boto3.session.Session(region_name=REGION)
        s3 = session.client("s3")
        for bucket in (RAW, AUDIT):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={
                "LocationConstraint": REGION})  # fmt: skip
            s3.put_bucket_versioning(Bucket=bucket,
                                     VersioningConfiguration={"Status": "Enabled"})  # fmt: skip
        for dataset in DATASETS:
            session.client("glue").create_job(
                Name=f"datalake-sandbox-{dataset}-forget",
                Role="arn:aws:iam::123456789012:role/erasure",
                Command={"Name": "glueetl", "ScriptLocation": "s3://assets/forget_subject.py"},
                DefaultArguments={
                    "--request_path": f"s3://{RAW}/{REQUESTS}",
                    "--records_path": f"s3://{AUDIT}/erasure/",
                    "--subject_column": "customer_id",
                },
            )
        yield session


def pipeline(session: boto3.session.Session, dataset: str) -> str:
    """The dataset's pipeline state machine (moto runs no definition: an execution started
    stays RUNNING until stopped)."""
    return str(
        session.client("stepfunctions").create_state_machine(
            name=f"datalake-sandbox-{dataset}-pipeline",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/pipeline",
        )["stateMachineArn"]
    )


def audit_record(dataset: str, request: dict[str, Any], outcome: str) -> dict[str, Any]:
    """What the job writes to the audit store (the erasure contract's record)."""
    rows = 0 if outcome == "nothing_found" else 3
    zone = {"objects_rewritten": rows, "versions_deleted": rows}
    return {"request_id": request["request_id"], "dataset": dataset,
            "subject_column": "customer_id", "subject_hash": HASH,
            "reason": request["reason"], "requested_by": request["requested_by"],
            "outcome": outcome,
            "zones": {z: zone for z in ("landing", "raw", "quarantine", "curated")},
            "verification": {"objects_searched": 12, "versions_searched": 20,
                             "found": []}}  # fmt: skip


class Jobs:
    """Stands in for the erasure jobs while the command waits: reads the request object as
    each job would, and writes each dataset's audit record (or not, for ``silent`` ones)."""

    def __init__(self, session: boto3.session.Session, outcome: str = "erased",
                 silent: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.s3, self.outcome, self.silent = session.client("s3"), outcome, silent
        self.requests: list[dict[str, Any]] = []

    def __call__(self, seconds: float) -> None:
        assert seconds == 0.5
        listed = self.s3.list_objects_v2(Bucket=RAW, Prefix=REQUESTS).get("Contents", [])
        (entry,) = listed
        request = json.loads(self.s3.get_object(Bucket=RAW, Key=entry["Key"])["Body"].read())
        self.requests.append(request)
        for dataset in DATASETS:
            if dataset not in self.silent:
                key = f"erasure/{request['request_id']}/{dataset}.json"
                body = json.dumps(audit_record(dataset, request, self.outcome))
                self.s3.put_object(Bucket=AUDIT, Key=key, Body=body)


def run(
    session: boto3.session.Session,
    *args: str,
    stdin: str = "",
    sleep: Callable[[float], None] | None = None,
) -> tuple[int, list[str]]:
    lines: list[str] = []
    status = forget.main(["--env", "sandbox", "--poll-seconds", "0.5", *args],
                         stdin=io.StringIO(stdin), session=session, out=lines.append,
                         sleep=sleep or Jobs(session))  # fmt: skip
    return status, lines


def requests_left(session: boto3.session.Session) -> list[dict[str, Any]]:
    """Every version and delete marker under the request prefix."""
    listed = session.client("s3").list_object_versions(Bucket=RAW, Prefix=REQUESTS)
    return [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]


def job_runs(session: boto3.session.Session) -> dict[str, list[dict[str, Any]]]:
    glue = session.client("glue")
    return {d: glue.get_job_runs(JobName=f"datalake-sandbox-{d}-forget")["JobRuns"]
            for d in DATASETS}  # fmt: skip


def test_the_value_reaches_the_jobs_in_a_request_object_whose_every_version_is_then_deleted(
    aws: boto3.session.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline(aws, "orders")  # clickstream's pipeline is not deployed: said, not refused
    jobs = Jobs(aws)
    status, lines = run(aws, "--subject-value", VALUE, "--reason", "ticket 42", sleep=jobs)
    assert status == 0, "\n".join(lines)
    request = jobs.requests[0]
    assert request["subject_value"] == VALUE
    assert request["reason"] == "ticket 42"
    assert request["requested_by"] == "arn:aws:sts::123456789012:user/moto"
    assert request["requested_at"].endswith("+00:00")
    assert requests_left(aws) == []
    for dataset, runs in job_runs(aws).items():
        (only,) = runs
        defaults = aws.client("glue").get_job(JobName=only["JobName"])["Job"]["DefaultArguments"]
        # moto shows a run's arguments merged over the job's defaults, as Glue runs them
        added = {k: v for k, v in only["Arguments"].items() if defaults.get(k) != v}
        assert added == {"--request_id": request["request_id"]}, dataset
        assert not any(VALUE in value for value in only["Arguments"].values())
    assert not any(VALUE in line for line in lines)
    pipelines = "clickstream: no state machine datalake-sandbox-clickstream-pipeline"
    assert f"{pipelines}: nothing runs there" in lines
    where = f"s3://{AUDIT}/erasure/{request['request_id']}/orders.json"
    assert f"orders: erased, subject {HASH} ({where})" in lines
    assert "  curated: objects_rewritten: 3, versions_deleted: 3" in lines
    assert "  verification: objects_searched: 12, versions_searched: 20, found: []" in lines
    assert [line for line in lines if line in (f"orders: {s}" for s in STATES)] == [
        "orders: STARTING", "orders: RUNNING", "orders: SUCCEEDED"]  # fmt: skip
    deleted = f"s3://{RAW}/{REQUESTS}{request['request_id']}.json deleted (1 versions)"
    assert f"request {deleted}: the value is gone" in lines
    assert not any(line.startswith("nothing to do") for line in lines)
    assert "a value on the command line stays in the shell's history" in capsys.readouterr().err


def test_the_value_is_read_from_stdin_and_nothing_found_anywhere_is_said_plainly(
    aws: boto3.session.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    jobs = Jobs(aws, outcome="nothing_found")
    status, lines = run(aws, "--subject-value", "-", "--reason", "r", stdin=f"  {VALUE}\n",
                        sleep=jobs)  # fmt: skip
    assert status == 0
    assert jobs.requests[0]["subject_value"] == VALUE
    assert lines[-1] == f"nothing to do: {HASH} was found in no zone of clickstream, orders"
    assert not any(VALUE in line for line in lines)
    assert "command line" not in capsys.readouterr().err


def test_a_value_typed_at_a_terminal_is_asked_for_without_echo(
    aws: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("getpass.getpass", lambda prompt: f"{VALUE}\n")
    jobs, lines = Jobs(aws), list[str]()
    status = forget.main(["--env", "sandbox", "--subject-value", "-", "--reason", "r",
                          "--poll-seconds", "0.5"], stdin=Terminal(), session=aws,
                         out=lines.append, sleep=jobs)  # fmt: skip
    assert status == 0, "\n".join(lines)
    assert jobs.requests[0]["subject_value"] == VALUE


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["--subject-value", "  ", "--reason", "r"], "", "--subject-value: expected"),
        (["--subject-value", "-", "--reason", "r"], "\n", "--subject-value: expected"),
        (["--subject-value", VALUE, "--reason", " "], "", "--reason: expected why"),
    ],
)
def test_an_empty_value_or_reason_is_refused_with_what_is_expected(
    aws: boto3.session.Session,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    stdin: str,
    expected: str,
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(aws, *args, stdin=stdin)
    assert exited.value.code == 2
    assert expected in capsys.readouterr().err
    assert job_runs(aws) == {d: [] for d in DATASETS}


def test_without_a_dataset_declaring_a_subject_nothing_is_started(
    aws: boto3.session.Session, tmp_path: Path
) -> None:
    text = (forget.ROOT / "datasets" / "orders.toml").read_text()
    (tmp_path / "orders.toml").write_text(
        "\n".join(ln for ln in text.splitlines() if not ln.startswith("subject ="))
    )
    status, lines = run(aws, "--subject-value", VALUE, "--reason", "r", "--datasets",
                        str(tmp_path))  # fmt: skip
    assert (status, lines) == (0, ["no dataset declares a subject column: nothing to erase, "
                                   "nothing changed"])  # fmt: skip
    assert job_runs(aws) == {d: [] for d in DATASETS}
    assert requests_left(aws) == []


def test_a_job_not_deployed_stops_the_command_before_anything_is_written(
    aws: boto3.session.Session,
) -> None:
    aws.client("glue").delete_job(JobName="datalake-sandbox-orders-forget")
    status, lines = run(aws, "--subject-value", VALUE, "--reason", "r")
    assert status == 1
    assert lines == ["no Glue job datalake-sandbox-orders-forget: deploy first (the erasure "
                     "job comes with the dataset's stack)"]  # fmt: skip
    assert requests_left(aws) == []
    glue = aws.client("glue")
    assert glue.get_job_runs(JobName="datalake-sandbox-clickstream-forget")["JobRuns"] == []


def test_a_running_pipeline_is_a_refusal_that_says_why(aws: boto3.session.Session) -> None:
    sfn = aws.client("stepfunctions")
    sfn.start_execution(stateMachineArn=pipeline(aws, "clickstream"), name="nightly")
    status, lines = run(aws, "--subject-value", VALUE, "--reason", "r")
    assert status == 1
    assert lines[-1] == (
        "refused: clickstream: its pipeline runs (nightly); a running curation could commit "
        "the person's rows again after the erasure: try again once it has ended"
    )
    assert requests_left(aws) == []
    assert job_runs(aws) == {d: [] for d in DATASETS}


def test_a_job_that_wrote_no_record_fails_the_command_and_the_request_is_deleted_still(
    aws: boto3.session.Session,
) -> None:
    status, lines = run(aws, "--subject-value", VALUE, "--reason", "r",
                        sleep=Jobs(aws, silent=("orders",)))  # fmt: skip
    assert status == 1
    assert any(line.startswith("orders: no record at s3://") for line in lines)
    assert any(line.startswith("clickstream: erased") for line in lines)
    assert requests_left(aws) == []


def test_a_job_glue_will_not_start_fails_the_command_once_the_others_have_ended(
    aws: boto3.session.Session,
) -> None:
    aws.client("glue").start_job_run(JobName="datalake-sandbox-orders-forget")  # still STARTING
    status, lines = run(aws, "--subject-value", VALUE, "--reason", "r")
    assert status == 1
    assert ("orders: datalake-sandbox-orders-forget not started: "
            "ConcurrentRunsExceededException") in lines  # fmt: skip
    assert "clickstream: SUCCEEDED" in lines
    assert requests_left(aws) == []


def test_the_request_is_deleted_even_when_the_command_is_interrupted(
    aws: boto3.session.Session,
) -> None:
    def interrupted(seconds: float) -> None:
        assert len(aws.client("s3").list_objects_v2(Bucket=RAW, Prefix=REQUESTS)["Contents"]) == 1
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(aws, "--subject-value", VALUE, "--reason", "r", sleep=interrupted)
    assert requests_left(aws) == []


def test_every_version_and_delete_marker_of_the_request_goes_and_nothing_else(
    aws: boto3.session.Session,
) -> None:
    s3, key = aws.client("s3"), f"{REQUESTS}abc.json"
    for body in (b"1", b"2"):
        s3.put_object(Bucket=RAW, Key=key, Body=body)
    s3.delete_object(Bucket=RAW, Key=key)  # a delete marker over the two versions
    s3.put_object(Bucket=RAW, Key=f"{key}.other", Body=b"3")
    assert delete_request(s3, RAW, key) == 3
    assert [v["Key"] for v in requests_left(aws)] == [f"{key}.other"]


def test_a_record_these_credentials_may_not_read_is_said_where_it_is_and_fails_nothing(
    aws: boto3.session.Session,
) -> None:
    s3 = aws.client("s3")
    jobs = [ErasureJob(d, f"datalake-sandbox-{d}-forget", f"s3://{RAW}/{REQUESTS}",
                       f"s3://{AUDIT}/erasure/") for d in DATASETS]  # fmt: skip
    request = {"request_id": "r1", "reason": "r", "requested_by": "me"}
    body = json.dumps(audit_record("orders", request, "nothing_found")).encode()
    with Stubber(s3) as stubbed:
        stubbed.add_client_error("get_object", "AccessDenied", http_status_code=403)
        stubbed.add_response("get_object", {"Body": StreamingBody(io.BytesIO(body), len(body))})
        lines: list[str] = []
        assert forget._report(lambda service: s3, jobs, "r1", lines.append) is True
    assert lines[0] == ("clickstream: record not read (AccessDenied); it is at "
                        f"s3://{AUDIT}/erasure/r1/clickstream.json")  # fmt: skip
    assert lines[1].startswith("orders: nothing_found")
    assert not any(line.startswith("nothing to do") for line in lines)  # clickstream unknown
