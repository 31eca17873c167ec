"""Who may become each persona, and who administers Lake Formation besides the deployer.

Prod is built with CI's overlay (.ci/production-settings.json), which names one IAM Identity
Center role per persona and a governance admin; the sandbox names none.
"""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from cdk_constructs.governance.persona_role import PersonaRole
from model.vocabulary import PERSONAS
from tests.conftest import CI_OVERLAY, only, resources, template

OVERLAY = json.loads(Path(CI_OVERLAY).read_text())["environments"]["prod"]
DEPLOYER = {
    "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
    "cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"
}


def trust(env: str) -> dict[str, dict[str, object]]:
    """The one trust statement of each persona's role, by persona name."""
    roles = resources(template(env, "Governance"), "AWS::IAM::Role")
    statements = {}
    for persona in PERSONAS:
        (role,) = [r for k, r in roles.items() if k.startswith(f"{persona.pascal}Role")]
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        statements[persona.name] = statement
    return statements


def test_named_principals_are_trusted_exactly_without_the_account_or_mfa() -> None:
    for persona in PERSONAS:
        statement = trust("prod")[persona.name]
        (principal,) = OVERLAY["personas"][persona.config_key]
        assert statement == {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": principal},
        }, persona.name
        assert ":root" not in json.dumps(statement)


def test_without_principals_the_sandbox_trusts_the_account_with_mfa_only() -> None:
    for name, statement in trust("sandbox").items():
        assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, name
        assert statement["Principal"] == {
            "AWS": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":iam::",
                        {"Ref": "AWS::AccountId"},
                        ":root",
                    ],
                ]
            }
        }, name


def test_several_principals_are_all_named_and_only_they() -> None:
    stack = cdk.Stack(cdk.App(), "Governance")
    principals = [
        "arn:aws:iam::111122223333:role/DataAnalystTeamA",
        "arn:aws:iam::111122223333:user/break-glass-analyst",
    ]
    PersonaRole(stack, "ExtraAnalystRole", persona=PERSONAS[0], principals=principals)
    roles = assertions.Template.from_stack(stack).to_json()["Resources"]
    (role,) = [r for k, r in roles.items() if r["Type"] == "AWS::IAM::Role"]
    statements = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statements == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"AWS": arn}}
        for arn in principals
    ]


def test_a_persona_role_refuses_a_whole_account() -> None:
    stack = cdk.Stack(cdk.App(), "Governance")
    with pytest.raises(ValueError, match=r"analyst: arn:aws:iam::111122223333:root trusts a whole"):
        PersonaRole(
            stack,
            "RootAnalystRole",
            persona=PERSONAS[0],
            principals=["arn:aws:iam::111122223333:root"],
        )


@pytest.mark.parametrize("env", ["sandbox", "prod"])
def test_lake_formation_admins_are_the_deployer_then_the_configured_ones(env: str) -> None:
    settings = only(template(env, "Governance"), "AWS::LakeFormation::DataLakeSettings")
    admins = [a["DataLakePrincipalIdentifier"] for a in settings["Admins"]]
    expected = OVERLAY["lakeFormationAdmins"] if env == "prod" else []
    assert admins == [DEPLOYER, *expected]
    # The security officer reads every grant (read-only admin); no persona is a full admin.
    (reader,) = settings["ReadOnlyAdmins"]
    assert reader["DataLakePrincipalIdentifier"]["Fn::GetAtt"][0].startswith("SecurityOfficerRole")
    assert settings["MutationType"] == "APPEND"
