"""The optional Redshift Serverless warehouse: absent by default, complete and nag-clean when on."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from aws_cdk import assertions
from cfnlint.api import ManualArgs, lint

from blueprint import compliance
from blueprint.factory import Blueprint
from model.config import ConfigError
from tasks import CFN_LINT_IGNORED
from tests.conftest import built, cdk_json_context, make_blueprint, resources


def with_warehouse(env: str, **settings: Any) -> Blueprint:
    context = cdk_json_context()
    zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    context["environments"][env]["redshift"] = {
        "enabled": True,
        "availabilityZones": zones,
        **settings,
    }
    return make_blueprint(env, environments=context["environments"])


@cache
def warehouse(env: str) -> Blueprint:
    return with_warehouse(env)


def template(env: str) -> assertions.Template:
    stack = warehouse(env).warehouse
    assert stack is not None
    return assertions.Template.from_stack(stack)


def test_off_by_default(env: str) -> None:
    assert built(env).config.redshift.enabled is False
    assert built(env).warehouse is None
    assert "Warehouse" not in {s.node.id for s in built(env).stacks}


def test_namespace_is_encrypted_and_keeps_its_password_in_secrets_manager(env: str) -> None:
    (namespace,) = resources(template(env), "AWS::RedshiftServerless::Namespace").values()
    props = namespace["Properties"]
    assert props["NamespaceName"] == f"datalake-{env}-warehouse"
    # It holds what the analyst reads: the curated key, never the personal-data key.
    assert props["KmsKeyId"]["Fn::GetStackOutput"]["OutputName"] == "CuratedDataKeyArn"
    assert props["ManageAdminPassword"] is True
    assert "AdminUserPassword" not in props
    admin_secret = props["AdminPasswordSecretKmsKeyId"]["Fn::GetStackOutput"]
    assert admin_secret["OutputName"] == "CuratedDataKeyArn"
    assert set(props["LogExports"]) == {"userlog", "connectionlog", "useractivitylog"}


def test_workgroup_is_private_in_isolated_subnets_of_three_zones(env: str) -> None:
    tmpl = template(env)
    (workgroup,) = resources(tmpl, "AWS::RedshiftServerless::Workgroup").values()
    props = workgroup["Properties"]
    assert props["PubliclyAccessible"] is False
    assert props["BaseCapacity"] == 8
    subnets = resources(tmpl, "AWS::EC2::Subnet")
    assert len(props["SubnetIds"]) == len(subnets) == 3
    zones = {s["Properties"]["AvailabilityZone"] for s in subnets.values()}
    assert zones == {"eu-west-1a", "eu-west-1b", "eu-west-1c"}  # as configured
    for subnet in subnets.values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    # No way out to the internet: no NAT gateway, no internet gateway, no public subnet.
    for kind in ("AWS::EC2::NatGateway", "AWS::EC2::InternetGateway", "AWS::EC2::EIP"):
        assert resources(tmpl, kind) == {}, kind
    (group,) = resources(tmpl, "AWS::EC2::SecurityGroup").values()
    (ingress,) = group["Properties"]["SecurityGroupIngress"]
    assert (ingress["CidrIp"], ingress["FromPort"], ingress["ToPort"]) == (
        "10.40.0.0/20",
        5439,
        5439,
    )
    (flow_log,) = resources(tmpl, "AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["TrafficType"] == "ALL"


def test_its_role_reads_the_lake_through_lake_formation_as_the_analyst_does(env: str) -> None:
    tmpl = template(env)
    grants = {}
    for grant in resources(tmpl, "AWS::LakeFormation::PrincipalPermissions").values():
        policy = grant["Properties"]["Resource"]["LFTagPolicy"]
        expression = {t["TagKey"]: t["TagValues"] for t in policy["Expression"]}
        grants[policy["ResourceType"]] = (expression, sorted(grant["Properties"]["Permissions"]))
    assert grants == {
        "DATABASE": ({"zone": ["curated", "analytics"]}, ["DESCRIBE"]),
        "TABLE": (
            {"zone": ["curated", "analytics"], "sensitivity": ["general"]},
            ["DESCRIBE", "SELECT"],
        ),
    }
    actions = {
        action
        for policy in resources(tmpl, "AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in (statement["Action"] if isinstance(statement["Action"], list)
                       else [statement["Action"]])
    }  # fmt: skip
    assert "lakeformation:GetDataAccess" in actions
    assert not [a for a in actions if a.startswith("s3:")]  # no way around Lake Formation


@pytest.mark.parametrize("pack_index", range(len(compliance.nag_packs())))
def test_every_pack_passes_with_the_warehouse_on(pack_index: int) -> None:
    pack = compliance.nag_packs()[pack_index]
    report = pack.validate_scope(warehouse("prod").app)
    findings = [f"{v.rule_name}: {[c.construct_path for c in v.violating_resources]}"
                for v in report.violations]  # fmt: skip
    assert report.success, findings


def test_the_warehouse_template_passes_cfn_lint() -> None:
    # W3010 (zones written out) is the point here: Redshift Serverless supports only some
    # zones of a region, so the environment names three it supports.
    matches = lint(
        json.dumps(template("sandbox").to_json()),
        config=ManualArgs(regions=["eu-west-1"], ignore_checks=[*CFN_LINT_IGNORED, "W3010"]),
    )
    assert [str(m) for m in matches] == []


def test_the_namespace_is_kept_with_a_final_snapshot_where_data_is_kept() -> None:
    for env, kept in (("prod", True), ("sandbox", False)):
        tmpl = template(env).to_json()["Resources"]
        (namespace,) = [r for r in tmpl.values()
                        if r["Type"] == "AWS::RedshiftServerless::Namespace"]  # fmt: skip
        assert namespace["DeletionPolicy"] == ("Retain" if kept else "Delete")
        assert ("FinalSnapshotName" in namespace["Properties"]) is kept
        assert namespace["Properties"]["AdminUsername"] != "admin"


def test_three_zones_are_required_when_on() -> None:
    with pytest.raises(ConfigError, match=r"redshift\.availabilityZones = .*expected three"):
        with_warehouse("sandbox", availabilityZones=["eu-west-1a", "eu-west-1b"])


def test_a_capacity_redshift_does_not_offer_fails_synth() -> None:
    with pytest.raises(
        ConfigError, match=r"redshift.baseCapacity = 12: expected RPUs from 8 to 512"
    ):
        with_warehouse("sandbox", baseCapacity=12)


def test_its_acknowledgments_are_the_reviewed_ones() -> None:
    from tests.test_compliance import FINDING_ID, acknowledgments

    # CDK itself acknowledges some of its own CloudFormation checks on the VPC: left out.
    acks = {
        (path, finding)
        for path, finding, _ in acknowledgments(warehouse("sandbox"))
        if path.startswith("Warehouse") and FINDING_ID.match(finding)
    }
    tables = "arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table"
    packs = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
    assert acks == {
        *(("Warehouse/Warehouse/Vpc", f"{pack}-VPCDefaultSecurityGroupClosed") for pack in packs),
        ("Warehouse/Warehouse/Role", "AwsSolutions-IAM5[Resource::*]"),
        *(
            (
                "Warehouse/Warehouse/Role",
                f"AwsSolutions-IAM5[Resource::{tables}/datalake_sandbox_{z}/*]",
            )
            for z in ("curated", "analytics")
        ),
    }
