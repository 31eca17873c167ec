"""One way to acknowledge a cdk-nag finding: on one construct, by granular ID, with a reason."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(scope: IConstruct, reason: str, *finding_ids: str) -> None:
    """Acknowledge ``finding_ids`` on ``scope`` and its children, for one stated reason.

    Each ID names a rule of one pack (``AwsSolutions-S1``) or a granular finding
    (``AwsSolutions-IAM5[Action::s3:List*]``). Call it on the resource the finding concerns,
    never on a stack or the app.
    """
    if not reason.strip():
        raise ValueError(f"acknowledging {', '.join(finding_ids)} needs a reason")
    if not finding_ids:
        raise ValueError("acknowledge() needs at least one finding ID")
    cdk.Validations.of(scope).acknowledge(
        *(cdk.Acknowledgment(id=finding_id, reason=reason) for finding_id in finding_ids)
    )


def arn_in_finding(resource: IConstruct) -> str:
    """How cdk-nag writes the ARN of ``resource`` (in its own stack) in a finding ID."""
    cfn = resource.node.default_child
    if not isinstance(cfn, cdk.CfnElement):
        raise ValueError(f"{resource.node.path} has no CloudFormation resource")
    return f"<{cdk.Stack.of(resource).get_logical_id(cfn)}.Arn>"
