"""Lake Formation settings, registered locations, tags, persona roles and deployment order."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import assertions

from tests.conftest import built, construct_id, make_blueprint, only, resources, template


@pytest.fixture
def governance(env: str) -> assertions.Template:
    return template(env, "Governance")


def test_settings_append_the_deployment_role_as_admin_and_open_nothing_by_default(
    governance: assertions.Template, env: str
) -> None:
    settings = only(governance, "AWS::LakeFormation::DataLakeSettings")
    assert settings["MutationType"] == "APPEND"
    assert settings["CreateDatabaseDefaultPermissions"] == []
    assert settings["CreateTableDefaultPermissions"] == []
    # Prod's own admins (CI's overlay) follow the deployment role: test_named_principals.py.
    admin, *others = settings["Admins"]
    assert [o["DataLakePrincipalIdentifier"] for o in others] == list(
        built(env).config.lake_formation_admins
    )
    assert admin["DataLakePrincipalIdentifier"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
        "cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}"
    }


def test_the_security_officer_is_a_read_only_admin(governance: assertions.Template) -> None:
    """It sees every grant, tag and setting; it changes none and reads no data."""
    settings = only(governance, "AWS::LakeFormation::DataLakeSettings")
    (reader,) = settings["ReadOnlyAdmins"]
    (role_id, attribute) = reader["DataLakePrincipalIdentifier"]["Fn::GetAtt"]
    assert role_id.startswith("SecurityOfficerRole")
    assert attribute == "Arn"


def test_configured_admins_are_appended_too() -> None:
    context_env = built("sandbox").app.node.try_get_context("environments")["sandbox"]
    admin = "arn:aws:iam::123456789012:role/DataPlatformAdmin"
    blueprint = make_blueprint(
        "sandbox", environments={"sandbox": {**context_env, "lakeFormationAdmins": [admin]}}
    )
    settings = only(
        assertions.Template.from_stack(blueprint.governance), "AWS::LakeFormation::DataLakeSettings"
    )
    assert {"DataLakePrincipalIdentifier": admin} in settings["Admins"]
    assert len(settings["Admins"]) == 2


def test_every_catalogued_zone_is_registered_with_the_data_access_role(
    governance: assertions.Template, env: str
) -> None:
    locations = [
        r["Properties"] for r in resources(governance, "AWS::LakeFormation::Resource").values()
    ]
    assert len(locations) == 3
    storage = template(env, "Storage").to_json()
    for location in locations:
        assert location["UseServiceLinkedRole"] is False
        assert location["HybridAccessEnabled"] is False
        output = location["RoleArn"]["Fn::GetStackOutput"]["OutputName"]
        assert storage["Outputs"][output]["Value"]["Fn::GetAtt"][0].startswith(
            "LakeFormationDataAccessRole"
        )
    registered = {
        construct_id(
            storage["Outputs"][loc["ResourceArn"]["Fn::GetStackOutput"]["OutputName"]]["Value"][
                "Fn::GetAtt"
            ][0]
        )
        for loc in locations
    }
    assert registered == {"RawBucket", "CuratedBucket", "AnalyticsBucket"}


def test_the_data_access_role_is_for_lake_formation_and_uses_the_zones_keys(env: str) -> None:
    """Raw is registered (personal-data key), curated and analytics too (curated key);
    landing is not, and the operations and audit keys are none of its business."""
    storage = template(env, "Storage").to_json()["Resources"]
    (role_id,) = [k for k, v in storage.items() if k.startswith("LakeFormationDataAccessRole")
                  and v["Type"] == "AWS::IAM::Role"]  # fmt: skip
    trust = storage[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    # Lake Formation of this account only: the confused-deputy condition it documents.
    lake_formation = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":lakeformation:",
                                        {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
                                        ":*"]]}  # fmt: skip
    assert trust == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                "ArnLike": {"aws:SourceArn": lake_formation},
            },
            "Effect": "Allow",
            "Principal": {"Service": "lakeformation.amazonaws.com"},
        }
    ]
    (policy,) = [v for v in storage.values() if v["Type"] == "AWS::IAM::ManagedPolicy"
                 and v["Properties"].get("Roles") == [{"Ref": role_id}]]  # fmt: skip
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    kms = [s for s in statements if any(a.startswith("kms:") for a in s["Action"])]
    assert kms
    keys = [r for s in kms for r in (s["Resource"] if isinstance(s["Resource"], list)
                                     else [s["Resource"]])]  # fmt: skip
    assert {r["Fn::GetAtt"][0] for r in keys} == {
        _key(storage, "DataKey"),
        _key(storage, "CuratedDataKey"),
    }


def _key(storage: dict[str, Any], name: str) -> str:
    (key,) = [k for k in storage if k.startswith(name) and k[len(name) :].isalnum()
              and len(k) == len(name) + 8]  # fmt: skip
    return key


def test_lf_tags_list_every_value_the_declarations_use(
    governance: assertions.Template, env: str
) -> None:
    datasets = built(env).datasets
    tags = {
        r["Properties"]["TagKey"]: r["Properties"]["TagValues"]
        for r in resources(governance, "AWS::LakeFormation::Tag").values()
    }
    assert tags == {
        "zone": ["raw", "curated", "analytics"],
        "sensitivity": ["general", "pii-hashed", "pii-clear"],
        "domain": sorted({d.domain for d in datasets}),
        "dataset": sorted(d.name for d in datasets),
    }


def test_lake_formation_resources_wait_for_the_settings(governance: assertions.Template) -> None:
    (settings_id,) = resources(governance, "AWS::LakeFormation::DataLakeSettings")
    for type_ in ("AWS::LakeFormation::Tag", "AWS::LakeFormation::Resource"):
        for logical_id, resource in resources(governance, type_).items():
            assert settings_id in resource.get("DependsOn", []), logical_id


def test_stacks_deploy_in_governance_catalog_dataset_order(env: str) -> None:
    blueprint = built(env)
    assert blueprint.governance in blueprint.catalog.dependencies
    for stack in blueprint.dataset_stacks.values():
        assert blueprint.catalog in stack.dependencies


def test_persona_roles_without_principals_trust_only_mfa_users_of_the_account() -> None:
    """The sandbox's convenience; prod names its principals (test_named_principals.py)."""
    governance = template("sandbox", "Governance")
    roles = {
        logical_id: r["Properties"]
        for logical_id, r in resources(governance, "AWS::IAM::Role").items()
    }
    assert len(roles) == 4
    for logical_id, role in roles.items():
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}, (
            logical_id
        )
        assert "root" in str(statement["Principal"])


def test_persona_roles_trust_the_principals_configured() -> None:
    context_env = built("sandbox").app.node.try_get_context("environments")["sandbox"]
    analyst = "arn:aws:iam::123456789012:role/AWSReservedSSO_DataAnalyst_abc"
    personas = {**context_env["personas"], "analyst": [analyst]}
    blueprint = make_blueprint(
        "sandbox", environments={"sandbox": {**context_env, "personas": personas}}
    )
    roles = assertions.Template.from_stack(blueprint.governance).to_json()["Resources"]
    (role,) = [
        r for k, r in roles.items() if k.startswith("AnalystRole") and r["Type"] == "AWS::IAM::Role"
    ]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": analyst}
    assert "Condition" not in statement
