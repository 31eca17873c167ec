"""The deploy rehearsal: every stack of a synthesized app deployed into moto on 127.0.0.1,
then every resource of every template asked for through its service's API.

    python -m deploy.rehearsal --assembly cdk.out      (or: python3 tasks.py rehearse [ENV])

It needs no AWS account, no network and no Docker, and takes seconds. What it proves: the
templates deploy in the CLI's order with their assets published; every cross-stack
reference names a stack and an output that exist; each resource is created with the
properties that matter, and every bucket, database, job, function, topic, queue, role, key
and state machine it names exists. What it does not: that anyone may do anything (IAM,
bucket and key policies, Lake Formation permissions are not enforced by the emulator), that
a KMS key really encrypts, or that AWS accepts a property moto does not check. A type moto
cannot create and no adapter emulates is listed as not rehearsed, never as passed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy import adapters, emulated_cloud, probes, probes_adapted, references
from deploy.emulated_cloud import RehearsalError, StackArtifact

_ = probes_adapted  # its probes register themselves on import


@dataclass(frozen=True)
class Resource:
    """One resource of one template, and what the rehearsal found of it."""

    stack: str
    logical_id: str
    type: str
    status: str  # "rehearsed", "not rehearsed" or "not created: condition false"
    problems: tuple[str, ...] = ()


@dataclass
class Deployment:
    """The stacks deployed into one emulator, with what each was created from."""

    account: str
    region: str
    aws: Any
    stacks: list[StackArtifact] = field(default_factory=list)
    submitted: dict[str, dict[str, Any]] = field(default_factory=dict)

    def clients(self, service: str) -> Any:
        return adapters.client(service, self.region)


def deploy(assembly: Path, aws: Any, cli_root: Path, only: set[str] | None = None) -> Deployment:
    """Bootstrap, then every stack of ``assembly`` (or those of ``only``) in dependency order,
    its assets published first, within ``adapters.installed()``. Raises ``RehearsalError``
    at the first stack that fails."""
    identity = aws.client("sts").get_caller_identity()
    cloudformation, s3, ssm = aws.client("cloudformation"), aws.client("s3"), aws.client("ssm")
    deployment = Deployment(identity["Account"], cloudformation.meta.region_name, aws)
    emulated_cloud.bootstrap(cloudformation, cli_root)
    version = ssm.get_parameter(Name=emulated_cloud.BOOTSTRAP_VERSION_PARAMETER)["Parameter"]
    for stack in emulated_cloud.stacks_in_order(assembly):
        if only is not None and stack.artifact_id not in only:
            continue
        if stack.assets is not None:
            emulated_cloud.publish_assets(s3, stack.assets, deployment.account, deployment.region)
        template = emulated_cloud.resolve_stack_outputs(stack.template, stack.name, cloudformation)
        emulated_cloud.check_bootstrap_version(template, stack.name, version["Value"])
        emulated_cloud.create(cloudformation, stack, template)
        deployment.stacks.append(stack)
        deployment.submitted[stack.name] = template
    return deployment


def _pseudo(node: Any, account: str, region: str, created: dict[str, str]) -> Any:
    """``node`` with what a probe compares resolved: pseudo parameters (``Ref``,
    ``Fn::Sub``), and a ``Ref`` or ``GetAtt`` of a resource of the stack as its physical id
    (which the APIs the probes call accept for a name or an ARN). Anything else is left."""
    values = {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        **created,
    }
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in values:
            return values[node["Ref"]]
        if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in created:
            return created[node["Fn::GetAtt"][0]]
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            text = node["Fn::Sub"]
            for key, value in values.items():
                text = text.replace("${" + key + "}", value)
            return text if "${" not in text else node
        return {key: _pseudo(value, account, region, created) for key, value in node.items()}
    if isinstance(node, list):
        return [_pseudo(value, account, region, created) for value in node]
    return node


def _check(
    deployment: Deployment,
    stack: str,
    logical_id: str,
    spec: dict[str, Any],
    created: dict[str, str],
) -> Resource:
    type_, physical = spec["Type"], created.get(logical_id)
    if physical is None:
        if "Condition" in spec:
            return Resource(stack, logical_id, type_, "not created: condition false")
        return Resource(stack, logical_id, type_, "rehearsed", ("not in the stack",))
    probe = probes.PROBES.get(type_)
    if adapters.how_rehearsed(type_) == "not rehearsed" or probe is None:
        return Resource(stack, logical_id, type_, "not rehearsed")
    props = _pseudo(spec.get("Properties", {}), deployment.account, deployment.region, created)
    try:
        read, problems = probe(deployment.clients, physical, props)
    except Exception as error:  # whatever the API says, the resource is wrong
        return Resource(
            stack, logical_id, type_, "rehearsed", (f"{physical}: {type(error).__name__}: {error}",)
        )
    problems += references.broken(deployment.clients, read)
    return Resource(stack, logical_id, type_, "rehearsed", tuple(problems))


def verify(deployment: Deployment) -> list[Resource]:
    """Every resource of every deployed template, each asked of its service."""
    cloudformation = deployment.aws.client("cloudformation")
    found = []
    for stack in deployment.stacks:
        created = {
            logical: physical
            for logical, _, physical in emulated_cloud.physical_ids(cloudformation, stack.name)
        }
        template = deployment.submitted[stack.name]
        for logical_id, spec in template["Resources"].items():
            found.append(_check(deployment, stack.name, logical_id, spec, created))
    return found


def counts(resources: list[Resource]) -> Iterator[tuple[str, int, int, str]]:
    """(type, rehearsed, not rehearsed, how) per resource type, by name."""
    by_type: dict[str, Counter[str]] = {}
    for resource in resources:
        by_type.setdefault(resource.type, Counter())[resource.status] += 1
    for type_ in sorted(by_type):
        tally = by_type[type_]
        yield type_, tally["rehearsed"], tally["not rehearsed"], adapters.how_rehearsed(type_)


def _summary(resources: list[Resource]) -> list[str]:
    """The table in three lines: what moto made, what the adapters made, what nothing made."""
    rows = list(counts(resources))
    lines = []
    for how in ("moto", "adapter"):
        made = [(t, n) for t, n, _, h in rows if h == how and n]
        lines.append(f"created by {how}: {len(made)} types, {sum(n for _, n in made)} resources")
    missing = sorted(((t, n) for t, _, n, _ in rows if n), key=lambda row: -row[1])
    lines.append("not rehearsed: " + (", ".join(f"{t} {n}" for t, n in missing) or "none"))
    return lines


def report(resources: list[Resource]) -> str:
    """The counts by type, then each problem with its stack and logical id."""
    lines = [f"{'resource type':44} {'rehearsed':>9} {'not':>5}  created by", "-" * 75]
    for type_, rehearsed, not_rehearsed, how in counts(resources):
        lines.append(f"{type_:44} {rehearsed:>9} {not_rehearsed:>5}  {how}")
    rehearsed = sum(r.status == "rehearsed" for r in resources)
    skipped = sum(r.status == "not rehearsed" for r in resources)
    lines.append(f"{'total':44} {rehearsed:>9} {skipped:>5}")
    lines += _summary(resources)
    for resource in resources:
        for problem in resource.problems:
            lines.append(
                f"PROBLEM {resource.stack} {resource.logical_id} ({resource.type}): {problem}"
            )
    return "\n".join(lines)


def rehearse(assembly: Path, log: Path, workdir: Path, sample: Path) -> int:
    """Deploy, check, run one file through, destroy; print each stage. 1 if anything failed."""
    from deploy import pipeline_run
    from deploy.destroy import destroy, leftovers, named_queries_left
    from local_lake.aws import moto_server

    logging.getLogger("moto").setLevel(logging.CRITICAL)  # its interpreter's notes, not ours
    with moto_server(log) as aws, adapters.installed():
        started = time.monotonic()
        try:
            deployment = deploy(assembly, aws, Path.cwd())
        except RehearsalError as error:
            print(f"REHEARSAL FAILED: {error}")
            return 1
        print(f"deployed {len(deployment.stacks)} stacks in {time.monotonic() - started:.1f} s")
        resources = verify(deployment)
        print(report(resources))
        found = pipeline_run.run(deployment, sample.stem, sample, workdir)
        print(pipeline_run.summary(found))
        run_problems = pipeline_run.went_wrong(found)
        for problem in run_problems:
            print(f"PROBLEM run: {problem}")
        left = leftovers(deployment, destroy(deployment))
        print(
            "destroy     "
            + (
                "nothing left but what the README says is kept"
                if not left
                else "LEFT: " + "; ".join(left)
            )
        )
        if queries := named_queries_left(deployment):
            print(
                f"            ({queries} saved Athena queries stay in the emulator, which "
                "cannot delete them; AWS deletes them with their stack)"
            )
    failed = any(r.problems for r in resources) or bool(left) or bool(run_problems)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.rehearsal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--assembly",
        type=Path,
        default=Path("cdk.out"),
        help="the synthesized cloud assembly (default: cdk.out)",
    )
    parser.add_argument(
        "--sample",
        type=Path,
        default=Path("datasets/samples/orders.csv"),
        help="the file landed after the deploy; its name's stem is its dataset",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("rehearsal"),
        help="where the emulator's log and the function's log go",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    return rehearse(args.assembly, args.workdir / "moto.log", args.workdir, args.sample)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
