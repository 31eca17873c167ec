"""cdk-nag: every pack passes, each acknowledgment is narrow and reasoned, synth enforces it."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from blueprint import compliance
from blueprint.factory import Blueprint, build_app, cdk_json_context
from model.config import ConfigError
from tests.conftest import ci_context, make_blueprint

PACKS = ["AwsSolutions", "HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321", "Serverless"]
FINDING_ID = re.compile(
    r"^(AwsSolutions|HIPAA\.Security|NIST\.800\.53\.R5|PCI\.DSS\.321|Serverless)-[A-Za-z0-9]+"
    r"(\[[^\]]+\])?$"
)


def acknowledgments(blueprint: Blueprint) -> list[tuple[str, str, str]]:
    """(construct path, finding ID, reason) of every acknowledgment in the app."""
    found = []
    for construct in blueprint.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for key, reason in entry.data.items():
                    found.append((construct.node.path, key.removeprefix("Annotation::"), reason))
    return found


def test_the_five_packs_are_registered() -> None:
    assert [pack.read_pack_name for pack in compliance.nag_packs()] == PACKS


@pytest.mark.parametrize("pack_index", range(len(PACKS)), ids=PACKS)
def test_every_pack_passes(blueprint: Blueprint, pack_index: int) -> None:
    pack = compliance.nag_packs()[pack_index]
    report = pack.validate_scope(blueprint.app)
    findings = [
        f"{v.rule_name}: {[c.construct_path for c in v.violating_resources]}"
        for v in report.violations
    ]
    assert report.success, "\n".join(findings)


def test_every_acknowledgment_names_a_granular_finding_and_gives_a_reason(
    blueprint: Blueprint,
) -> None:
    acks = acknowledgments(blueprint)
    assert acks, "expected the documented acknowledgments"
    stacks = {stack.node.path for stack in blueprint.stacks}
    for path, finding, reason in acks:
        assert FINDING_ID.match(finding), f"{path}: {finding} is not a cdk-nag finding ID"
        assert len(reason.split()) >= 12, f"{path}: {finding} needs a reason a reviewer accepts"
        assert path not in stacks, f"{finding} acknowledged on a whole stack"
        assert path != "", f"{finding} acknowledged on the whole app"


def test_acknowledgments_are_the_reviewed_ones(blueprint: Blueprint) -> None:
    """A new acknowledgment is a security decision: it must be added here, on purpose."""
    acks = {(path, finding) for path, finding, _ in acknowledgments(blueprint)}
    database = blueprint.config.database_name
    packs = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
    buckets = {
        "AccessLogsBucket": "AccessLogsBucket83982689",
        "LandingBucket": "LandingBucket23FE90FB",
        "RawBucket": "RawBucket0C3EE094",
        "CuratedBucket": "CuratedBucket6A59C97E",
        "AnalyticsBucket": "AnalyticsBucket39EAAEEA",
        "AthenaResultsBucket": "AthenaResultsBucket879938FA",
        "AuditLogs/Bucket": "AuditLogsBucketCBA431F7",
    }
    iam5 = "AwsSolutions-IAM5"
    glue_arn = "arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>"

    def tables(*zones: str) -> set[str]:
        return {f"{iam5}[Resource::{glue_arn}:table/{database(zone)}/*]" for zone in zones}

    expected = {
        (f"Storage/{b}", f"{pack}-S3BucketReplicationEnabled") for b in buckets for pack in packs
    }
    expected |= {("Storage/AccessLogsBucket", f"{pack}-S3BucketLoggingEnabled") for pack in packs}
    expected |= {("Storage/AccessLogsBucket", "AwsSolutions-S1")}
    expected |= {("Storage/AccessLogsBucket", f"{pack}-S3DefaultEncryptionKMS") for pack in packs}
    expected |= {
        ("Storage/LakeFormationDataAccessRole", finding)
        for finding in {
            *(f"{iam5}[Resource::<{buckets[b]}.Arn>/*]" for b in ("RawBucket", "CuratedBucket",
                                                                  "AnalyticsBucket")),
            *(f"{iam5}[Action::s3:{a}*]" for a in ("Abort", "DeleteObject", "GetBucket",
                                                    "GetObject", "List")),
            f"{iam5}[Action::kms:GenerateDataKey*]",
            f"{iam5}[Action::kms:ReEncrypt*]",
        }
    }  # fmt: skip
    expected |= {
        ("Storage/AuditLogs/ReadPolicy", f"{iam5}[Resource::<AuditLogsBucketCBA431F7.Arn>/*]"),
        ("Storage/IngestReviewPolicy", f"{iam5}[Resource::<LandingBucket23FE90FB.Arn>/*]"),
        ("Storage/IngestReviewPolicy", f"{iam5}[Resource::<RawBucket0C3EE094.Arn>/_quarantine/*]"),
    }
    personas = {
        "AnalystRole": tables("curated", "analytics"),
        "ScientistRole": tables("curated", "analytics"),
        "EngineerRole": tables("raw", "curated", "analytics")
        | {f"{iam5}[Resource::{glue_arn}:crawler/datalake-{blueprint.config.name}-*]"},
        "SecurityOfficerRole": tables("raw", "curated", "analytics")
        | {
            # The trail's log group, borrowed by name: its ARN ends in :* (its streams).
            f"{iam5}[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
            'log-group:{"Fn::GetStackOutput":{"StackName":"datalake-%s-audit","Region":'
            '{"Ref":"AWS::Region"},"OutputName":"TrailLogGroupName"}}:*]' % blueprint.config.name
        },
    }
    for role, findings in personas.items():
        expected |= {(f"Governance/{role}", f) for f in findings | {f"{iam5}[Resource::*]"}}
    storage_output = (
        '{"Fn::GetStackOutput":{"StackName":"datalake-%s-storage","Region":{"Ref":'
        '"AWS::Region"},"OutputName":"%sBucketArn"}}'
    )
    bucket_access = {
        f"{iam5}[Action::s3:{a}*]"
        for a in ("GetObject", "GetBucket", "List", "DeleteObject", "Abort")
    } | {f"{iam5}[Action::kms:GenerateDataKey*]", f"{iam5}[Action::kms:ReEncrypt*]"}
    env = blueprint.config.name
    expected |= {
        ("Ingest/BatchIngest/Role", finding)
        for finding in bucket_access
        | {
            f"{iam5}[Resource::{storage_output % (env, 'Landing')}/*]",
            f"{iam5}[Resource::{storage_output % (env, 'Raw')}/*]",
            f"{iam5}[Resource::*]",
        }
    }
    expected |= {
        ("Ingest/BatchIngest/DeadLetterQueue", "AwsSolutions-SQS3"),
        ("Ingest/BatchIngest/DeadLetterQueue", "Serverless-SQSRedrivePolicy"),
        ("Ingest/BatchIngest/Function", "Serverless-LambdaAsyncFailureDestination"),
        *(("Ingest/BatchIngest/Function", f"{p}-LambdaInsideVPC") for p in packs),
    }
    if blueprint.config.ingest.reserved_concurrency is None:
        expected |= {("Ingest/BatchIngest/Function", f"{p}-LambdaConcurrency") for p in packs}
    for name, stack in blueprint.dataset_stacks.items():
        if stack.dataset.source.mode == "streaming":
            # Its dataset's raw folder and its Firehose quarantine folder, nothing else.
            expected |= {
                (f"Dataset-{name}/StreamIngest/Role", finding)
                for finding in {
                    f"{iam5}[Resource::{storage_output % (env, 'Raw')}/{name}/*]",
                    f"{iam5}[Resource::{storage_output % (env, 'Raw')}/_quarantine/{name}/"
                    "firehose/*]",
                }
            }
    expected |= {
        ("Storage/PiiSalt", finding)
        for finding in {"AwsSolutions-SMG4", *(f"{p}-SecretsManagerRotationEnabled" for p in packs)}
    }
    for name in blueprint.dataset_stacks:
        job_role = f"Dataset-{name}/Curation/Role"
        expected |= {
            (f"Dataset-{name}/Curation/Job", f) for f in ("AwsSolutions-GL1", "AwsSolutions-GL3")
        }
        expected |= {
            (job_role, finding)
            for finding in bucket_access
            | {
                f"{iam5}[Resource::{storage_output % (env, 'Raw')}/{name}/*]",
                f"{iam5}[Resource::{storage_output % (env, 'Raw')}/_quarantine/{name}/"
                "processing/*]",
                f"{iam5}[Resource::{storage_output % (env, 'Curated')}/{name}/*]",
                f"{iam5}[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                "log-group:/aws-glue/*]",
                # In-job data-quality results: glue:PublishDataQuality on rulesets.
                f"{iam5}[Resource::arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:"
                "dataQualityRuleset/*]",
                f"{iam5}[Resource::*]",
            }
        }
    for name, stack in blueprint.dataset_stacks.items():
        if not stack.dataset.marts:
            continue
        expected |= {
            (f"Dataset-{name}/Analytics/Job", f) for f in ("AwsSolutions-GL1", "AwsSolutions-GL3")
        }
        expected |= {
            (f"Dataset-{name}/Analytics/Role", finding)
            for finding in bucket_access
            | {
                f"{iam5}[Resource::{storage_output % (env, 'Curated')}/{name}/*]",
                f"{iam5}[Resource::*]",
            }
            | {
                f"{iam5}[Resource::{storage_output % (env, 'Analytics')}/{m.name}/*]"
                for m in stack.dataset.marts
            }
            | {
                f"{iam5}[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                "log-group:/aws-glue/*]",
            }
        }
    # The erasure job's role: explicit actions (no action wildcards), on the dataset's folders
    # in every zone, the requests in raw and the records in the audit bucket.
    for name, stack in blueprint.dataset_stacks.items():
        if stack.dataset.subject is None:
            continue
        expected |= {
            (f"Dataset-{name}/Erasure/Job", f) for f in ("AwsSolutions-GL1", "AwsSolutions-GL3")
        }
        folders = [("Landing", name), ("Raw", name), ("Raw", f"_quarantine/{name}"),
                   ("Curated", name), *(("Analytics", m.name) for m in stack.dataset.marts),
                   ("Raw", "_erasure/requests"), ("AuditLogs", "erasure")]  # fmt: skip
        expected |= {
            (f"Dataset-{name}/Erasure/Role", finding)
            for finding in {
                *(f"{iam5}[Resource::{storage_output % (env, b)}/{p}/*]" for b, p in folders),
                f"{iam5}[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                "log-group:/aws-glue/*]",
                f"{iam5}[Resource::*]",
            }
        }
    # The engineer's erasure duty: every forget job, the pipelines' runs, the requests, the
    # records.
    expected |= {
        ("Governance/EngineerRole", finding)
        for finding in {
            f"{iam5}[Resource::{glue_arn}:job/datalake-{env}-*-forget]",
            f"{iam5}[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
            f"stateMachine:datalake-{env}-*-pipeline]",
            f"{iam5}[Resource::{storage_output % (env, 'Raw')}/_erasure/requests/*]",
            f"{iam5}[Resource::{storage_output % (env, 'AuditLogs')}/erasure/*]",
        }
    }
    # The table optimizers' role: the dataset's table folders, the three log groups Glue names
    # for them, lakeformation:GetDataAccess (no resource-level permissions).
    for name, stack in blueprint.dataset_stacks.items():
        expected |= {
            (f"Dataset-{name}/TableMaintenance/Role", finding)
            for finding in bucket_access
            | {
                f"{iam5}[Resource::{storage_output % (env, 'Curated')}/{name}/*]",
                f"{iam5}[Resource::*]",
            }
            | {
                f"{iam5}[Resource::{storage_output % (env, 'Analytics')}/{m.name}/*]"
                for m in stack.dataset.marts
            }
            | {
                f"{iam5}[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                f"log-group:/aws-glue/iceberg-{kind}/logs:*]"
                for kind in ("compaction", "retention", "orphan-file-deletion")
            }
        }
    for name in blueprint.dataset_stacks:
        crawler = f"Dataset-{name}/RawCrawler"
        expected |= {
            (f"{crawler}/Crawler", "AwsSolutions-GL1"),
            (f"{crawler}/Role", f"{iam5}[Resource::*]"),
            (
                f"{crawler}/Role",
                f"{iam5}[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:"
                "log-group:/aws-glue/crawlers-role/*]",
            ),
        }
    # Pipelines: X-Ray and log delivery have no resource-level permissions; dead-letter
    # queues get no dead-letter queue of their own.
    expected.add(("Alerts/PipelineAlerts/PublishRole", f"{iam5}[Action::kms:GenerateDataKey*]"))
    # An alert e-mail subscription (prod, through CI's overlay): SNS retries e-mail itself.
    if blueprint.config.alerts.email:
        expected.add(
            (f"Alerts/PipelineAlerts/Topic/{blueprint.config.alerts.email}",
             "Serverless-SNSRedrivePolicy")
        )  # fmt: skip
    # Each persona's Athena results: objects named by query ID under its own prefix.
    results_output = storage_output.replace("BucketArn", "ResultsBucketArn") % (env, "Athena")
    expected |= {
        (f"Delivery/{persona.capitalize()}WorkGroup/Policy",
         f"{iam5}[Resource::{results_output}/datalake-{env}-{persona}/*]")
        for persona in ("analyst", "scientist", "engineer")
    }  # fmt: skip
    # athena:ListWorkGroups (for the console) has no resource-level permissions.
    expected |= {
        (f"Delivery/{persona.capitalize()}WorkGroup/Policy", f"{iam5}[Resource::*]")
        for persona in ("analyst", "scientist", "engineer")
    }
    dead_letter_queues = ["Alerts/PipelineAlerts/DeadLetterQueue"]
    for name in blueprint.dataset_stacks:
        expected.add((f"Dataset-{name}/Pipeline/Role", f"{iam5}[Resource::*]"))
        dead_letter_queues.append(f"Dataset-{name}/Triggers/DeadLetterQueue")
    expected |= {
        (queue, finding)
        for queue in dead_letter_queues
        for finding in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy")
    }
    assert acks == expected


def test_synth_fails_on_an_unacknowledged_finding() -> None:
    blueprint = build_app({**cdk_json_context(), "env": "sandbox"})
    s3.Bucket(blueprint.storage, "CarelessBucket")  # no encryption, logging or TLS policy
    with pytest.raises(RuntimeError, match="ValidationFailed") as error:
        blueprint.app.synth()
    message = str(error.value)
    assert "Storage/CarelessBucket/Resource" in message
    for pack in PACKS[:4]:  # the Serverless pack has no S3 rules
        assert f"({pack})" in message


def test_the_shipped_app_synthesizes_with_the_packs_enforced() -> None:
    blueprint = build_app(ci_context("prod"))
    assembly = blueprint.app.synth()
    assert {s.stack_name for s in assembly.stacks} == {
        f"datalake-prod-{name}"
        for name in (
            "storage",
            "audit",
            "governance",
            "catalog",
            "ingest",
            "alerts",
            "monitoring",
            "delivery",
            "dataset-clickstream",
            "dataset-orders",
        )
    }


def test_acknowledgments_do_not_hide_findings_on_other_resources() -> None:
    """A bucket built like the access-log bucket, beside it, is still flagged."""
    blueprint = make_blueprint("sandbox")
    s3.Bucket(
        blueprint.storage,
        "LookAlike",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
    )
    flagged = set()
    for pack in compliance.nag_packs():
        for violation in pack.validate_scope(blueprint.app).violations:
            paths = {c.construct_path for c in violation.violating_resources}
            flagged |= {(violation.rule_name, path) for path in paths}
    look_alike = "Storage/LookAlike/Resource"
    assert ("AwsSolutions-S1", look_alike) in flagged
    assert ("NIST.800.53.R5-S3DefaultEncryptionKMS", look_alike) in flagged
    assert ("PCI.DSS.321-S3BucketReplicationEnabled", look_alike) in flagged
    assert {path for _, path in flagged} == {look_alike}


@pytest.mark.parametrize(("flag", "runs"), [("true", True), ("false", False), (None, False)])
def test_cdk_cloudformation_validation_runs_when_asked(
    tmp_path: Path, flag: str | None, runs: bool
) -> None:
    """CI synthesizes with -c cfnValidate=true; everyday synth leaves it to cfn-lint."""
    context = {**cdk_json_context(), "env": "sandbox"}
    if flag is not None:
        context["cfnValidate"] = flag
    blueprint = build_app(context, outdir=str(tmp_path), enforce_compliance=False)
    bucket = s3.Bucket(blueprint.storage, "Odd", enforce_ssl=True)
    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    cfn_bucket.add_property_override("LifecycleConfiguration", {"Rules": [{"Status": "Sometimes"}]})
    blueprint.app.synth()
    report = tmp_path / "validation-report.json"
    plugins = (
        {r["pluginName"] for r in json.loads(report.read_text())["pluginReports"]}
        if report.exists()
        else set()
    )
    assert ("CloudFormation Validate" in plugins) is runs


def test_a_bad_validation_flag_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"-c cfnValidate='yes': expected true or false"):
        build_app({**cdk_json_context(), "cfnValidate": "yes"}, enforce_compliance=False)


@pytest.mark.parametrize("pack_index", range(len(PACKS)), ids=PACKS)
def test_every_pack_passes_where_account_and_region_are_set(pack_index: int) -> None:
    """An environment deployed to a named account and region (cdk.json's account and region)
    renders ARNs with their values; every acknowledgment still names its finding."""
    environments = copy.deepcopy(cdk_json_context()["environments"])
    # Prod's account is that of CI's overlay, whose alert topic must be in prod's account.
    environments["sandbox"] |= {"account": "444455556666", "region": "eu-west-1"}
    environments["prod"] |= {"account": "111122223333", "region": "eu-west-1"}
    blueprint = make_blueprint("sandbox", environments=environments)
    report = compliance.nag_packs()[pack_index].validate_scope(blueprint.app)
    assert report.success, [v.rule_name for v in report.violations]
