"""What every Glue job of the blueprint shares: script and modules, role, run settings."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as assets
from constructs import Construct

from cdk_constructs.common.catalog_arns import table_arns
from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import acknowledge, in_finding
from cdk_constructs.common.wildcards import allow_wildcards, wildcard_statement
from cdk_constructs.governance.lake_formation_tags import grant_by_tags
from model.config import Processing
from model.vocabulary import DATASET, ZONE

GLUE_JOBS = Path(__file__).resolve().parents[2] / "glue_jobs"
GLUE_VERSION = "5.1"  # Spark 3.5.6 and Iceberg 1.10.0: the pyspark the tests run is 3.5.6
# What a job may do on the Iceberg tables it writes (a commit is an UpdateTable), and on those
# it only reads.
WRITE_TABLE = ("SELECT", "INSERT", "DELETE", "ALTER", "DESCRIBE")
READ_TABLE = ("SELECT", "DESCRIBE")


def glue_package() -> str:
    """A folder holding the ``glue_jobs`` package, to ship as one zip with --extra-py-files,
    so the job imports ``glue_jobs.<module>``: only its ``*.py`` files, so stray files never
    change the asset (a single-file asset would be named after its hash, and so not be
    importable)."""
    staging = Path(tempfile.mkdtemp(prefix="glue-modules-"))
    (staging / GLUE_JOBS.name).mkdir()
    for module in sorted(GLUE_JOBS.glob("*.py")):
        shutil.copyfile(module, staging / GLUE_JOBS.name / module.name)
    return str(staging)


@dataclass(frozen=True)
class GlueJobParts:
    """What ``add_glue_job`` made that its caller grants to and refers to."""

    role: ManagedRole
    job: glue.CfnJob
    # The role's findings every job has, as cdk-nag writes them for this stack: the
    # /aws-glue/* log groups Glue names itself. Acknowledged by the caller with its own
    # findings; its metrics on "*" are acknowledged by ``allow_wildcards``.
    role_findings: tuple[str, ...]


def add_glue_job(
    scope: Construct,
    *,
    name: str,
    description: str,
    role_description: str,
    script: str,
    processing: Processing,
    security_configuration: str,
    arguments: Mapping[str, str],
    max_retries: int,
    wildcard_kind: str,
    metric_namespaces: Sequence[str] = ("Glue",),
) -> GlueJobParts:
    """Add a Glue 5.1 PySpark job, with Iceberg's libraries, to ``scope``: ``Script`` and
    ``Package`` assets, ``Role``, ``Job``. The script is one entry point of ``glue_jobs/``;
    the package ships beside it.

    Run settings every job shares: worker type and maximum workers from configuration with
    auto-scaling, the Flex execution class where the environment allows it, one run at a
    time, the timeout from configuration, the shared security configuration (logs and
    bookmarks encrypted; S3 output by each bucket's key), continuous logging and job metrics.
    ``wildcard_kind`` names the role in ``cdk_constructs.common.wildcards``.
    """
    script_asset = assets.Asset(scope, "Script", path=str(GLUE_JOBS / f"{script}.py"))
    module_asset = assets.Asset(scope, "Package", path=glue_package())
    role = _job_role(
        scope,
        description=role_description,
        reads=(script_asset, module_asset),
        metric_namespaces=metric_namespaces,
        wildcard_kind=wildcard_kind,
    )
    job = _job(
        scope,
        name=name,
        description=description,
        role=role,
        script_asset=script_asset,
        module_asset=module_asset,
        processing=processing,
        security_configuration=security_configuration,
        arguments=arguments,
        max_retries=max_retries,
    )
    findings = (f"AwsSolutions-IAM5[Resource::{in_finding(scope, _glue_log_groups(scope))}]",)
    return GlueJobParts(role=role, job=job, role_findings=findings)


def _glue_log_groups(scope: Construct) -> str:
    """The log groups Glue names for its jobs: ``/aws-glue/*``."""
    return Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name="/aws-glue/*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def _job_role(
    scope: Construct,
    *,
    description: str,
    reads: Sequence[assets.Asset],
    metric_namespaces: Sequence[str],
    wildcard_kind: str,
) -> ManagedRole:
    """The job's role, with what every job needs: its own asset objects (``reads``: the
    script and the package, the two files Glue downloads when a run starts; not the rest of
    the CDK assets bucket), the log groups Glue names ``/aws-glue/*``, and metrics in
    ``metric_namespaces`` only. The job's data is granted by whoever adds the job."""
    role = ManagedRole(
        scope,
        "Role",
        description=description,
        assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[a.bucket.arn_for_objects(a.s3_object_key) for a in reads],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                     "logs:AssociateKmsKey"],
            resources=[_glue_log_groups(scope)],
        )
    )  # fmt: skip
    role.add_to_principal_policy(
        wildcard_statement(
            wildcard_kind,
            ["cloudwatch:PutMetricData"],
            {"StringLike": {"cloudwatch:namespace": list(metric_namespaces)}},
        )
    )
    allow_wildcards(role, wildcard_kind)
    return role


def _job(
    scope: Construct,
    *,
    name: str,
    description: str,
    role: ManagedRole,
    script_asset: assets.Asset,
    module_asset: assets.Asset,
    processing: Processing,
    security_configuration: str,
    arguments: Mapping[str, str],
    max_retries: int,
) -> glue.CfnJob:
    """The job, with the run settings ``add_glue_job`` lists; the shared arguments win over
    any of ``arguments`` of the same name. It is created after its role and the role's
    policy, so its first run has its permissions."""
    job = glue.CfnJob(
        scope,
        "Job",
        name=name,
        description=description,
        role=role.role_arn,
        command=glue.CfnJob.JobCommandProperty(
            name="glueetl", python_version="3", script_location=script_asset.s3_object_url
        ),
        glue_version=GLUE_VERSION,
        worker_type=processing.worker_type,
        number_of_workers=processing.max_workers,
        execution_class="FLEX" if processing.flex else "STANDARD",
        timeout=processing.timeout_minutes,
        max_retries=max_retries,
        execution_property=glue.CfnJob.ExecutionPropertyProperty(max_concurrent_runs=1),
        security_configuration=security_configuration,
        default_arguments={
            **arguments,
            "--extra-py-files": module_asset.s3_object_url,
            "--job-language": "python",
            "--enable-metrics": "true",
            "--enable-continuous-cloudwatch-log": "true",
            "--enable-auto-scaling": "true",
            "--datalake-formats": "iceberg",
        },
    )
    job.node.add_dependency(role)
    acknowledge(
        job,
        "The job uses the catalog stack's shared security configuration by name, which "
        "cdk-nag cannot follow; it encrypts CloudWatch logs and job bookmarks with the "
        "operations key (asserted in tests).",
        "AwsSolutions-GL1",
        "AwsSolutions-GL3",
    )
    return job


def grant_dataset_tables(
    scope: Construct,
    id: str,
    role: iam.IRole,
    *,
    zone: str,
    database: str,
    dataset: str,
    tables: Sequence[str],
    write: bool,
) -> None:
    """Let a job's role reach a dataset's Iceberg tables in one zone through the catalog.

    IAM: the catalog calls Iceberg makes (read the table; commit a new snapshot, which is an
    ``UpdateTable``), on these tables only. Lake Formation: ``WRITE_TABLE`` or ``READ_TABLE``
    on the tables tagged with the zone and the dataset, which are exactly these.
    """
    actions = ["glue:GetDatabase", "glue:GetTable"] + (["glue:UpdateTable"] if write else [])
    arns = table_arns(scope, database, tables)
    role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=arns))
    grant_by_tags(
        scope,
        id,
        principal_arn=role.role_arn,
        resource_type="TABLE",
        expression={ZONE: [zone], DATASET: [dataset]},
        permissions=WRITE_TABLE if write else READ_TABLE,
    )
