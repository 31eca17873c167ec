"""One file through what the rehearsal deployed: landing, the deployed ingest function, raw,
and the deployed pipeline's state machine, as far as the emulator goes.

Everything is found the way AWS would route it, not by name: the landing bucket from the
storage stack's outputs, the rule whose deployed pattern matches the file's "Object
Created" event, the function that rule targets, with the handler and environment the
function was deployed with and the code published for it (the rehearsal's checks already
matched its SHA-256 with the function's); then the rule matching the raw file's event, its
input transformer and the state machine it starts. moto runs no Lambda without Docker, so the
function's code runs as the local run runs it (``local_lake.lambda_process``: its own
process, Lambda's environment); moto's Step Functions runs the deployed definition itself.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.adapters_sfn import sdk_integrations_as_in_aws
from deploy.emulated_cloud import outputs
from local_lake import lambda_process


@dataclass
class PipelineRun:
    """What happened to the file, each step read back from the emulator."""

    landed: str
    ingest: dict[str, Any] = field(default_factory=dict)
    raw_object: str = ""
    intact: bool = False  # the raw object holds the landed bytes, every one
    execution_input: dict[str, Any] = field(default_factory=dict)
    states: list[str] = field(default_factory=list)
    status: str = ""  # the execution's status when the rehearsal left it
    stopped: str = ""  # why it went no further
    crawls: list[str] = field(default_factory=list)  # crawlers the run started, and their state


def _event(bucket: str, key: str, version: str | None, account: str, region: str) -> dict[str, Any]:
    """The EventBridge event S3 sends for a new object."""
    return {
        "version": "0",
        "id": "rehearsal",
        "source": "aws.s3",
        "account": account,
        "detail-type": "Object Created",
        "time": "2026-01-01T00:00:00Z",
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "bucket": {"name": bucket},
            "object": {"key": key, **({"version-id": version} if version else {})},
        },
    }


def _targets(events: Any, event: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets of every deployed rule whose pattern matches ``event``, matched by the
    emulator's own EventBridge matcher (moto does not answer TestEventPattern)."""
    from moto.events.models import EventPattern

    found = []
    for rule in events.list_rules()["Rules"]:
        pattern = rule.get("EventPattern")
        if pattern and EventPattern.load(pattern).matches_event(event):  # type: ignore[arg-type]
            found += events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    return found


def _transformed(target: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The input the target receives: the event, or its input transformer's template."""
    transformer = target.get("InputTransformer")
    if not transformer:
        return event
    text = transformer["InputTemplate"]
    for name, path in transformer.get("InputPathsMap", {}).items():
        value: Any = event
        for part in path.removeprefix("$.").split("."):
            value = value[part]
        text = text.replace(f"<{name}>", json.dumps(value))
    return dict(json.loads(text))


def _invoke(deployment: Any, arn: str, event: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """The deployed function's code, handler and environment, handed ``event``."""
    lambda_ = deployment.clients("lambda")
    configuration = lambda_.get_function_configuration(FunctionName=arn)
    code = _published_code(deployment, configuration["FunctionName"])
    bundle = workdir / "function"
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        archive.extractall(bundle)
    environment = {
        **deployment.aws.environment,
        **configuration.get("Environment", {}).get("Variables", {}),
    }
    return lambda_process.invoke(
        bundle, configuration["Handler"], environment, [event], workdir / "function.log"
    )[0]


def _published_code(deployment: Any, function_name: str) -> bytes:
    """The zip the function was created from: its template's ``Code`` in the assets bucket."""
    cloudformation = deployment.aws.client("cloudformation")
    for stack in deployment.stacks:
        for resource in cloudformation.describe_stack_resources(StackName=stack.name)[
            "StackResources"
        ]:
            if resource.get("PhysicalResourceId") == function_name:
                spec = deployment.submitted[stack.name]["Resources"][resource["LogicalResourceId"]]
                key = spec["Properties"]["Code"]["S3Key"]
                bucket = f"cdk-hnb659fds-assets-{deployment.account}-{deployment.region}"
                return bytes(
                    deployment.clients("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
                )
    raise LookupError(f"function {function_name} is in no deployed stack")


def run(
    deployment: Any, dataset: str, sample: Path, workdir: Path, wait: float = 20
) -> PipelineRun:
    """Land ``sample`` as a file of ``dataset`` and follow it as far as the emulator goes."""
    s3, events = deployment.clients("s3"), deployment.clients("events")
    storage = next(s.name for s in deployment.stacks if s.artifact_id == "Storage")
    landing = outputs(deployment.aws.client("cloudformation"), storage)["LandingBucketName"]
    key = f"{dataset}/{sample.name}"
    version = s3.put_object(Bucket=landing, Key=key, Body=sample.read_bytes()).get("VersionId")
    found = PipelineRun(landed=f"s3://{landing}/{key}")
    event = _event(landing, key, version, deployment.account, deployment.region)
    functions = [t for t in _targets(events, event) if ":function:" in t["Arn"]]
    if not functions:
        found.stopped = "no deployed rule sends the landed file to a function"
        return found
    found.ingest = _invoke(
        deployment, functions[0]["Arn"], _transformed(functions[0], event), workdir
    )
    raw = (
        found.ingest.get("bucket")
        or outputs(deployment.aws.client("cloudformation"), storage)["RawBucketName"]
    )
    raw_key = found.ingest["destination"]
    found.intact = s3.get_object(Bucket=raw, Key=raw_key)["Body"].read() == sample.read_bytes()
    found.raw_object = f"s3://{raw}/{raw_key}"
    machines = [
        t
        for t in _targets(events, _event(raw, raw_key, None, deployment.account, deployment.region))
        if ":stateMachine:" in t["Arn"]
    ]
    if not machines:
        found.stopped = "no deployed rule starts a pipeline for the raw file"
        return found
    found.execution_input = _transformed(
        machines[0], _event(raw, raw_key, None, deployment.account, deployment.region)
    )
    port = int(deployment.aws.endpoint.rsplit(":", 1)[1])
    with sdk_integrations_as_in_aws(port):
        _follow(deployment, found, machines[0]["Arn"], wait)
    return found


def _follow(deployment: Any, found: PipelineRun, machine: str, wait: float) -> None:
    """Start the state machine with the rule's input; watch it until it ends, or until it
    enters a Wait state (the pipeline waits 30 s and more for a crawl or a job: the
    rehearsal does not), or until ``wait`` seconds have passed."""
    sfn = deployment.clients("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=machine, input=json.dumps(found.execution_input)
    )["executionArn"]
    deadline = time.monotonic() + wait
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
        history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        waiting = [e for e in history if e["type"] == "WaitStateEntered"]
        if waiting or time.monotonic() > deadline:
            found.stopped = (
                f"left at {waiting[0]['stateEnteredEventDetails']['name']}: the "
                "rehearsal does not wait"
                if waiting
                else f"still running after {wait} s"
            )
            sfn.stop_execution(executionArn=execution, cause=found.stopped)
            break
        time.sleep(0.2)
    glue = deployment.clients("glue")
    found.crawls = [
        f"{name}: {glue.get_crawler(Name=name)['Crawler']['State']}"
        for name in glue.list_crawlers()["CrawlerNames"]
        if glue.get_crawler(Name=name)["Crawler"]["State"] != "READY"
    ]
    history = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    found.states = [
        e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e
    ]
    found.status = sfn.describe_execution(executionArn=execution)["status"]
    failures = [e for e in history if re.search(r"Failed$", e["type"])]
    if failures:
        details = next(v for k, v in failures[-1].items() if k.endswith("EventDetails"))
        found.stopped = f"{details.get('error', '')}: {str(details.get('cause', ''))[:300]}"


def went_wrong(found: PipelineRun) -> list[str]:
    """What a run that went as far as the emulator allows must not show."""
    problems = []
    if found.ingest.get("status") != "ingested":
        problems.append(f"the file was not ingested: {found.ingest or found.stopped}")
    elif not found.intact:
        problems.append(f"{found.raw_object} does not hold the landed bytes")
    if not found.states:
        problems.append(f"no pipeline ran: {found.stopped}")
    elif found.status != "SUCCEEDED" and not found.stopped.startswith("left at "):
        problems.append(f"the pipeline {found.status}: {found.stopped}")
    return problems


def summary(found: PipelineRun) -> str:
    """The run, one line a step, for the rehearsal's report."""
    ingest = found.ingest
    return "\n".join(
        [
            f"landed      {found.landed}",
            f"ingested    {ingest.get('status', '-')}"
            + (f" ({ingest['reason']}: {ingest['detail']})" if ingest.get("reason") else "")
            + (f" -> {found.raw_object}" if found.raw_object else ""),
            f"pipeline    input {json.dumps(found.execution_input)}",
            f"            states {' -> '.join(found.states) or '-'}",
            f"            crawls started: {', '.join(found.crawls) or 'none'}",
            f"            {found.status or '-'}: {found.stopped or 'ended'}",
        ]
    )
