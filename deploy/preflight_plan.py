"""What a deploy of the synthesized app will create, read from its cloud assembly.

The preflight compares this with what an account holds today, so it needs the facts a
deploy depends on: the stacks and the account and region they are pinned to, the fixed names
CloudFormation will claim, how many of each counted resource it adds, the bootstrap versions
the templates refuse, and what the governance stack writes into the account's Lake Formation
settings. Everything comes from manifest.json and the templates, never from the CDK code, so
the plan is exactly what `cdk deploy` would send.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_lake.assembly import of_type

# The CDK's default bootstrap qualifier: the execution role and SSM parameter carry it.
QUALIFIER = "hnb659fds"
BOOTSTRAP_PARAMETER = f"/cdk-bootstrap/{QUALIFIER}/version"
# Resource type -> (what the name is called in messages, the property holding a fixed name).
NAMED = {
    "AWS::Glue::Database": ("Glue database", ("DatabaseInput", "Name")),
    "AWS::Athena::WorkGroup": ("Athena workgroup", ("Name",)),
    "AWS::S3::Bucket": ("S3 bucket", ("BucketName",)),
    "AWS::CloudTrail::Trail": ("CloudTrail trail", ("TrailName",)),
    "AWS::StepFunctions::StateMachine": ("state machine", ("StateMachineName",)),
    "AWS::Glue::Job": ("Glue job", ("Name",)),
    "AWS::Glue::Crawler": ("Glue crawler", ("Name",)),
    "AWS::Glue::SecurityConfiguration": ("Glue security configuration", ("Name",)),
    "AWS::IAM::Role": ("IAM role", ("RoleName",)),
}
# What the quota check counts.
COUNTED = {
    "AWS::IAM::Role": "IAM roles",
    "AWS::Glue::Job": "Glue jobs",
    "AWS::Glue::Crawler": "Glue crawlers",
    "AWS::Glue::Database": "Glue databases",
    "AWS::StepFunctions::StateMachine": "state machines",
    "AWS::LakeFormation::Tag": "LF-Tags",
    "AWS::Athena::WorkGroup": "Athena workgroups",
}


@dataclass(frozen=True)
class FixedName:
    """A physical name the app sets itself: CloudFormation fails if something else holds it."""

    kind: str  # a key of NAMED
    name: str
    stack: str  # the stack that creates it


@dataclass(frozen=True)
class LakeSettings:
    """What the app's ``AWS::LakeFormation::DataLakeSettings`` writes (None: no such resource)."""

    mutation_type: str  # APPEND adds admins; anything else replaces the account's list
    admins: list[str]  # ARNs, the CDK execution role resolved for the account and region
    read_only_admins: int  # how many (they are roles of the app's own stacks)
    # None when the template leaves a default-permission list alone; [] turns it off.
    database_defaults: list[Any] | None
    table_defaults: list[Any] | None


@dataclass(frozen=True)
class Plan:
    """The synthesized app, as far as a deploy into one account and region depends on it."""

    env: str
    account: str | None  # pinned by cdk.json, else None (the credentials' account)
    region: str | None  # pinned by cdk.json, else None (boto3's region)
    templates: dict[str, dict[str, Any]]  # stack name -> template
    names: list[FixedName] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # COUNTED label -> how many
    lf_tags: dict[str, list[str]] = field(default_factory=dict)
    refused_bootstrap: set[str] = field(default_factory=set)  # versions the templates refuse
    tables: list[tuple[str, str]] = field(default_factory=list)  # (database, table), fixed
    glue_versions: Counter[str] = field(default_factory=Counter)

    def resource_types(self) -> set[str]:
        return {r["Type"] for t in self.templates.values() for r in t.get("Resources", {}).values()}

    def lake_settings(self, account: str, region: str) -> LakeSettings | None:
        """The governance stack's Lake Formation settings, resolved for ``account`` and
        ``region``; admins that are the app's own roles are left out (they do not exist yet)."""
        for template in self.templates.values():
            for resource in of_type(template, "AWS::LakeFormation::DataLakeSettings"):
                props = resource.get("Properties", {})
                admins = [
                    resolve(a["DataLakePrincipalIdentifier"], account, region)
                    for a in props.get("Admins", [])
                ]
                return LakeSettings(
                    mutation_type=str(props.get("MutationType", "REPLACE")),
                    admins=[a for a in admins if isinstance(a, str)],
                    read_only_admins=len(props.get("ReadOnlyAdmins", [])),
                    database_defaults=props.get("CreateDatabaseDefaultPermissions"),
                    table_defaults=props.get("CreateTableDefaultPermissions"),
                )
        return None


def resolve(value: Any, account: str, region: str) -> Any:
    """A literal, or an ``Fn::Sub`` over the pseudo parameters, as CloudFormation resolves it
    in ``account`` and ``region``; None for anything that depends on another resource."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        known = {"AWS::AccountId": account, "AWS::Region": region, "AWS::Partition": "aws"}
        text = value["Fn::Sub"]
        if all(name in known for name in re.findall(r"\$\{([^}]+)\}", text)):
            return re.sub(r"\$\{([^}]+)\}", lambda m: known[m.group(1)], text)
    return None


def execution_role(account: str, region: str) -> str:
    """The role CloudFormation deploys as, made by `cdk bootstrap`."""
    return f"arn:aws:iam::{account}:role/cdk-{QUALIFIER}-cfn-exec-role-{account}-{region}"


def _refused_versions(template: dict[str, Any]) -> set[str]:
    """The bootstrap versions of the CheckBootstrapVersion rule's ``Fn::Contains`` list."""
    rule = template.get("Rules", {}).get("CheckBootstrapVersion", {})
    refused: set[str] = set()
    for assertion in rule.get("Assertions", []):
        contains = assertion.get("Assert", {}).get("Fn::Not", [{}])[0].get("Fn::Contains")
        if contains:
            refused.update(str(v) for v in contains[0])
    return refused


def _environment(manifest: dict[str, Any]) -> tuple[str | None, str | None]:
    """The account and region the stacks are pinned to (aws://ACCOUNT/REGION), if any."""
    for artifact in manifest["artifacts"].values():
        if artifact["type"] == "aws:cloudformation:stack":
            account, region = artifact["environment"].removeprefix("aws://").split("/")
            return (
                None if account == "unknown-account" else account,
                None if region == "unknown-region" else region,
            )
    raise ValueError("the cloud assembly holds no stack: synthesize the app first")


def read_plan(assembly: Path, env: str) -> Plan:
    """The plan of the cloud assembly in ``assembly`` (a `cdk synth` output folder)."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    account, region = _environment(manifest)
    templates = {
        artifact["properties"].get("stackName", artifact_id): json.loads(
            (assembly / artifact["properties"]["templateFile"]).read_text()
        )
        for artifact_id, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    plan = Plan(env=env, account=account, region=region, templates=templates)
    for stack, template in templates.items():
        plan.refused_bootstrap.update(_refused_versions(template))
        for resource in template.get("Resources", {}).values():
            _read_resource(plan, stack, resource)
    return plan


def _read_resource(plan: Plan, stack: str, resource: dict[str, Any]) -> None:
    type_, props = resource["Type"], resource.get("Properties", {})
    if type_ in COUNTED:
        plan.counts[COUNTED[type_]] = plan.counts.get(COUNTED[type_], 0) + 1
    if type_ in NAMED:
        value: Any = props
        for key in NAMED[type_][1]:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            plan.names.append(FixedName(type_, value, stack))
    if type_ == "AWS::LakeFormation::Tag":
        plan.lf_tags[str(props["TagKey"])] = [str(v) for v in props.get("TagValues", [])]
    if type_ == "AWS::Glue::Table":
        database = _database_name(plan.templates, stack, props.get("DatabaseName"))
        name = props.get("Name", props.get("TableInput", {}).get("Name"))
        if database and isinstance(name, str):
            plan.tables.append((database, name))
    if type_ == "AWS::Glue::Job":
        plan.glue_versions[str(props.get("GlueVersion", "unset"))] += 1


def _database_name(templates: dict[str, dict[str, Any]], stack: str, value: Any) -> str | None:
    """A table's database name: a literal, a ``Ref`` to a Glue database of the same stack, or
    the weak cross-stack ``Fn::GetStackOutput`` of either."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return None
    if "Fn::GetStackOutput" in value:
        output = value["Fn::GetStackOutput"]
        producer = output.get("StackName")
        if producer not in templates:
            return None
        outputs = templates[producer].get("Outputs", {})
        found = outputs.get(output.get("OutputName"), {}).get("Value")
        return _database_name(templates, producer, found)
    resource = templates[stack].get("Resources", {}).get(value.get("Ref"), {})
    if resource.get("Type") == "AWS::Glue::Database":
        name = resource["Properties"]["DatabaseInput"].get("Name")
        return name if isinstance(name, str) else None
    return None
