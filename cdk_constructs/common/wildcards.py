"""The only actions the blueprint allows on every resource (``Resource: "*"``), per kind of role.

Least privilege names a resource in every statement. A few actions cannot be given one: AWS's
service authorization reference lists no resource type for them, so a policy must grant them
on ``*`` or not at all. This module is the one list of those grants: which kind of role or
policy may hold which of them, and why the role needs each. Constructs register their role
with ``allow_wildcards`` (which acknowledges cdk-nag's ``Resource::*`` finding with one shared
reason) and build their ``*`` statements with ``wildcard_statement`` (which refuses an action
not pinned for that kind). ``tests/test_iam_wildcards.py`` walks every synthesized policy of
both environments and fails on any other ``*`` grant, on a pinned action that no policy uses,
and on a pinned action that AWS's IAM definitions (bundled with parliament) give a resource
type; docs/governance.md shows the same table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_iam as iam
from constructs import IConstruct

from cdk_constructs.common.nag import acknowledge

# Why a role needs each action that only works on "*", once per action.
WHY: dict[str, str] = {
    "lakeformation:GetDataAccess": "Lake Formation vends S3 credentials for registered "
    "locations; what they reach is decided by this role's Lake Formation grants",
    "cloudwatch:PutMetricData": "the job's metrics; a condition limits it to its own "
    "namespaces (cloudwatch:namespace)",
    "glue:GetSecurityConfiguration": "the crawler reads the security configuration that "
    "encrypts its logs",
    "glue:GetCrawlerMetrics": "crawl progress and durations of the crawlers the engineer "
    "operates; no data",
    "xray:PutTraceSegments": "sends its own traces",
    "xray:PutTelemetryRecords": "sends its own tracing telemetry",
    "xray:GetSamplingRules": "reads the sampling rules for its traces",
    "xray:GetSamplingTargets": "reads the sampling targets for its traces",
    "logs:CreateLogDelivery": "Step Functions' vended logs: set up delivery to the pipeline "
    "log group (added by CDK for any logged state machine)",
    "logs:GetLogDelivery": "Step Functions' vended logs",
    "logs:UpdateLogDelivery": "Step Functions' vended logs",
    "logs:DeleteLogDelivery": "Step Functions' vended logs",
    "logs:ListLogDeliveries": "Step Functions' vended logs",
    "logs:PutResourcePolicy": "Step Functions' vended logs: the log group's resource policy "
    "for delivery",
    "logs:DescribeResourcePolicies": "Step Functions' vended logs",
    "logs:DescribeLogGroups": "lists log groups (names, retention, key), needed to find the "
    "log group; no log events",
    "athena:ListWorkGroups": "the Athena console lists workgroups before using one; no queries "
    "or results",
    "cloudtrail:LookupEvents": "the security officer reviews management events",
    "cloudtrail:DescribeTrails": "the security officer reviews the account's trail settings",
    "lakeformation:GetDataLakeSettings": "the security officer reviews the Lake Formation "
    "settings and admins",
    "lakeformation:ListPermissions": "the security officer reviews every grant",
    "lakeformation:ListResources": "the security officer reviews the registered locations",
    "lakeformation:DescribeResource": "the security officer reviews a registered location",
    "lakeformation:ListLFTags": "the security officer reviews the LF-Tags",
    "lakeformation:GetLFTag": "the security officer reviews an LF-Tag's values",
    "lakeformation:GetResourceLFTags": "the security officer reviews the tags on a database, "
    "table or column",
    "lakeformation:SearchDatabasesByLFTags": "the security officer finds databases by tag",
    "lakeformation:SearchTablesByLFTags": "the security officer finds tables by tag",
}

_XRAY_SEND = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
_STATE_MACHINE_LOGS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
_GOVERNANCE_REVIEW = (
    "lakeformation:GetDataLakeSettings",
    "lakeformation:ListPermissions",
    "lakeformation:ListResources",
    "lakeformation:DescribeResource",
    "lakeformation:ListLFTags",
    "lakeformation:GetLFTag",
    "lakeformation:GetResourceLFTags",
    "lakeformation:SearchDatabasesByLFTags",
    "lakeformation:SearchTablesByLFTags",
)

# Each kind of role or policy, and the actions it may hold on "*"; nothing else may.
PINNED: dict[str, tuple[str, ...]] = {
    "curation job role": ("cloudwatch:PutMetricData",),
    "analytics job role": ("cloudwatch:PutMetricData",),
    "erasure job role": ("cloudwatch:PutMetricData",),
    "raw crawler role": ("glue:GetSecurityConfiguration", "lakeformation:GetDataAccess"),
    "table maintenance role": ("lakeformation:GetDataAccess",),
    "ingest function role": _XRAY_SEND,
    "pipeline state machine role": (
        *_STATE_MACHINE_LOGS,
        *_XRAY_SEND,
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
    ),
    "query workgroup policy": ("athena:ListWorkGroups",),
    # Persona roles by what their entry in model.vocabulary.PERSONAS gives them, so that a
    # persona added there needs nothing here: reading data, and each duty.
    "persona role reading data": ("lakeformation:GetDataAccess",),
    "persona role operating pipelines": ("glue:GetCrawlerMetrics",),
    "persona role auditing": (
        "cloudtrail:LookupEvents",
        "cloudtrail:DescribeTrails",
        "logs:DescribeLogGroups",
        *_GOVERNANCE_REVIEW,
    ),
    "warehouse role": ("lakeformation:GetDataAccess",),
}

# The metadata entry naming a construct's kind, for the tests that walk the templates.
KIND_METADATA = "datalake:wildcard-kind"

REASON = (
    "Resource * only for actions that AWS's service authorization reference gives no "
    "resource type; the actions each kind of role may hold on * are pinned once in "
    "cdk_constructs/common/wildcards.py, with the reason for each, and a test fails on any "
    "other."
)


def allow_wildcards(scope: IConstruct, kind: str) -> None:
    """Register ``scope`` (a role or managed policy) as of ``kind``: its statements on ``*``
    may hold the actions pinned for that kind (and for any other kind it is registered as),
    and cdk-nag's ``Resource::*`` finding on it is acknowledged for that reason only."""
    if kind not in PINNED:
        raise ValueError(
            f"{scope.node.path}: unknown wildcard kind {kind!r}; one of {sorted(PINNED)}"
        )
    registered = kinds_of(scope)
    if kind in registered:
        return
    scope.node.add_metadata(KIND_METADATA, kind)
    if not registered:
        acknowledge(scope, REASON, "AwsSolutions-IAM5[Resource::*]")


def kinds_of(scope: IConstruct) -> tuple[str, ...]:
    """The kinds ``scope`` is registered as (a role may be of several, such as a persona role
    that reads data and audits): what it may hold on "*" is the union of theirs."""
    return tuple(str(e.data) for e in scope.node.metadata if e.type == KIND_METADATA)


def wildcard_statement(
    kind: str, actions: Sequence[str], conditions: Mapping[str, Any] | None = None
) -> iam.PolicyStatement:
    """A statement allowing ``actions`` on ``*``: each must be pinned for ``kind``."""
    unpinned = sorted(set(actions) - set(PINNED[kind]))
    if unpinned:
        raise ValueError(f"{', '.join(unpinned)} on * is not pinned for the {kind}")
    return iam.PolicyStatement(
        actions=list(actions), resources=["*"], conditions=dict(conditions) if conditions else None
    )
