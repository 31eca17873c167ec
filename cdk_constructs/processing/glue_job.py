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

from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import acknowledge
from model.config import Processing

GLUE_JOBS = Path(__file__).resolve().parents[2] / "glue_jobs"


def glue_modules(*names: str) -> str:
    """A folder holding the named packages, to ship as one zip with --extra-py-files, so the
    job imports ``<package>.<module>``; only their ``*.py`` files, so stray files never change
    the asset (a single-file asset would be named after its hash, and so not be importable)."""
    staging = Path(tempfile.mkdtemp(prefix="glue-modules-"))
    for name in names:
        (staging / name).mkdir()
        for module in sorted((GLUE_JOBS.parent / name).glob("*.py")):
            shutil.copyfile(module, staging / name / module.name)
    return str(staging)


@dataclass(frozen=True)
class GlueJobParts:
    role: ManagedRole
    job: glue.CfnJob


def add_glue_job(
    scope: Construct,
    *,
    name: str,
    description: str,
    role_description: str,
    script: str,
    modules: Sequence[str],
    processing: Processing,
    security_configuration: str,
    arguments: Mapping[str, str],
    max_retries: int,
    metric_namespaces: Sequence[str] = ("Glue",),
) -> GlueJobParts:
    """Add a Glue 5.0 PySpark job to ``scope``: ``Script``, ``<Module>`` assets, ``Role``, ``Job``.

    ``modules`` ship in one zip beside the script (``<Module>`` is named after the first).

    Run settings every job shares: worker type and maximum workers from configuration with
    auto-scaling, the Flex execution class where the environment allows it, one run at a
    time, the timeout from configuration, the shared security configuration (S3 output,
    logs and bookmarks encrypted), continuous logging and job metrics.
    """
    stack = Stack.of(scope)
    script_asset = assets.Asset(scope, "Script", path=str(GLUE_JOBS / f"{script}.py"))
    module_asset = assets.Asset(scope, modules[0].capitalize(), path=glue_modules(*modules))
    role = ManagedRole(
        scope,
        "Role",
        description=role_description,
        assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
    )
    for asset in (script_asset, module_asset):
        asset.grant_read(role)
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                     "logs:AssociateKmsKey"],
            resources=[stack.format_arn(service="logs", resource="log-group",
                                        resource_name="/aws-glue/*",
                                        arn_format=ArnFormat.COLON_RESOURCE_NAME)],
        )
    )  # fmt: skip
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": list(metric_namespaces)}},
        )
    )
    job = glue.CfnJob(
        scope,
        "Job",
        name=name,
        description=description,
        role=role.role_arn,
        command=glue.CfnJob.JobCommandProperty(
            name="glueetl", python_version="3", script_location=script_asset.s3_object_url
        ),
        glue_version="5.0",
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
        },
    )
    job.node.add_dependency(role)
    acknowledge(
        job,
        "The job uses the catalog stack's shared security configuration by name, which "
        "cdk-nag cannot follow; it encrypts S3 output, CloudWatch logs and job bookmarks "
        "with the data key (asserted in tests).",
        "AwsSolutions-GL1",
        "AwsSolutions-GL3",
    )
    return GlueJobParts(role=role, job=job)


# Findings every Glue job role has: its own script assets in the CDK assets bucket, the
# /aws-glue/* log groups Glue names itself, and metrics (namespace-conditioned).
GLUE_ROLE_FINDINGS = (
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
    "cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
    "<AWS::AccountId>:log-group:/aws-glue/*]",
    "AwsSolutions-IAM5[Resource::*]",
)
