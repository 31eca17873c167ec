"""One way to acknowledge a cdk-nag finding: on one construct, by granular ID, with a reason."""

from __future__ import annotations

import json
import re
from typing import Any

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


# The wildcard actions CDK's bucket grants (grant_read, grant_put, grant_read_write) write,
# for acknowledging them where a role is granted a bucket prefix.
GRANT_WILDCARDS = (
    "AwsSolutions-IAM5[Action::s3:GetObject*]",
    "AwsSolutions-IAM5[Action::s3:GetBucket*]",
    "AwsSolutions-IAM5[Action::s3:List*]",
    "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
    "AwsSolutions-IAM5[Action::s3:Abort*]",
    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
    "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
)


def in_finding(scope: IConstruct, value: str) -> str:
    """How cdk-nag writes ``value`` (an ARN, often a token) in a finding ID, seen from ``scope``.

    ``<LogicalId.Arn>`` for an attribute of a resource in the same stack, the intrinsic as
    JSON for anything else (such as an explicit ``Fn::GetStackOutput``), joined parts
    concatenated. Cross-stack references that CDK makes itself are not final until synthesis,
    so borrow values through named outputs (``stacks.sharing``) instead.
    """
    return _render(cdk.Stack.of(scope).resolve(value))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part) for part in parts)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return re.sub(r"\$\{([^}]+)\}", r"<\1>", value["Fn::Sub"])
    return json.dumps(value, separators=(",", ":"))
