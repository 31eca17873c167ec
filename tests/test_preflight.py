"""The preflight against moto accounts: each finding it prints, its exit status, and that it
changes nothing in the account it reads. The plan is the synthesized sandbox app."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.cloudformation.models import cloudformation_backends

from blueprint.factory import build_app, cdk_json_context
from deploy import preflight, preflight_checks
from deploy.preflight_checks import Context, check_region
from deploy.preflight_lake import (
    caller_principal,
    check_iam_allowed_principals,
    check_lake_admins,
)
from deploy.preflight_names import check_names, check_quotas, quota_result
from deploy.preflight_plan import FixedName, Plan, execution_role, read_plan
from tests.conftest import ci_context

ACCOUNT = "123456789012"  # moto's
REGION = "eu-west-1"
EXEC_ROLE = execution_role(ACCOUNT, REGION)
EVERYONE = {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}
CALLER = f"arn:aws:sts::{ACCOUNT}:user/moto"  # who moto says the credentials are


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox app synthesized as `tasks.py preflight` synthesizes it (cdk.json's context)."""
    outdir = tmp_path_factory.mktemp("preflight") / "cdk.out.preflight"
    build_app(
        {**cdk_json_context(), "env": "sandbox"}, outdir=str(outdir), enforce_compliance=False
    ).app.synth()
    return outdir


@pytest.fixture(scope="module")
def plan(assembly: Path) -> Plan:
    return read_plan(assembly, "sandbox")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    for name in ("AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


def bootstrap(session: boto3.session.Session, version: str = "28") -> None:
    """What `cdk bootstrap` leaves that the preflight reads: the stack, its output, the SSM
    parameter the templates' BootstrapVersion parameter reads."""
    template = {
        "Resources": {
            "Version": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": "/cdk-bootstrap/hnb659fds/version",
                    "Type": "String",
                    "Value": version,
                },
            }
        },
        "Outputs": {"BootstrapVersion": {"Value": version}},
    }
    session.client("cloudformation").create_stack(
        StackName="CDKToolkit", TemplateBody=json.dumps(template)
    )


def lake_settings(
    session: boto3.session.Session, admins: list[str], defaults: bool,
    read_only: tuple[str, ...] = (CALLER,),
) -> None:  # fmt: skip
    """The account's Lake Formation settings (moto starts, as AWS does, with the defaults);
    the preflight's caller a read-only admin unless ``read_only`` says otherwise."""
    everyone = [{"Principal": EVERYONE, "Permissions": ["ALL"]}] if defaults else []
    session.client("lakeformation").put_data_lake_settings(
        DataLakeSettings={
            "DataLakeAdmins": [{"DataLakePrincipalIdentifier": a} for a in admins],
            "ReadOnlyAdmins": [{"DataLakePrincipalIdentifier": a} for a in read_only],
            "CreateDatabaseDefaultPermissions": everyone,
            "CreateTableDefaultPermissions": everyone,
        }
    )


def ready(session: boto3.session.Session) -> None:
    """An account where a first deploy succeeds."""
    bootstrap(session)
    lake_settings(session, [EXEC_ROLE], defaults=False)


def account_state(session: boto3.session.Session) -> dict[str, Any]:
    """What the preflight could change if it wrote anything."""
    glue, lf = session.client("glue"), session.client("lakeformation")
    return {
        "lake": lf.get_data_lake_settings()["DataLakeSettings"],
        "lf_tags": lf.list_lf_tags()["LFTags"],
        "stacks": [
            (s["StackName"], s["StackStatus"])
            for s in session.client("cloudformation").list_stacks()["StackSummaries"]
        ],
        "databases": [d["Name"] for d in glue.get_databases()["DatabaseList"]],
        "workgroups": [
            w["Name"] for w in session.client("athena").list_work_groups()["WorkGroups"]
        ],
        "roles": len(session.client("iam").list_roles(MaxItems=1000)["Roles"]),
    }


def run(plan: Plan, session: boto3.session.Session) -> tuple[int, list[str]]:
    lines: list[str] = []
    before = account_state(session)
    status = preflight.run(plan, out=lines.append, session=session)
    assert account_state(session) == before, "the preflight changed the account"
    return status, lines


def lines_of(lines: list[str], check: str) -> list[str]:
    return [line for line in lines if line.split(maxsplit=1)[1].startswith(f"{check}:")]


def ctx(plan: Plan, session: boto3.session.Session, region: str = REGION) -> Context:
    return Context(plan=plan, session=session, region=region, account=ACCOUNT)


def test_an_account_ready_for_a_first_deploy_passes_every_check(
    plan: Plan, aws: boto3.session.Session
) -> None:
    ready(aws)
    status, lines = run(plan, aws)
    assert status == 0
    assert all(line.startswith("PASS  ") for line in lines), lines
    assert lines[0] == (
        f"PASS  credentials: arn:aws:sts::{ACCOUNT}:user/moto in account "
        f"{ACCOUNT} (not pinned by cdk.json), region {REGION}"
    )
    assert (
        "PASS  bootstrap: CDKToolkit CREATE_COMPLETE, version 28 (the templates need 6 or newer)"
        in lines
    )
    assert ("PASS  names: 17 fixed names: 17 free, 0 already this app's") in lines
    assert (
        "PASS  quota IAM roles: adds 24; 0 of 1000 used, 1000 left (IAM account summary)" in lines
    )
    assert (
        "PASS  quota Glue jobs: adds 5; 0 of 2000 used, 2000 left (AWS's documented default;"
        " Service Quotas did not answer: not implemented)"
    ) in lines
    (region,) = lines_of(lines, "region")
    assert f"{REGION} offers all 17 services" in region
    assert "Glue 5.1 (5 jobs) not checked" in region


def test_without_a_bootstrap_stack_the_fix_is_cdk_bootstrap(
    plan: Plan, aws: boto3.session.Session
) -> None:
    lake_settings(aws, [EXEC_ROLE], defaults=False)
    status, lines = run(plan, aws)
    assert status == 1
    index = lines.index(f"FAIL  bootstrap: no CDKToolkit stack in {ACCOUNT}/{REGION}")
    assert lines[index + 1] == f"      fix: npx cdk bootstrap aws://{ACCOUNT}/{REGION}"


def test_a_bootstrap_older_than_the_templates_accept_fails(
    plan: Plan, aws: boto3.session.Session
) -> None:
    bootstrap(aws, version="5")
    lake_settings(aws, [EXEC_ROLE], defaults=False)
    status, lines = run(plan, aws)
    assert status == 1
    assert lines_of(lines, "bootstrap") == [
        "FAIL  bootstrap: CDKToolkit CREATE_COMPLETE at version 5; the templates need version 6 "
        "or newer"
    ]


def test_a_bootstrap_stack_rolled_back_fails(plan: Plan, aws: boto3.session.Session) -> None:
    ready(aws)
    # A failed first `cdk bootstrap` leaves ROLLBACK_COMPLETE; moto's API cannot reach it.
    (stack,) = cloudformation_backends[ACCOUNT][REGION].stacks.values()
    stack.status = "ROLLBACK_COMPLETE"
    status, lines = run(plan, aws)
    assert status == 1
    index = lines.index(
        "FAIL  bootstrap: the CDKToolkit stack is ROLLBACK_COMPLETE: it cannot deploy"
    )
    assert lines[index + 1] == (
        f"      fix: delete the CDKToolkit stack, then npx cdk bootstrap aws://{ACCOUNT}/{REGION}"
    )


def test_a_bootstrap_stack_still_in_progress_warns(plan: Plan, aws: boto3.session.Session) -> None:
    ready(aws)
    (stack,) = cloudformation_backends[ACCOUNT][REGION].stacks.values()
    stack.status = "UPDATE_IN_PROGRESS"
    status, lines = run(plan, aws)
    assert status == 0
    assert lines_of(lines, "bootstrap") == [
        "WARN  bootstrap: the CDKToolkit stack is UPDATE_IN_PROGRESS"
    ]


def test_without_the_ssm_parameter_the_bootstrap_stack_s_output_says_the_version(
    plan: Plan, aws: boto3.session.Session
) -> None:
    lake_settings(aws, [EXEC_ROLE], defaults=False)
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}},
        "Outputs": {"BootstrapVersion": {"Value": "4"}},
    }
    aws.client("cloudformation").create_stack(
        StackName="CDKToolkit", TemplateBody=json.dumps(template)
    )
    status, lines = run(plan, aws)
    assert status == 1
    assert lines_of(lines, "bootstrap") == [
        "FAIL  bootstrap: CDKToolkit CREATE_COMPLETE at version 4; the templates need version 6 "
        "or newer"
    ]


def test_credentials_for_another_account_than_cdk_json_pins_stop_the_preflight(
    plan: Plan, aws: boto3.session.Session
) -> None:
    ready(aws)
    status, lines = run(dataclasses.replace(plan, account="111111111111"), aws)
    assert status == 1
    assert lines == [
        f"FAIL  credentials: arn:aws:sts::{ACCOUNT}:user/moto is in account {ACCOUNT}; cdk.json "
        "pins sandbox to account 111111111111",
        "      fix: use credentials for account 111111111111, or change `account` in cdk.json",
    ]


def test_the_pinned_account_and_region_are_the_ones_checked(
    plan: Plan, aws: boto3.session.Session
) -> None:
    ready(aws)
    status, lines = run(dataclasses.replace(plan, account=ACCOUNT, region=REGION), aws)
    assert status == 0
    assert f"(pinned by cdk.json to {ACCOUNT}), region {REGION}" in lines[0]


def test_without_credentials_the_preflight_says_so(
    plan: Plan, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance metadata lookup
    lines: list[str] = []
    status = preflight.run(
        plan, out=lines.append, session=boto3.session.Session(region_name=REGION)
    )
    assert status == 1
    assert lines == [
        "FAIL  credentials: sts get-caller-identity failed: Unable to locate credentials",
        "      fix: sign in (aws sso login, or AWS_PROFILE=...) and run the preflight again",
    ]


def test_without_any_region_nothing_is_asked(
    plan: Plan, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    lines: list[str] = []
    assert preflight.run(plan, out=lines.append, session=boto3.session.Session()) == 1
    assert lines == [
        "FAIL  region: cdk.json pins no region and boto3 has none",
        "      fix: set `region` in cdk.json, or AWS_REGION / a profile's region",
    ]


def test_a_call_the_account_refuses_is_named_and_the_other_checks_still_run(
    plan: Plan, aws: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready(aws)

    def check_catalog(ctx: Context) -> list[preflight.Result]:
        ctx.client("glue").get_database(Name="nowhere")  # moto answers EntityNotFoundException
        return []

    checks = (preflight.check_credentials, check_catalog, preflight.check_bootstrap)
    monkeypatch.setattr(preflight, "CHECKS", checks)
    status, lines = run(plan, aws)
    assert status == 0
    assert lines[1:] == [
        "WARN  catalog: not checked: GetDatabase answered EntityNotFoundException",
        "      fix: run the preflight with credentials that may read this (e.g. ReadOnlyAccess), "
        "or check by hand",
        "PASS  bootstrap: CDKToolkit CREATE_COMPLETE, version 28 (the templates need 6 or newer)",
    ]


def test_names_held_by_something_else_fail_each_with_its_name(
    plan: Plan, aws: boto3.session.Session
) -> None:
    ready(aws)
    aws.client("glue").create_database(DatabaseInput={"Name": "datalake_sandbox_curated"})
    aws.client("athena").create_work_group(Name="datalake-sandbox-analyst")
    status, lines = run(plan, aws)
    assert status == 1
    assert lines_of(lines, "names") == [
        "FAIL  names: Glue database datalake_sandbox_curated exists and is not "
        "datalake-sandbox-catalog's",
        "FAIL  names: Athena workgroup datalake-sandbox-analyst exists and is not "
        "datalake-sandbox-delivery's",
    ]
    fix = lines[lines.index(lines_of(lines, "names")[0]) + 1]
    assert fix.startswith("      fix: delete or rename the existing Glue database")


def test_a_name_the_app_s_own_stack_holds_passes(plan: Plan, aws: boto3.session.Session) -> None:
    ready(aws)
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    machine = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineName": "datalake-sandbox-orders-pipeline",
            "DefinitionString": definition,
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/pipeline",
        },
    }
    aws.client("cloudformation").create_stack(
        StackName="datalake-sandbox-dataset-orders",
        TemplateBody=json.dumps({"Resources": {"Pipeline": machine}}),
    )
    assert check_names(ctx(plan, aws))[0].lines() == [
        "PASS  names: 17 fixed names: 16 free, 1 already this app's"
    ]


def test_what_the_app_s_stacks_hold_already_is_not_added_again(
    plan: Plan, aws: boto3.session.Session
) -> None:
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    machine = {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "StateMachineName": "datalake-sandbox-orders-pipeline", "DefinitionString": definition,
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/pipeline"}}  # fmt: skip
    aws.client("cloudformation").create_stack(
        StackName="datalake-sandbox-dataset-orders",
        TemplateBody=json.dumps({"Resources": {"Pipeline": machine}}),
    )
    results = {r.check: r for r in check_quotas(ctx(plan, aws))}
    assert results["quota state machines"].found.startswith("adds 1; 1 of 10000 used")


def test_a_name_in_a_stack_of_another_app_is_not_the_app_s(
    plan: Plan, aws: boto3.session.Session
) -> None:
    machine = {
        "Type": "AWS::StepFunctions::StateMachine",
        "Properties": {
            "StateMachineName": "datalake-sandbox-orders-pipeline",
            "DefinitionString": json.dumps(
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
            ),
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/pipeline",
        },
    }
    aws.client("cloudformation").create_stack(
        StackName="someone-else", TemplateBody=json.dumps({"Resources": {"Pipeline": machine}})
    )
    (result,) = check_names(ctx(plan, aws))
    assert result.status == "FAIL"
    assert result.found == (
        "state machine datalake-sandbox-orders-pipeline exists and is not "
        "datalake-sandbox-dataset-orders's"
    )


def test_a_bucket_name_taken_in_the_account_fails(plan: Plan, aws: boto3.session.Session) -> None:
    aws.client("s3").create_bucket(
        Bucket="datalake-sandbox-landing",
        CreateBucketConfiguration={"LocationConstraint": REGION},
    )
    named = FixedName("AWS::S3::Bucket", "datalake-sandbox-landing", "datalake-sandbox-storage")
    (result,) = check_names(ctx(dataclasses.replace(plan, names=[named]), aws))
    assert result.found == (
        "S3 bucket datalake-sandbox-landing exists and is not datalake-sandbox-storage's"
    )


def test_iam_allowed_principals_defaults_are_turned_off_by_the_deploy_with_a_warning(
    plan: Plan, aws: boto3.session.Session
) -> None:
    bootstrap(aws)
    lake_settings(aws, [EXEC_ROLE], defaults=True)
    status, lines = run(plan, aws)
    assert status == 0
    assert lines_of(lines, "IAMAllowedPrincipals") == [
        "WARN  IAMAllowedPrincipals: CreateDatabaseDefaultPermissions and "
        "CreateTableDefaultPermissions grant IAM_ALLOWED_PRINCIPALS today; the deploy turns both "
        "off for the whole account, so databases and tables other workloads create afterwards no "
        "longer grant it"
    ]


def with_lake_settings(plan: Plan, **changes: Any) -> Plan:
    """The plan with its data lake settings' properties changed (None removes one)."""
    templates = copy.deepcopy(plan.templates)
    for template in templates.values():
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::LakeFormation::DataLakeSettings":
                props = resource["Properties"]
                props.update(changes)
                for key in [k for k, v in props.items() if v is None]:
                    del props[key]
    return dataclasses.replace(plan, templates=templates)


def test_iam_allowed_principals_defaults_the_deploy_keeps_fail(
    plan: Plan, aws: boto3.session.Session
) -> None:
    lake_settings(aws, [EXEC_ROLE], defaults=True)
    keeping = with_lake_settings(
        plan, CreateDatabaseDefaultPermissions=None, CreateTableDefaultPermissions=None
    )
    (result,) = check_iam_allowed_principals(ctx(keeping, aws))
    assert result.status == "FAIL"
    assert "the deploy leaves them" in result.found


def test_an_app_database_that_grants_iam_allowed_principals_is_named(
    plan: Plan, aws: boto3.session.Session
) -> None:
    lake_settings(aws, [EXEC_ROLE], defaults=False)
    aws.client("glue").create_database(DatabaseInput={"Name": "datalake_sandbox_raw"})
    aws.client("lakeformation").grant_permissions(
        Principal=EVERYONE,
        Resource={"Database": {"Name": "datalake_sandbox_raw"}},
        Permissions=["ALL"],
    )
    results = check_iam_allowed_principals(ctx(plan, aws))
    assert [r.status for r in results] == ["PASS", "WARN"]
    assert results[0].found == (
        "no default permissions for IAM_ALLOWED_PRINCIPALS; the deploy keeps them off"
    )
    assert results[1].found.startswith(
        "the existing database datalake_sandbox_raw grants IAM_ALLOWED_PRINCIPALS"
    )


def test_the_execution_role_is_an_admin_already_or_added_by_the_deploy(
    plan: Plan, aws: boto3.session.Session
) -> None:
    lake_settings(aws, [], defaults=False)
    (added,) = check_lake_admins(ctx(plan, aws))
    assert added.lines() == [
        "PASS  Lake Formation admins: 0 admins today; lakeFormationAdmins: none; the governance "
        "stack adds the CDK execution role (MutationType APPEND)"
    ]
    lake_settings(aws, [EXEC_ROLE], defaults=False)
    (already,) = check_lake_admins(ctx(plan, aws))
    assert already.found.endswith("the CDK execution role is an admin already")


def test_an_execution_role_the_deploy_does_not_add_warns(
    plan: Plan, aws: boto3.session.Session
) -> None:
    me = f"arn:aws:iam::{ACCOUNT}:role/me"
    lake_settings(aws, [me], defaults=False)
    others = with_lake_settings(plan, Admins=[{"DataLakePrincipalIdentifier": me}])
    (result,) = check_lake_admins(ctx(others, aws))
    assert result.status == "WARN"
    assert result.found.startswith("1 admins today; lakeFormationAdmins: 1 (1 admins already")
    assert result.fix.startswith(f"make {EXEC_ROLE} a Lake Formation admin")


def test_settings_that_replace_the_admins_warn_about_the_ones_removed(
    plan: Plan, aws: boto3.session.Session
) -> None:
    lake_settings(aws, [f"arn:aws:iam::{ACCOUNT}:role/someone"], defaults=False)
    (result,) = check_lake_admins(ctx(with_lake_settings(plan, MutationType=None), aws))
    assert result.status == "WARN"
    assert "the deploy REPLACES the admin list and removes 1 of them" in result.found


@pytest.mark.parametrize(("existing", "status"), [(975, "WARN"), (979, "FAIL")])
def test_an_iam_role_quota_nearly_or_fully_used(
    plan: Plan, aws: boto3.session.Session, existing: int, status: str
) -> None:
    ready(aws)
    iam = aws.client("iam")
    for index in range(existing):
        iam.create_role(RoleName=f"existing-{index}", AssumeRolePolicyDocument="{}")
    code, lines = run(plan, aws)
    assert code == (1 if status == "FAIL" else 0)
    left = 1000 - existing
    assert lines_of(lines, "quota IAM roles") == [
        f"{status}  quota IAM roles: adds 24; {existing} of 1000 used, {left} left "
        "(IAM account summary)"
    ]


def test_an_lf_tag_with_more_values_than_lake_formation_allows_fails(
    plan: Plan, aws: boto3.session.Session
) -> None:
    wide = dataclasses.replace(plan, lf_tags={"dataset": [f"d{i}" for i in range(1001)]})
    results = check_quotas(ctx(wide, aws))
    assert results[-1].lines() == [
        "FAIL  quota LF-Tag values: an LF-Tag with 1001 values; Lake Formation allows 1000",
        "      fix: split the tag's values",
    ]


def test_quota_thresholds() -> None:
    assert quota_result("x", 8, 0, 10, "s").status == "PASS"
    assert quota_result("x", 9, 0, 10, "s").status == "WARN"
    assert quota_result("x", 10, 0, 10, "s").status == "WARN"
    assert quota_result("x", 11, 0, 10, "s").status == "FAIL"


def test_a_region_without_a_service_fails_naming_it(plan: Plan, aws: boto3.session.Session) -> None:
    (result,) = check_region(ctx(plan, aws, region="us-iso-west-1"))
    assert result.lines() == [
        "FAIL  region: us-iso-west-1 lacks athena, glue, lakeformation (botocore's bundled "
        "endpoint data)",
        "      fix: deploy to a region that offers them: set `region` in cdk.json",
    ]


def test_a_resource_type_of_no_known_service_is_named(
    plan: Plan, aws: boto3.session.Session
) -> None:
    templates = copy.deepcopy(plan.templates)
    templates["datalake-sandbox-storage"]["Resources"]["New"] = {"Type": "AWS::Bedrock::Agent"}
    (result,) = check_region(ctx(dataclasses.replace(plan, templates=templates), aws))
    assert result.lines() == [
        "WARN  region: no service known for AWS::Bedrock::Agent",
        "      fix: check by hand that the region offers them",
    ]


def test_without_data_lake_settings_in_the_app_nothing_adds_the_execution_role(
    plan: Plan, aws: boto3.session.Session
) -> None:
    lake_settings(aws, [], defaults=True)
    templates = {
        stack: {**t, "Resources": {k: r for k, r in t["Resources"].items()
                                   if r["Type"] != "AWS::LakeFormation::DataLakeSettings"}}
        for stack, t in plan.templates.items()
    }  # fmt: skip
    bare = dataclasses.replace(plan, templates=templates)
    (admins,) = check_lake_admins(ctx(bare, aws))
    assert admins.status == "WARN"
    assert "the deploy does not add it" in admins.found
    (defaults,) = check_iam_allowed_principals(ctx(bare, aws))
    assert defaults.status == "FAIL"
    lake_settings(aws, [], defaults=False)
    (defaults,) = check_iam_allowed_principals(ctx(bare, aws))
    assert defaults.found == (
        "no default permissions for IAM_ALLOWED_PRINCIPALS; the deploy does not change them"
    )


def test_the_command_line_reads_the_assembly(
    assembly: Path, aws: boto3.session.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    ready(aws)
    assert preflight.main(["--env", "sandbox", "--assembly", str(assembly)]) == 0
    assert capsys.readouterr().out.startswith("PASS  credentials: ")
    with pytest.raises(SystemExit) as refused:
        preflight.main(["--env", "sandbox", "--assembly", str(assembly.parent / "missing")])
    assert refused.value.code == 2
    assert "manifest.json not found: synthesize sandbox first" in capsys.readouterr().err


def test_the_readme_example_is_what_the_preflight_prints(
    plan: Plan, aws: boto3.session.Session
) -> None:
    bootstrap(aws)  # and nothing else: moto's Lake Formation starts with AWS's defaults
    lines: list[str] = []
    assert preflight.run(plan, out=lines.append, session=aws) == 0
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    shown = readme.split("<!-- preflight -->\n")[1].split("   <!-- /preflight -->")[0]
    assert [line.removeprefix("       ") for line in shown.splitlines()] == lines, (
        "README.md's preflight example is not what the preflight prints: paste the new output"
    )


def refuse(
    session: boto3.session.Session, service: str, operation: str, code: str, status: int = 400,
    message: str = "",
) -> None:  # fmt: skip
    """Clients of ``session`` made from now on answer ``operation`` as AWS answers a refused
    call: what moto does not enforce (IAM, Lake Formation's filtering) made to happen."""

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": code, "Message": message},
                 "ResponseMetadata": {"HTTPStatusCode": status}}  # fmt: skip
        return AWSResponse("https://refused.example", status, {}, None), error

    session.events.register(f"before-call.{service}.{operation}", answer)


@pytest.fixture(scope="module")
def prod_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """The prod app as CI synthesizes it: the CI overlay, with a Slack channel for alerts."""
    outdir = tmp_path_factory.mktemp("preflight-prod") / "cdk.out.preflight"
    build_app(ci_context("prod"), outdir=str(outdir), enforce_compliance=False).app.synth()
    return read_plan(outdir, "prod")


@pytest.mark.parametrize("region", [REGION, "us-east-1", "ap-southeast-2"])
def test_the_prod_app_with_slack_alerts_is_not_failed_for_chatbot(
    prod_plan: Plan, aws: boto3.session.Session, region: str
) -> None:
    assert "AWS::Chatbot::SlackChannelConfiguration" in prod_plan.resource_types()
    (result,) = check_region(ctx(prod_plan, aws, region=region))
    assert result.status == "PASS", result.lines()
    assert result.found.startswith(f"{region} offers all ")


def test_a_service_botocore_lists_no_region_for_is_named_not_failed(
    prod_plan: Plan, aws: boto3.session.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preflight_checks, "GLOBAL_SERVICES", {"iam"})  # chatbot as any other
    (result,) = check_region(ctx(prod_plan, aws))
    assert result.lines() == [
        "WARN  region: not checked: botocore lists no regions for chatbot",
        "      fix: check by hand that the region offers them",
    ]


def test_a_refused_look_up_of_the_bootstrap_stack_is_named_not_called_missing(
    plan: Plan, aws: boto3.session.Session
) -> None:
    ready(aws)
    refuse(aws, "cloudformation", "DescribeStacks", "AccessDenied", 403, "not authorized")
    status, lines = run(plan, aws)
    assert lines_of(lines, "bootstrap") == [
        "WARN  bootstrap: not checked: DescribeStacks answered AccessDenied"
    ]
    assert status == 0


def test_a_validation_error_about_something_else_is_no_missing_stack(
    plan: Plan, aws: boto3.session.Session
) -> None:
    ready(aws)
    refuse(aws, "cloudformation", "DescribeStacks", "ValidationError", 400, "Rate exceeded")
    _, lines = run(plan, aws)
    assert lines_of(lines, "bootstrap") == [
        "WARN  bootstrap: not checked: DescribeStacks answered ValidationError"
    ]


def test_a_bucket_head_bucket_refuses_is_not_called_taken(
    plan: Plan, aws: boto3.session.Session
) -> None:
    # S3 answers a bare 403, with no body, for another account's bucket and for credentials
    # without s3:ListBucket alike.
    refuse(aws, "s3", "HeadBucket", "403", 403, "Forbidden")
    named = FixedName("AWS::S3::Bucket", "datalake-sandbox-landing", "datalake-sandbox-storage")
    (result,) = check_names(ctx(dataclasses.replace(plan, names=[named]), aws))
    assert result.status == "WARN"
    assert result.found.startswith(
        "S3 bucket datalake-sandbox-landing: cannot tell (access denied)"
    )


def test_a_stack_of_more_than_a_page_of_resources_is_read_to_its_end(
    plan: Plan, aws: boto3.session.Session
) -> None:
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    resources: dict[str, Any] = {
        f"Parameter{i}": {"Type": "AWS::SSM::Parameter",
                          "Properties": {"Type": "String", "Value": "x", "Name": f"/p/{i}"}}
        for i in range(120)
    }  # fmt: skip
    resources["Pipeline"] = {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
        "StateMachineName": "datalake-sandbox-orders-pipeline", "DefinitionString": definition,
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/pipeline"}}  # fmt: skip
    aws.client("cloudformation").create_stack(
        StackName="datalake-sandbox-dataset-orders",
        TemplateBody=json.dumps({"Resources": resources}),
    )
    called: list[str] = []
    aws.events.register("before-call.cloudformation", lambda model, **_: called.append(model.name))
    c = ctx(plan, aws)
    assert check_names(c)[0].found == "17 fixed names: 16 free, 1 already this app's"
    results = {r.check: r for r in check_quotas(c)}
    assert results["quota state machines"].found.startswith("adds 1; 1 of 10000 used")
    # DescribeStackResources answers at most 100 resources: the paginated list is read instead.
    assert "ListStackResources" in called
    assert "DescribeStackResources" not in called


def test_without_a_lake_formation_admin_caller_existing_grants_are_not_checked(
    plan: Plan, aws: boto3.session.Session
) -> None:
    # Lake Formation lists only the grants its caller may see; moto lists them all, so the
    # settings alone make the caller no admin.
    lake_settings(aws, [EXEC_ROLE], defaults=False, read_only=())
    aws.client("glue").create_database(DatabaseInput={"Name": "datalake_sandbox_raw"})
    aws.client("lakeformation").grant_permissions(
        Principal=EVERYONE, Resource={"Database": {"Name": "datalake_sandbox_raw"}},
        Permissions=["ALL"],
    )  # fmt: skip
    results = check_iam_allowed_principals(ctx(plan, aws))
    assert [r.status for r in results] == ["PASS", "WARN"]
    assert results[1].found.startswith(
        "not checked: the caller is not a Lake Formation admin or read-only admin"
    )
    assert results[1].fix.startswith(f"run the preflight as one, e.g. with {CALLER} among")


def test_an_assumed_role_session_is_checked_as_its_role(
    plan: Plan, aws: boto3.session.Session
) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/deployer"
    lake_settings(aws, [EXEC_ROLE, role], defaults=False, read_only=())
    keys = aws.client("sts").assume_role(RoleArn=role, RoleSessionName="github")["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"], region_name=REGION,
    )  # fmt: skip
    assert (
        session.client("sts").get_caller_identity()["Arn"].endswith(":assumed-role/deployer/github")
    )
    (result,) = check_iam_allowed_principals(ctx(plan, session))
    assert result.status == "PASS"


def test_session_arns_are_their_roles_and_other_arns_themselves() -> None:
    assert caller_principal("arn:aws-cn:sts::111122223333:assumed-role/Deploy/gh-1") == (
        "arn:aws-cn:iam::111122223333:role/Deploy"
    )
    user = "arn:aws:iam::111122223333:user/ana"
    assert caller_principal(user) == user


def test_catalog_reads_lake_formation_refuses_are_not_checked_not_passed(
    plan: Plan, aws: boto3.session.Session
) -> None:
    lake_settings(aws, [EXEC_ROLE], defaults=False)
    refuse(aws, "glue", "GetTable", "AccessDeniedException", 400,
           "Insufficient Lake Formation permission(s) on orders")  # fmt: skip
    results = check_iam_allowed_principals(ctx(plan, aws))
    assert [r.status for r in results] == ["PASS", "WARN"]
    table = "table {}.{}".format(*plan.tables[0])
    assert results[1].found.startswith(f"not checked: Lake Formation refused the caller {table}")


def test_a_catalog_read_iam_refuses_is_named_by_the_preflight(
    plan: Plan, aws: boto3.session.Session
) -> None:
    ready(aws)
    refuse(aws, "glue", "GetDatabase", "AccessDeniedException", 400, "not authorized")
    _, lines = run(plan, aws)
    assert lines_of(lines, "iam allowed principals") == [
        "WARN  iam allowed principals: not checked: GetDatabase answered AccessDeniedException"
    ]
