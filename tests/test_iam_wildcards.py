"""Every grant on "*" is pinned, forced by its service and used; every service trust carries the
confused-deputy condition its service documents."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from aws_cdk import aws_iam as iam
from parliament import iam_definition

from blueprint.factory import Blueprint
from cdk_constructs.common.service_trust import UNCONDITIONED, trusted_service
from cdk_constructs.common.wildcards import (
    PINNED,
    REASON,
    WHY,
    allow_wildcards,
    wildcard_statement,
)
from tests.conftest import built, make_blueprint
from tests.iam_policies import documents, used, violations
from tests.test_compliance import acknowledgments
from tests.test_warehouse import warehouse
from tools.markdown import DOCS, replace_block, table

CONFIGURATIONS = ("sandbox", "prod", "sandbox-with-warehouse", "prod-with-warehouse")


@cache
def configuration(name: str) -> Blueprint:
    env, _, warehouse_on = name.partition("-with-")
    return warehouse(env) if warehouse_on else built(env)


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_every_grant_on_every_resource_is_pinned(name: str) -> None:
    assert violations(configuration(name)) == []


def test_every_pinned_action_is_granted_somewhere() -> None:
    granted = set().union(*(used(configuration(name)) for name in CONFIGURATIONS))
    pinned = {(kind, action) for kind, actions in PINNED.items() for action in actions}
    assert pinned - granted == set(), "pinned but granted nowhere: remove from the list"


def test_the_check_fails_on_a_grant_nobody_pinned() -> None:
    """What a careless change looks like: the curation role given PassRole, DeleteDatabase
    and Decrypt on "*"; synth (with the nag packs' acknowledgment) would not stop it."""
    blueprint = make_blueprint("sandbox")
    role = blueprint.dataset_stacks["orders"].curation.role
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole", "glue:DeleteDatabase", "kms:Decrypt"], resources=["*"]
        )
    )
    (found,) = violations(blueprint)
    assert found == (
        "Dataset-orders/Curation/Role/Policy/Resource (curation job role): "
        "glue:DeleteDatabase, iam:PassRole, kms:Decrypt on *"
    )


def test_the_check_fails_on_a_pinned_action_in_a_role_of_another_kind() -> None:
    blueprint = make_blueprint("prod")
    role = blueprint.dataset_stacks["orders"].curation.role
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["lakeformation:GetDataAccess"], resources=["*"])
    )
    assert violations(blueprint) == [
        "Dataset-orders/Curation/Role/Policy/Resource (curation job role): "
        "lakeformation:GetDataAccess on *"
    ]


@pytest.mark.parametrize(
    "statement",
    [
        {"actions": ["athena:ListWorkGroups"], "resources": ["*"]},
        {"actions": ["s3:GetObject"], "not_resources": ["arn:aws:s3:::nothing/*"]},
    ],
    ids=["unregistered role", "NotResource"],
)
def test_the_check_fails_on_a_role_without_a_kind_or_a_not_resource(
    statement: dict[str, Any],
) -> None:
    blueprint = make_blueprint("sandbox")
    role = iam.Role(
        blueprint.storage, "Stray", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com")
    )
    role.add_to_policy(iam.PolicyStatement(**statement))
    (found,) = violations(blueprint)
    assert found.startswith("Storage/Stray/DefaultPolicy/Resource")


def test_a_statement_on_every_resource_takes_pinned_actions_only() -> None:
    assert wildcard_statement("warehouse role", ["lakeformation:GetDataAccess"]).to_json() == {
        "Action": "lakeformation:GetDataAccess",
        "Effect": "Allow",
        "Resource": "*",
    }
    with pytest.raises(ValueError, match=r"^iam:PassRole on \* is not pinned for the warehouse"):
        wildcard_statement("warehouse role", ["lakeformation:GetDataAccess", "iam:PassRole"])


def test_an_unknown_kind_is_refused() -> None:
    blueprint = make_blueprint("sandbox")
    with pytest.raises(ValueError, match=r"Storage: unknown wildcard kind 'janitor role'"):
        allow_wildcards(blueprint.storage, "janitor role")


def _resource_types(action: str) -> list[str] | None:
    prefix, name = action.split(":")
    for service in iam_definition:
        if service["prefix"] == prefix:
            for privilege in service["privileges"]:
                if privilege["privilege"].lower() == name.lower():
                    return [r["resource_type"] for r in privilege["resource_types"]]
    return None


@pytest.mark.parametrize("action", sorted(WHY))
def test_each_pinned_action_has_no_resource_type_in_aws_iam_definitions(action: str) -> None:
    """AWS's definitions (bundled with parliament) list no resource type for the action, so a
    statement can only grant it on "*"; a condition key alone (cloudwatch:namespace) is not
    a resource type."""
    assert _resource_types(action) == [""], f"{action} can be scoped: name its resource"


def test_each_pinned_action_has_its_reason_once() -> None:
    pinned = {action for actions in PINNED.values() for action in actions}
    assert pinned == set(WHY)
    assert all(len(why.split()) >= 3 for why in WHY.values())


@pytest.mark.parametrize("env", ["sandbox", "prod"])
def test_every_resource_wildcard_acknowledgment_is_the_pinned_one(env: str) -> None:
    """cdk-nag's Resource::* finding is acknowledged with the one shared reason, on roles and
    policies registered with a kind only; so no acknowledgment admits an unpinned action."""
    blueprint = configuration(env)
    kinds = {d.path.rsplit("/", 2)[0] for d in documents(blueprint) if d.kinds}
    kinds |= {d.path.rsplit("/", 1)[0] for d in documents(blueprint) if d.kinds}
    stars = [(p, r) for p, f, r in acknowledgments(blueprint) if f.endswith("[Resource::*]")]
    assert stars
    for path, reason in stars:
        assert reason == REASON, path
        assert path in kinds, f"{path} acknowledges Resource::* without a pinned kind"


# Trust policies: the condition each service documents (service_trust.py cites the pages).
ACCOUNT = {"Ref": "AWS::AccountId"}
CONDITIONED = {
    "states.amazonaws.com": ("aws:SourceAccount", ":states:", ":stateMachine:*"),
    "scheduler.amazonaws.com": ("aws:SourceAccount", None, None),
    "events.amazonaws.com": ("aws:SourceAccount", None, None),
    "lakeformation.amazonaws.com": ("aws:SourceAccount", ":lakeformation:", ":*"),
    "vpc-flow-logs.amazonaws.com": ("aws:SourceAccount", ":ec2:", ":vpc-flow-log/*"),
    "firehose.amazonaws.com": ("sts:ExternalId", None, None),
    "cloudtrail.amazonaws.com": ("aws:SourceAccount", None, None),
}


def _flat(value: Any) -> str:
    """An intrinsic ARN as text, references as their names."""
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(_flat(part) for part in value["Fn::Join"][1])
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    return str(value)


@pytest.mark.parametrize("name", CONFIGURATIONS)
def test_every_service_trust_names_its_source_where_the_service_documents_one(name: str) -> None:
    seen = set()
    for document in documents(configuration(name)):
        if not document.trust:
            continue
        for statement in document.document["Statement"]:
            services = statement["Principal"].get("Service", [])
            services = services if isinstance(services, list) else [services]
            seen |= set(services)
            if all(service in UNCONDITIONED for service in services):
                continue
            (service,) = services
            condition = statement.get("Condition", {})
            if service == "glue.amazonaws.com" or _cdk_provider(document.path):
                continue
            assert service in CONDITIONED, f"{document.path}: {service} trusted without review"
            key, service_part, resource_part = CONDITIONED[service]
            assert condition["StringEquals"] == {key: ACCOUNT}, document.path
            if service_part:
                arn = _flat(condition["ArnLike"]["aws:SourceArn"])
                assert re.fullmatch(
                    rf"arn:<AWS::Partition>{service_part}<AWS::Region>:<AWS::AccountId>"
                    + re.escape(resource_part),
                    arn,
                ), arn
            else:
                assert "ArnLike" not in condition, document.path
    assert {"states.amazonaws.com", "firehose.amazonaws.com"} <= seen


def _cdk_provider(path: str) -> bool:
    """CDK's own custom-resource provider (auto-delete of sandbox buckets): CDK writes its
    trust policy, a Lambda execution role, which Lambda documents no condition for."""
    return "CustomResourceProvider" in path


def test_glue_roles_trust_glue_with_the_account_only_where_glue_documents_it() -> None:
    """Table optimizers: Glue documents aws:SourceAccount; jobs and crawlers: nothing."""
    glue = "glue.amazonaws.com"
    trusts = {
        d.path: d.document["Statement"][0]
        for d in documents(configuration("prod"))
        if d.trust and d.document["Statement"][0]["Principal"].get("Service") == glue
    }
    conditioned = {path for path, s in trusts.items() if "Condition" in s}
    assert conditioned == {p for p in trusts if "/TableMaintenance/" in p}
    assert "glue.amazonaws.com" in UNCONDITIONED


def test_a_service_without_a_documented_condition_is_refused() -> None:
    blueprint = make_blueprint("sandbox")
    with pytest.raises(ValueError, match=r"lambda.amazonaws.com documents no trust condition"):
        trusted_service(blueprint.storage, "lambda.amazonaws.com")
    with pytest.raises(ValueError, match=r"sagemaker.amazonaws.com: no documented trust"):
        trusted_service(blueprint.storage, "sagemaker.amazonaws.com")


def wildcard_table() -> str:
    """docs/governance.md's table of the actions granted on "*": who holds each, and why."""
    holders = {a: [k for k, actions in PINNED.items() if a in actions] for a in WHY}
    return table(
        ("action on *", "held by", "why"),
        ((f"`{a}`", ", ".join(holders[a]), WHY[a]) for a in sorted(WHY)),
    )


def test_the_governance_doc_lists_the_pinned_actions() -> None:
    doc = GOVERNANCE_DOC.read_text()
    assert replace_block(doc, "wildcard-actions", wildcard_table(), fence=None) == doc


GOVERNANCE_DOC = DOCS / "governance.md"
