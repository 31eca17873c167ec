"""The roles GitHub Actions assumes (deploy/github-deploy-role.yaml): who can get them, and
what they can do once they have them.

The trust must name one repository and one GitHub environment (or, for the diff role, that
repository's pull requests) with the audience AWS's STS expects: anything looser lets another
repository's workflow into the account. The permissions must stay the short list the docs
show: the CDK bootstrap roles do the deploying, and the preflight only reads. The template is
created in moto's CloudFormation, so the assertions read the roles as IAM holds them, with the
parameters substituted.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name
from cfnlint.decode import cfn_yaml
from moto import mock_aws
from parliament import analyze_policy_string

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "github-deploy-role.yaml"
DOC = ROOT / "docs" / "deploying.md"
ACCOUNT = "123456789012"  # moto's account
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
BOOTSTRAP = f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-{{}}-role-{ACCOUNT}-*"
PREFLIGHT_READS = {
    "cloudformation:DescribeStacks", "cloudformation:ListStackResources",
    "lakeformation:GetDataLakeSettings", "lakeformation:ListPermissions",
    "lakeformation:ListLFTags", "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable",
    "glue:GetJob", "glue:GetJobs", "glue:GetCrawler", "glue:GetCrawlers",
    "glue:GetSecurityConfiguration", "athena:GetWorkGroup", "s3:ListBucket",
    "states:ListStateMachines", "states:DescribeStateMachine", "iam:GetAccountSummary",
    "iam:GetRole", "servicequotas:ListServiceQuotas", "sts:GetCallerIdentity",
    "cloudtrail:GetTrail",
}  # fmt: skip
# moto's CloudFormation creates no OIDC provider and says so; the provider is read from the
# template instead (test_the_oidc_provider_is_github_s_for_sts_and_optional).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS..IAM..OIDCProvider")


def created(**parameters: str) -> dict[str, Any]:
    """The template created in moto with ``parameters``: each role's trust and inline policy
    statements by logical ID, and the stack's outputs."""
    values = {"Repository": "acme/lake", "GitHubEnvironment": "production", **parameters}
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="eu-west-1")
        cfn.create_stack(
            StackName="github-deploy", TemplateBody=TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
            Capabilities=["CAPABILITY_IAM"],
        )  # fmt: skip
        (stack,) = cfn.describe_stacks(StackName="github-deploy")["Stacks"]
        iam = boto3.client("iam", region_name="eu-west-1")
        roles = {}
        for role in iam.list_roles()["Roles"]:
            statements = []
            for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
                document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)
                policy = document["PolicyDocument"]
                # moto hands back a policy it was given as a template object as its repr.
                statements += (ast.literal_eval(policy) if isinstance(policy, str) else policy)[
                    "Statement"
                ]
            logical_id = role["RoleName"].split("-")[2]
            roles[logical_id] = {"trust": role["AssumeRolePolicyDocument"],
                                 "statements": statements}  # fmt: skip
    return {"roles": roles, "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}}


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_cfn_lint_passes_on_the_template() -> None:
    linted = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE)],
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_each_role_trusts_one_repository_s_tokens_for_sts_and_nothing_else() -> None:
    roles = created()["roles"]
    expected_subjects = {"DeployRole": "repo:acme/lake:environment:production",
                         "DiffRole": "repo:acme/lake:pull_request"}  # fmt: skip
    assert set(roles) == set(expected_subjects)
    for logical_id, subject in expected_subjects.items():
        (statement,) = roles[logical_id]["trust"]["Statement"]
        assert statement == {
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": subject,
            }},
        }, logical_id  # fmt: skip


def test_the_deploy_role_assumes_the_bootstrap_roles_and_reads_what_the_preflight_checks() -> None:
    statements = created()["roles"]["DeployRole"]["statements"]
    by_sid = {s["Sid"]: s for s in statements}
    assert _listed(by_sid["AssumeTheCdkBootstrapRoles"]["Action"]) == ["sts:AssumeRole"]
    assert _listed(by_sid["AssumeTheCdkBootstrapRoles"]["Resource"]) == [
        BOOTSTRAP.format(kind) for kind in ("deploy", "file-publishing", "lookup")
    ]
    assert by_sid["ReadTheBootstrapVersion"]["Action"] == "ssm:GetParameter"
    assert by_sid["ReadTheBootstrapVersion"]["Resource"] == (
        f"arn:aws:ssm:*:{ACCOUNT}:parameter/cdk-bootstrap/*"
    )
    preflight = ("PreflightListsTheAccount", "PreflightReadsTheAccountsResources")
    assert {a for sid in preflight for a in _listed(by_sid[sid]["Action"])} == PREFLIGHT_READS
    # Where an action takes a resource, the account's own: no other account's roles or stacks.
    scoped = _listed(by_sid["PreflightReadsTheAccountsResources"]["Resource"])
    assert all(f":{ACCOUNT}:" in arn or arn == "arn:aws:s3:::*" for arn in scoped), scoped
    assert set(by_sid) == {"AssumeTheCdkBootstrapRoles", "ReadTheBootstrapVersion", *preflight}


def test_the_diff_role_can_only_assume_the_lookup_role() -> None:
    (statement,) = created()["roles"]["DiffRole"]["statements"]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Resource"] == BOOTSTRAP.format("lookup")


def test_no_statement_allows_a_wildcard_action_or_denies_by_exception() -> None:
    for logical_id, role in created()["roles"].items():
        for statement in role["statements"]:
            assert statement["Effect"] == "Allow"
            assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
            wild = [a for a in _listed(statement["Action"]) if "*" in a]
            assert not wild, f"{logical_id}: {wild}"
            writes = [a for a in _listed(statement["Action"]) if a != "sts:AssumeRole"
                      and not re.match(r"[a-z0-9-]+:(Get|List|Describe)", a)]  # fmt: skip
            assert not writes, f"{logical_id} may change the account itself: {writes}"


def test_parliament_knows_every_action_and_finds_nothing() -> None:
    for logical_id, role in created()["roles"].items():
        document = json.dumps({"Version": "2012-10-17", "Statement": role["statements"]})
        findings = [f.issue for f in analyze_policy_string(document).findings]
        assert not findings, f"{logical_id}: {findings}"


def test_without_the_diff_role_there_is_no_diff_role_and_no_output_for_it() -> None:
    made = created(CreateDiffRole="false", CreateOidcProvider="false")
    assert set(made["roles"]) == {"DeployRole"}
    assert set(made["outputs"]) == {"DeployRoleArn"}


def test_the_oidc_provider_is_github_s_for_sts_and_optional() -> None:
    # moto's CloudFormation does not create OIDC providers, so this reads the template.
    template = cfn_yaml.load(str(TEMPLATE))
    provider = template["Resources"]["GitHubOidcProvider"]
    assert provider["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]
    assert provider["Condition"] == "CreateProvider"
    assert template["Conditions"]["CreateProvider"] == {
        "Fn::Equals": [{"Ref": "CreateOidcProvider"}, "true"]
    }


@pytest.mark.parametrize("repository", ["acme", "acme/lake/x", "acme/*", "*"])
def test_a_repository_that_is_not_owner_slash_name_is_refused(repository: str) -> None:
    pattern = cfn_yaml.load(str(TEMPLATE))["Parameters"]["Repository"]["AllowedPattern"]
    assert not re.fullmatch(pattern, repository)
    assert re.fullmatch(pattern, "acme/data-lake.blueprint")


# The boto3 services the preflight's clients are made for, by the prefix IAM names them with.
PREFLIGHT_SERVICES = {
    "athena": "athena", "cloudformation": "cloudformation", "cloudtrail": "cloudtrail",
    "glue": "glue", "iam": "iam", "lakeformation": "lakeformation", "s3": "s3",
    "service-quotas": "servicequotas", "ssm": "ssm", "stepfunctions": "states", "sts": "sts",
}  # fmt: skip
# An operation IAM authorizes under another action's name (S3's HeadBucket: s3:ListBucket).
AUTHORIZED_AS = {"s3:HeadBucket": "s3:ListBucket"}


def _preflight_calls() -> dict[str, set[str]]:
    """Each boto3 method of the preflight's services named in deploy/preflight*.py, with the
    IAM actions it may be (a name such as get_database belongs to Glue and Athena alike)."""
    source = "".join(p.read_text() for p in sorted((ROOT / "deploy").glob("preflight*.py")))
    session = botocore.session.get_session()
    calls: dict[str, set[str]] = {}
    for service, prefix in PREFLIGHT_SERVICES.items():
        for operation in session.get_service_model(service).operation_names:
            method = xform_name(operation)
            if re.search(rf"\b{method}\b", source):
                action = f"{prefix}:{operation}"
                calls.setdefault(method, set()).add(AUTHORIZED_AS.get(action, action))
    return calls


def test_the_deploy_role_grants_what_the_preflight_calls_and_nothing_else() -> None:
    granted = {a for s in created()["roles"]["DeployRole"]["statements"]
               for a in _listed(s["Action"])}  # fmt: skip
    calls = _preflight_calls()
    assert {m for m, actions in calls.items() if not actions & granted} == set()
    called = set().union(*calls.values())
    assert PREFLIGHT_READS - called == set(), "granted, but the preflight never calls it"
