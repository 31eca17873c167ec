"""The cloud assembly deployed into the emulator, as the CDK CLI deploys it into an account.

The order and steps are the CLI's: the bootstrap stack first (CDK's own bootstrap template,
from the pinned CLI), then per stack in dependency order its assets published to the
bootstrap bucket (directories zipped, files as they are) and its template created through
the CloudFormation API. Two things CloudFormation does that moto does not are done here, in
the open: ``Fn::GetStackOutput`` (the app's weak cross-stack references) is read from the
upstream stack's outputs in the emulator, and the ``CheckBootstrapVersion`` rule is
evaluated against the bootstrap version parameter. A reference to a stack that is not
deployed, or to an output it does not have, fails the rehearsal with both names.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

BOOTSTRAP_TEMPLATE = Path("node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml")
BOOTSTRAP_STACK = "CDKToolkit"
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class RehearsalError(Exception):
    """A deploy the rehearsal refuses: what failed, in which stack, and why."""


@dataclass(frozen=True)
class StackArtifact:
    """One stack of the assembly: its id, CloudFormation name, template and asset manifest."""

    artifact_id: str
    name: str
    template: dict[str, Any]
    assets: Path | None


def stacks_in_order(assembly: Path) -> list[StackArtifact]:
    """The assembly's stacks, each after every stack it depends on (as ``cdk deploy --all``)."""
    artifacts = json.loads((assembly / "manifest.json").read_text())["artifacts"]
    stacks = {
        key: value
        for key, value in artifacts.items()
        if value["type"] == "aws:cloudformation:stack"
    }
    graph = {
        key: [d for d in value.get("dependencies", []) if d in stacks]
        for key, value in stacks.items()
    }
    found = []
    for key in TopologicalSorter(graph).static_order():
        properties = stacks[key]["properties"]
        manifests = [
            artifacts[d]["properties"]["file"]
            for d in stacks[key].get("dependencies", [])
            if artifacts.get(d, {}).get("type") == "cdk:asset-manifest"
        ]
        found.append(
            StackArtifact(
                artifact_id=key,
                name=properties.get("stackName", key),
                template=json.loads((assembly / properties["templateFile"]).read_text()),
                assets=assembly / manifests[0] if manifests else None,
            )
        )
    return found


def bootstrap(cloudformation: Any, cli_root: Path) -> str:
    """Create the bootstrap stack from the pinned CLI's template; its assets bucket's name."""
    body = (cli_root / BOOTSTRAP_TEMPLATE).read_text()
    cloudformation.create_stack(
        StackName=BOOTSTRAP_STACK, TemplateBody=body, Capabilities=CAPABILITIES
    )
    return outputs(cloudformation, BOOTSTRAP_STACK)["BucketName"]


def outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def _zipped(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def publish_assets(s3: Any, manifest: Path, account: str, region: str) -> None:
    """Upload each file asset of ``manifest`` to its destination, as cdk-assets does. A
    docker image asset fails: the rehearsal runs without Docker."""
    content = json.loads(manifest.read_text())
    if content.get("dockerImages"):
        raise RehearsalError(f"{manifest.name}: docker image assets cannot be rehearsed")
    for asset in content.get("files", {}).values():
        source = manifest.parent / asset["source"]["path"]
        body = _zipped(source) if asset["source"].get("packaging") == "zip" else source.read_bytes()
        for destination in asset["destinations"].values():
            bucket = (
                destination["bucketName"]
                .replace("${AWS::AccountId}", account)
                .replace("${AWS::Region}", region)
            )
            s3.put_object(Bucket=bucket, Key=destination["objectKey"], Body=body)


def _stack_outputs(cloudformation: Any, consumer: str, name: str) -> dict[str, str]:
    try:
        return outputs(cloudformation, name)
    except cloudformation.exceptions.ClientError as error:
        raise RehearsalError(
            f"{consumer} reads outputs of stack {name}, which is not deployed ({error})"
        ) from error


def resolve_stack_outputs(template: dict[str, Any], consumer: str, cloudformation: Any) -> Any:
    """``template`` with every ``Fn::GetStackOutput`` replaced by the named output's value."""
    cache: dict[str, dict[str, str]] = {}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::GetStackOutput"}:
                reference = node["Fn::GetStackOutput"]
                stack, output = reference["StackName"], reference["OutputName"]
                if stack not in cache:
                    cache[stack] = _stack_outputs(cloudformation, consumer, stack)
                if output not in cache[stack]:
                    raise RehearsalError(
                        f"{consumer} reads output {output} of stack {stack}, which has no such "
                        f"output (it has: {', '.join(sorted(cache[stack])) or 'none'})"
                    )
                return cache[stack][output]
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(value) for value in node]
        return node

    return walk(template)


def check_bootstrap_version(template: dict[str, Any], stack: str, version: str) -> None:
    """The template's ``CheckBootstrapVersion`` rule, evaluated as CloudFormation would."""
    for assertion in (
        template.get("Rules", {}).get("CheckBootstrapVersion", {}).get("Assertions", [])
    ):
        refused = assertion["Assert"]["Fn::Not"][0]["Fn::Contains"][0]
        if version in refused:
            raise RehearsalError(f"{stack}: {assertion['AssertDescription']} (found {version})")


def create(cloudformation: Any, stack: StackArtifact, template: dict[str, Any]) -> None:
    """Create the stack; a status other than CREATE_COMPLETE fails the rehearsal (but a
    complete status proves nothing by itself: the resources are asked for afterwards)."""
    from deploy.adapters import FAILURES

    FAILURES.clear()
    try:
        cloudformation.create_stack(
            StackName=stack.name, TemplateBody=json.dumps(template), Capabilities=CAPABILITIES
        )
    except Exception as error:  # any refusal is the stack's failure
        causes = "; ".join(f"{logical} ({type_}): {why}" for logical, type_, why in FAILURES)
        raise RehearsalError(f"{stack.name} failed to create: {causes or error}") from error
    status = cloudformation.describe_stacks(StackName=stack.name)["Stacks"][0]["StackStatus"]
    if status != "CREATE_COMPLETE":
        raise RehearsalError(f"{stack.name} ended in {status}")


def physical_ids(cloudformation: Any, stack: str) -> Iterator[tuple[str, str, str]]:
    """(logical id, type, physical id) of each resource the stack holds."""
    for resource in cloudformation.describe_stack_resources(StackName=stack)["StackResources"]:
        if "LogicalResourceId" in resource:  # moto lists a resource it skipped without one
            yield (
                resource["LogicalResourceId"],
                resource["ResourceType"],
                resource.get("PhysicalResourceId", ""),
            )
