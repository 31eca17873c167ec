"""The account-level checks of the preflight: credentials, bootstrap, region.

Each check is a small function of the shared ``Context`` returning the lines it prints, so a
test can run one alone against moto. None of them writes anything: they call only describe,
get and list operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from deploy.preflight_plan import BOOTSTRAP_PARAMETER, Plan

# A CloudFormation resource-type prefix -> the boto3 service whose endpoints say where it runs.
SERVICES = {
    "AWS::Athena": "athena",
    "AWS::CloudTrail": "cloudtrail",
    "AWS::CloudWatch": "cloudwatch",
    "AWS::EC2": "ec2",
    "AWS::Events": "events",
    "AWS::Glue": "glue",
    "AWS::IAM": "iam",
    "AWS::KMS": "kms",
    "AWS::KinesisFirehose": "firehose",
    "AWS::LakeFormation": "lakeformation",
    "AWS::Lambda": "lambda",
    "AWS::Logs": "logs",
    "AWS::RedshiftServerless": "redshift-serverless",
    "AWS::S3": "s3",
    "AWS::SNS": "sns",
    "AWS::SQS": "sqs",
    "AWS::Scheduler": "scheduler",
    "AWS::SecretsManager": "secretsmanager",
    "AWS::StepFunctions": "stepfunctions",
    "AWS::Chatbot": "chatbot",
    "AWS::SSM": "ssm",
}
# Resource types that are no service of their own: CDK's metadata, its custom resources.
NO_SERVICE = ("AWS::CDK::", "Custom::")
# One endpoint per partition, not per region: IAM; AWS Chatbot, whose configurations are
# global (botocore's endpoint data lists no region for it).
GLOBAL_SERVICES = {"iam", "chatbot"}


@dataclass(frozen=True)
class Result:
    """One printed line: PASS, WARN or FAIL, the check, what was found; a fix unless PASS."""

    status: str
    check: str
    found: str
    fix: str = ""

    def lines(self) -> list[str]:
        head = f"{self.status}  {self.check}: {self.found}"
        return [head, f"      fix: {self.fix}"] if self.status != "PASS" else [head]


@dataclass
class Context:
    """What every check shares: the plan, the session, the account and region checked."""

    plan: Plan
    session: boto3.session.Session
    region: str
    account: str = ""  # the credentials' account, once the credentials check has run
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    @property
    def bootstrap_fix(self) -> str:
        return f"npx cdk bootstrap aws://{self.account}/{self.region}"


def check_credentials(ctx: Context) -> list[Result]:
    """The credentials work (sts get-caller-identity) and are for the account cdk.json names."""
    try:
        identity = ctx.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        return [
            Result(
                "FAIL",
                "credentials",
                f"sts get-caller-identity failed: {error}",
                "sign in (aws sso login, or AWS_PROFILE=...) and run the preflight again",
            )
        ]
    ctx.account = identity["Account"]
    pinned = ctx.plan.account
    if pinned and pinned != ctx.account:
        return [
            Result(
                "FAIL",
                "credentials",
                f"{identity['Arn']} is in account {ctx.account}; cdk.json pins "
                f"{ctx.plan.env} to account {pinned}",
                f"use credentials for account {pinned}, or change `account` in cdk.json",
            )
        ]
    where = f"pinned by cdk.json to {pinned}" if pinned else "not pinned by cdk.json"
    return [
        Result(
            "PASS",
            "credentials",
            f"{identity['Arn']} in account {ctx.account} ({where}), region {ctx.region}",
        )
    ]


def _bootstrap_version(ctx: Context, stack: dict[str, Any]) -> str | None:
    """The version the templates will read (the SSM parameter), else the stack's output."""
    try:
        return str(ctx.client("ssm").get_parameter(Name=BOOTSTRAP_PARAMETER)["Parameter"]["Value"])
    except ClientError:
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return outputs.get("BootstrapVersion")


def check_bootstrap(ctx: Context) -> list[Result]:
    """The CDKToolkit stack exists, is usable, and has a version the templates accept."""
    try:
        (stack,) = ctx.client("cloudformation").describe_stacks(StackName="CDKToolkit")["Stacks"]
    except ClientError as error:
        # CloudFormation says a stack is missing with a ValidationError; anything else (access
        # denied, throttling) says nothing about the stack: the preflight names the refused call.
        message = error.response["Error"].get("Message", "")
        if error.response["Error"]["Code"] != "ValidationError" or "does not exist" not in message:
            raise
        return [
            Result(
                "FAIL",
                "bootstrap",
                f"no CDKToolkit stack in {ctx.account}/{ctx.region}",
                ctx.bootstrap_fix,
            )
        ]
    status = stack["StackStatus"]
    if status == "ROLLBACK_COMPLETE" or status.endswith("_FAILED") or status.startswith("DELETE"):
        return [
            Result(
                "FAIL",
                "bootstrap",
                f"the CDKToolkit stack is {status}: it cannot deploy",
                f"delete the CDKToolkit stack, then {ctx.bootstrap_fix}",
            )
        ]
    if status.endswith("_IN_PROGRESS"):
        return [
            Result(
                "WARN",
                "bootstrap",
                f"the CDKToolkit stack is {status}",
                "wait until it completes, then run the preflight again",
            )
        ]
    version = _bootstrap_version(ctx, stack)
    refused = ctx.plan.refused_bootstrap
    lowest = max((int(v) for v in refused if v.isdigit()), default=0) + 1
    if version is None or version in refused:
        return [
            Result(
                "FAIL",
                "bootstrap",
                f"CDKToolkit {status} at version {version or 'unknown'}; the templates "
                f"need version {lowest} or newer",
                ctx.bootstrap_fix,
            )
        ]
    return [
        Result(
            "PASS",
            "bootstrap",
            f"CDKToolkit {status}, version {version} (the templates need {lowest} or newer)",
        )
    ]


def check_region(ctx: Context) -> list[Result]:
    """The region offers every service the templates use, by botocore's bundled endpoint data
    (what this botocore knows, not a call to AWS); and the Glue versions of the jobs."""
    partition = ctx.session.get_partition_for_region(ctx.region)
    services = {
        SERVICES.get(t.rsplit("::", 1)[0], "") or t
        for t in ctx.plan.resource_types()
        if not t.startswith(NO_SERVICE)
    }
    unknown = sorted(s for s in services if s.startswith("AWS::"))
    regional = services - set(unknown) - GLOBAL_SERVICES
    listed = {s: ctx.session.get_available_regions(s, partition) for s in sorted(regional)}
    # A service botocore lists no region for is one it cannot answer for, not one no region
    # offers: it is named, never failed.
    unlisted = [s for s, regions in listed.items() if not regions]
    missing = [s for s, regions in listed.items() if regions and ctx.region not in regions]
    glue = ", ".join(f"Glue {v} ({n} jobs)" for v, n in sorted(ctx.plan.glue_versions.items()))
    glue_note = (
        (f"; {glue} not checked: no API lists the Glue versions a region runs") if glue else ""
    )
    if missing:
        return [
            Result(
                "FAIL",
                "region",
                f"{ctx.region} lacks {', '.join(missing)} (botocore's bundled endpoint data)",
                "deploy to a region that offers them: set `region` in cdk.json",
            )
        ]
    if unknown or unlisted:
        found = [f"no service known for {', '.join(unknown)}"] if unknown else []
        if unlisted:
            found.append(f"not checked: botocore lists no regions for {', '.join(unlisted)}")
        return [
            Result(
                "WARN",
                "region",
                "; ".join(found),
                "check by hand that the region offers them",
            )
        ]
    return [
        Result(
            "PASS",
            "region",
            f"{ctx.region} offers all {len(services)} services the "
            f"templates use (botocore's bundled endpoint data){glue_note}",
        )
    ]
