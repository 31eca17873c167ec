"""The deploy rehearsal: the synthesized sandbox deployed into moto, checked through the
services' APIs, a file run through it, destroyed; and each way a deploy can be broken that
the rehearsal must catch: a missing output, a missing upstream stack, a wrong database name,
code that is not the asset, a bootstrap too old, a resource the destroy leaves behind."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blueprint.factory import ROOT, build_app
from deploy import adapters, emulated_cloud, pipeline_run, rehearsal
from deploy.destroy import destroy, leftovers
from deploy.emulated_cloud import RehearsalError
from local_lake.aws import moto_server
from tests.conftest import ci_context

# What no emulator here creates: the Glue types moto has no API for (and CDK's metadata,
# which `cdk synth` adds and the tests' synth does not: it creates nothing in AWS either).
NOT_REHEARSED = {"AWS::Glue::Classifier", "AWS::Glue::DataQualityRuleset",
                 "AWS::Glue::TableOptimizer"}  # fmt: skip
SAMPLE = ROOT / "datasets" / "samples" / "orders.csv"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox as `cdk synth` writes it (assets staged), once for the module."""
    outdir = tmp_path_factory.mktemp("rehearsal") / "cdk.out"
    build_app(ci_context("sandbox"), outdir=str(outdir), enforce_compliance=False).app.synth()
    return outdir


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Any]:
    with moto_server(tmp_path / "moto.log") as aws, adapters.installed():
        yield aws


def doctored(assembly: Path, tmp_path: Path, stack: str, change: Any) -> Path:
    """A copy of ``assembly`` whose template of ``stack`` went through ``change``."""
    copy = tmp_path / "cdk.out"
    shutil.copytree(assembly, copy)
    path = copy / f"{stack}.template.json"
    template = json.loads(path.read_text())
    change(template["Resources"])
    path.write_text(json.dumps(template))
    return copy


def of_type(resources: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(r for r in resources.values() if r["Type"] == type_)


def test_every_stack_deploys_and_every_resource_is_found_with_its_properties(
    assembly: Path, emulator: Any
) -> None:
    deployment = rehearsal.deploy(assembly, emulator, ROOT)
    found = rehearsal.verify(deployment)

    assert [s.artifact_id for s in deployment.stacks][:2] == ["Storage", "Audit"]
    assert len(deployment.stacks) == 10
    assert [f"{r.stack} {r.logical_id}: {p}" for r in found for p in r.problems] == []
    templates = [json.loads(p.read_text()) for p in assembly.glob("*.template.json")]
    assert len(found) == sum(len(t["Resources"]) for t in templates)  # every resource, once
    assert {r.type for r in found if r.status == "not rehearsed"} == NOT_REHEARSED
    rehearsed = [r for r in found if r.status == "rehearsed"]
    assert len(rehearsed) > 180
    assert all(adapters.how_rehearsed(r.type) in ("moto", "adapter") for r in rehearsed)
    lines = rehearsal.report(found).splitlines()
    total = next(line.split() for line in lines if line.startswith("total"))
    assert total == ["total", str(len(rehearsed)), str(len(found) - len(rehearsed))]
    assert lines[-1] == "not rehearsed: AWS::Glue::TableOptimizer 9, " \
        "AWS::Glue::DataQualityRuleset 2, AWS::Glue::Classifier 1"  # fmt: skip


def test_a_stack_that_reads_an_output_its_upstream_lacks_fails_naming_both(
    assembly: Path, emulator: Any, tmp_path: Path
) -> None:
    def misname(resources: dict[str, Any]) -> None:
        queue = of_type(resources, "AWS::SQS::Queue")
        queue["Properties"]["KmsMasterKeyId"]["Fn::GetStackOutput"]["OutputName"] = "NoSuchKeyArn"

    with pytest.raises(RehearsalError) as refused:
        rehearsal.deploy(doctored(assembly, tmp_path, "Ingest", misname), emulator, ROOT,
                         only={"Storage", "Ingest"})  # fmt: skip

    assert "datalake-sandbox-ingest reads output NoSuchKeyArn of stack datalake-sandbox-" \
           "storage, which has no such output" in str(refused.value)  # fmt: skip


def test_a_stack_whose_upstream_stack_is_not_deployed_fails(assembly: Path, emulator: Any) -> None:
    with pytest.raises(RehearsalError, match="reads outputs of stack datalake-sandbox-storage, "
                                             "which is not deployed"):  # fmt: skip
        rehearsal.deploy(assembly, emulator, ROOT, only={"Ingest"})


def test_a_crawler_database_or_job_bucket_that_does_not_exist_fails_the_checks(
    assembly: Path, emulator: Any, tmp_path: Path
) -> None:
    def misname(resources: dict[str, Any]) -> None:
        of_type(resources, "AWS::Glue::Crawler")["Properties"]["DatabaseName"] = "datalake_rav"
        job = of_type(resources, "AWS::Glue::Job")["Properties"]
        job["DefaultArguments"]["--raw_path"] = "s3://no-such-raw-bucket/orders/"

    broken = doctored(assembly, tmp_path, "Dataset-orders", misname)
    deployment = rehearsal.deploy(broken, emulator, ROOT)  # CloudFormation accepts both, as AWS
    problems = {r.type: p for r in rehearsal.verify(deployment) for p in r.problems}

    assert problems == {
        "AWS::Glue::Crawler": "DatabaseName 'datalake_rav' leads nowhere (EntityNotFoundException)",
        "AWS::Glue::Job": "--raw_path 's3://no-such-raw-bucket/orders/' leads nowhere "
        "(ClientError)",
    }


def test_a_function_whose_code_is_not_its_asset_fails_the_checks(
    assembly: Path, emulator: Any
) -> None:
    deployment = rehearsal.deploy(assembly, emulator, ROOT, only={"Storage", "Ingest"})
    function = of_type(deployment.submitted["datalake-sandbox-ingest"]["Resources"],
                       "AWS::Lambda::Function")["Properties"]["Code"]  # fmt: skip
    bucket = f"cdk-hnb659fds-assets-{deployment.account}-{deployment.region}"
    deployment.clients("s3").put_object(Bucket=bucket, Key=function["S3Key"], Body=b"other")

    problems = [p for r in rehearsal.verify(deployment) for p in r.problems]

    assert len(problems) == 1
    assert "is not the asset's" in problems[0]


def test_a_bootstrap_older_than_the_templates_need_is_refused(assembly: Path) -> None:
    template = json.loads((assembly / "Storage.template.json").read_text())
    emulated_cloud.check_bootstrap_version(template, "storage", "33")

    with pytest.raises(RehearsalError, match="CDK bootstrap stack version 6 required"):
        emulated_cloud.check_bootstrap_version(template, "storage", "5")


def test_a_file_runs_through_the_deployed_ingest_and_pipeline_then_destroy_keeps_only_what_is_said(
    assembly: Path, emulator: Any, tmp_path: Path
) -> None:
    deployment = rehearsal.deploy(assembly, emulator, ROOT)

    found = pipeline_run.run(deployment, "orders", SAMPLE, tmp_path)

    assert found.ingest["status"] == "ingested"
    raw_bucket, _, raw_key = found.raw_object.removeprefix("s3://").partition("/")
    body = deployment.clients("s3").get_object(Bucket=raw_bucket, Key=raw_key)["Body"].read()
    assert body == SAMPLE.read_bytes()  # every byte, as landed
    assert found.execution_input == {"trigger": "arrival", "key": raw_key}
    assert found.states == ["Start", "ListRunningExecutions", "AnotherRunInProgress?", "CrawlRaw",
                            "WaitForCrawler"]  # fmt: skip
    assert found.crawls == ["datalake-sandbox-orders-raw: RUNNING"]
    assert found.stopped == "left at WaitForCrawler: the rehearsal does not wait"
    assert pipeline_run.went_wrong(found) == []

    empty = tmp_path / "orders-empty.csv"
    empty.write_bytes(b"")
    refused = pipeline_run.run(deployment, "orders", empty, tmp_path / "empty")
    assert refused.ingest["status"] == "quarantined"
    assert [p.split(":")[0] for p in pipeline_run.went_wrong(refused)] == [
        "the file was not ingested", "no pipeline ran"]  # fmt: skip

    # The destroy, with objects in landing and raw: the README's "what is kept", no more.
    assert leftovers(deployment, destroy(deployment)) == []
    cloudformation = emulator.client("cloudformation")
    stacks = cloudformation.list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]
    assert [s["StackName"] for s in stacks] == ["CDKToolkit"]  # the bootstrap stays
    settings = deployment.clients("lakeformation").get_data_lake_settings()["DataLakeSettings"]
    account, region = deployment.account, deployment.region
    exec_role = f"arn:aws:iam::{account}:role/cdk-hnb659fds-cfn-exec-role-{account}-{region}"
    assert {"DataLakePrincipalIdentifier": exec_role} in settings["DataLakeAdmins"]  # APPEND


def test_what_a_destroy_leaves_behind_is_reported(assembly: Path, emulator: Any) -> None:
    deployment = rehearsal.deploy(assembly, emulator, ROOT, only={"Storage", "Audit"})
    deployment.clients("glue").create_database(DatabaseInput={"Name": "made_by_hand"})

    left = leftovers(deployment, destroy(deployment))

    assert left == ["AWS::Glue::Database made_by_hand"]


def test_the_command_prints_counts_by_type_the_run_and_the_destroy(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = rehearsal.main(["--assembly", str(assembly), "--workdir", str(tmp_path)])

    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "deployed 10 stacks in" in printed
    assert "AWS::Glue::TableOptimizer                            0     9  not rehearsed" in printed
    assert "ingested    ingested -> s3://" in printed
    assert "destroy     nothing left but what the README says is kept" in printed


def test_a_bucket_encrypted_with_another_key_than_its_template_says_fails_the_checks(
    assembly: Path, emulator: Any
) -> None:
    deployment = rehearsal.deploy(assembly, emulator, ROOT, only={"Storage"})
    s3, kms = deployment.clients("s3"), deployment.clients("kms")
    landing = emulated_cloud.outputs(emulator.client("cloudformation"),
                                     "datalake-sandbox-storage")["LandingBucketName"]  # fmt: skip
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    s3.put_bucket_encryption(Bucket=landing, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                "KMSMasterKeyID": other}}]})  # fmt: skip

    problems = [p for r in rehearsal.verify(deployment) for p in r.problems]

    assert len(problems) == 1
    assert problems[0].startswith(f"encrypted with key {other}, not the template's ")


def test_a_lake_location_naming_a_bucket_that_does_not_exist_fails_the_checks(
    assembly: Path, emulator: Any, tmp_path: Path
) -> None:
    def misname(resources: dict[str, Any]) -> None:
        location = of_type(resources, "AWS::LakeFormation::Resource")["Properties"]
        location["ResourceArn"] = "arn:aws:s3:::no-such-lake-bucket/raw"

    broken = doctored(assembly, tmp_path, "Governance", misname)
    deployment = rehearsal.deploy(broken, emulator, ROOT, only={"Storage", "Audit", "Governance"})
    problems = [p for r in rehearsal.verify(deployment) for p in r.problems]

    assert problems == ["ResourceArn 'arn:aws:s3:::no-such-lake-bucket/raw' leads nowhere "
                        "(ClientError)"]  # fmt: skip


def test_prod_deploys_checks_clean_and_its_destroy_keeps_the_data(
    tmp_path: Path, emulator: Any
) -> None:
    outdir = tmp_path / "cdk.out"
    build_app(ci_context("prod"), outdir=str(outdir), enforce_compliance=False).app.synth()
    deployment = rehearsal.deploy(outdir, emulator, ROOT)
    found = rehearsal.verify(deployment)

    assert [f"{r.stack} {r.logical_id}: {p}" for r in found for p in r.problems] == []
    # Slack through AWS Chatbot, which moto has no API for, joins the Glue types.
    assert {r.type for r in found if r.status == "not rehearsed"} == NOT_REHEARSED | {
        "AWS::Chatbot::SlackChannelConfiguration"}  # fmt: skip

    assert leftovers(deployment, destroy(deployment)) == []
    kept = {b["Name"] for b in deployment.clients("s3").list_buckets()["Buckets"]}
    assert sum(name.startswith("datalake-prod-storage-") for name in kept) == 7  # every zone
