"""Service principals a role trusts, with the confused-deputy condition each service documents.

A role a service assumes should be assumable only on behalf of this account's resources: the
service passes the calling resource's account (``aws:SourceAccount``) and ARN
(``aws:SourceArn``), or an external ID, and the trust policy checks them. A condition a
service does not set makes the role unusable, so only documented conditions are added here,
each with its page; services that document none are listed in ``UNCONDITIONED`` with why.
``tests/test_iam_wildcards.py`` checks every trust policy of both environments against both.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import IConstruct

# Services that document no condition for a role they assume, and what bounds them instead.
UNCONDITIONED: dict[str, str] = {
    "glue.amazonaws.com": "Glue documents aws:SourceAccount only for table optimizers (used "
    "there); jobs and crawlers document no condition. Only a principal allowed "
    "iam:PassRole on the role can hand it to a job or crawler.",
    "lambda.amazonaws.com": "Lambda documents no condition for an execution role; the role is "
    "passed to one function at deploy time (iam:PassRole), and lambda:SourceFunctionArn "
    "names the function in the credentials.",
    "redshift.amazonaws.com": "Redshift documents no condition for a role associated with a "
    "namespace; associating it requires iam:PassRole on the role.",
    "redshift-serverless.amazonaws.com": "as redshift.amazonaws.com.",
    "chatbot.amazonaws.com": "AWS Chatbot documents no condition for a channel role; naming the "
    "role in a channel configuration requires iam:PassRole on it, and the role here has no "
    "policy (the configuration's guardrail is AWSDenyAll).",
}


def _source_account(scope: IConstruct) -> dict[str, Any]:
    return {"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}}


def _source(scope: IConstruct, service: str, resource: str, separator: ArnFormat) -> dict[str, Any]:
    arn = Stack.of(scope).format_arn(
        service=service, resource=resource, resource_name="*", arn_format=separator
    )
    return {**_source_account(scope), "ArnLike": {"aws:SourceArn": arn}}


def trusted_service(scope: IConstruct, service: str) -> iam.ServicePrincipal:
    """``service`` as the principal of a role in ``scope``'s stack, with its documented
    confused-deputy condition (refused for a service known to document none)."""
    conditions: dict[str, Any]
    if service == "states.amazonaws.com":
        # https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html
        conditions = _source(scope, "states", "stateMachine", ArnFormat.COLON_RESOURCE_NAME)
    elif service == "scheduler.amazonaws.com":
        # https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html
        conditions = _source_account(scope)
    elif service == "events.amazonaws.com":
        # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html
        conditions = _source_account(scope)
    elif service == "lakeformation.amazonaws.com":
        # https://docs.aws.amazon.com/lake-formation/latest/dg/cross-service-confused-deputy-prevention.html
        # (Lake Formation sets aws:SourceArn to arn:...:lakeformation:<region>:<account>:*).
        conditions = {
            **_source_account(scope),
            "ArnLike": {
                "aws:SourceArn": Stack.of(scope).format_arn(
                    service="lakeformation", resource="*", arn_format=ArnFormat.NO_RESOURCE_NAME
                )
            },
        }
    elif service == "vpc-flow-logs.amazonaws.com":
        # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
        conditions = _source(scope, "ec2", "vpc-flow-log", ArnFormat.SLASH_RESOURCE_NAME)
    elif service == "firehose.amazonaws.com":
        # https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html
        conditions = {"StringEquals": {"sts:ExternalId": Stack.of(scope).account}}
    elif service in UNCONDITIONED:
        raise ValueError(f"{service} documents no trust condition: use iam.ServicePrincipal")
    else:
        raise ValueError(f"{service}: no documented trust condition known; add one here")
    return iam.ServicePrincipal(service, conditions=conditions)
