"""The architecture picture of README.md and docs/tour.md: every stack of the app, in a
subgraph of the workflow stage it provisions, with its main resources, the data path through
the zone buckets and the order stacks deploy in (both found by tools/stack_links.py).
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Sequence

from tools.markdown import DOCS, README, mermaid_id
from tools.stack_links import (
    Resource,
    StackView,
    bucket_label,
    data_path,
    deployment_order,
    zone_order,
)

TOUR_DOC = DOCS / "tour.md"
ARCHITECTURE_DOCS = (README, TOUR_DOC)

# The stage of each stack, by construct id ("Dataset-*": the stack of every declared dataset).
# A stack missing here fails the picture, so a new stack is never silently left out of it.
STAGES = {
    "Storage": "store",
    "Ingest": "ingest",
    "Catalog": "catalog",
    "Dataset-*": "process",
    "Delivery": "deliver",
    "Warehouse": "deliver",  # only with redshift.enabled
    "Governance": "govern",
    "Audit": "govern",
    "Monitoring": "monitor",
    "Alerts": "alert",
}
# Each stage's subgraph title, in drawing order.
STAGE_TITLES = {
    "ingest": "ingest",
    "store": "store",
    "process": "process + orchestrate",
    "catalog": "catalog",
    "deliver": "deliver",
    "govern": "govern and secure",
    "monitor": "monitor",
    "alert": "alert",
}
# What a stack's box lists: its main resources by type, counted in its template, in this
# order (singular, plural). Other types (policies, log groups, permissions) support these.
MAIN_RESOURCES = {
    "AWS::KMS::Key": ("KMS key", "KMS keys"),
    "AWS::S3::Bucket": ("bucket", "buckets"),
    "AWS::SecretsManager::Secret": ("secret", "secrets"),
    "AWS::CloudTrail::Trail": ("trail", "trails"),
    "AWS::IAM::Role": ("IAM role", "IAM roles"),
    "AWS::LakeFormation::DataLakeSettings": ("data lake settings", "data lake settings"),
    "AWS::LakeFormation::Tag": ("LF-Tag", "LF-Tags"),
    "AWS::LakeFormation::Resource": ("registered location", "registered locations"),
    "AWS::Glue::SecurityConfiguration": ("security configuration", "security configurations"),
    "AWS::Glue::Database": ("Glue database", "Glue databases"),
    "AWS::LakeFormation::PrincipalPermissions": ("LF grant", "LF grants"),
    "AWS::Lambda::Function": ("function", "functions"),
    "AWS::KinesisFirehose::DeliveryStream": ("Firehose stream", "Firehose streams"),
    "AWS::Glue::Crawler": ("crawler", "crawlers"),
    "AWS::Glue::Table": ("Glue table", "Glue tables"),
    "AWS::Glue::Job": ("Glue job", "Glue jobs"),
    "AWS::Glue::DataQualityRuleset": ("DQ ruleset", "DQ rulesets"),
    "AWS::StepFunctions::StateMachine": ("state machine", "state machines"),
    "AWS::Scheduler::Schedule": ("schedule", "schedules"),
    "AWS::Events::Rule": ("EventBridge rule", "EventBridge rules"),
    "AWS::SNS::Topic": ("SNS topic", "SNS topics"),
    "AWS::SQS::Queue": ("SQS queue", "SQS queues"),
    "AWS::Athena::WorkGroup": ("Athena workgroup", "Athena workgroups"),
    "AWS::Athena::NamedQuery": ("named query", "named queries"),
    "AWS::RedshiftServerless::Namespace": ("Redshift namespace", "Redshift namespaces"),
    "AWS::RedshiftServerless::Workgroup": ("Redshift workgroup", "Redshift workgroups"),
    "AWS::EC2::VPC": ("VPC", "VPCs"),
    "AWS::CloudWatch::Dashboard": ("dashboard", "dashboards"),
    "AWS::CloudWatch::Alarm": ("alarm", "alarms"),
    "AWS::Logs::MetricFilter": ("metric filter", "metric filters"),
}  # fmt: skip
ITEMS_PER_LINE = 2


def stage_of(stack_id: str) -> str:
    """The workflow stage of the stack ``stack_id``, from ``STAGES``."""
    return STAGES[_stage_key(stack_id)]


def _stage_key(stack_id: str) -> str:
    if stack_id in STAGES:
        return stack_id
    for pattern in STAGES:
        if "*" in pattern and fnmatch.fnmatchcase(stack_id, pattern):
            return pattern
    raise ValueError(
        f"stack {stack_id!r} has no workflow stage: add it to STAGES in "
        "tools/architecture_picture.py so the architecture picture shows it"
    )


def architecture_mermaid(stacks: Sequence[StackView]) -> str:
    """A Mermaid flowchart of the app: a box per stack (its name and main resources) in a
    subgraph per stage (per stack where ``STAGES`` names a pattern: one per dataset); thick
    arrows for the data path through the zone buckets (cylinders), found in the templates;
    dotted arrows for deployment order, from a stack to those that read its outputs or depend
    on it (implied ones left out)."""
    lines = ["flowchart LR"]
    for key, title, members in _subgraphs(stacks):
        lines.append(f'    subgraph stage_{key}["{title}"]')
        lines += [f'        {mermaid_id(view.id)}["{_box(view)}"]' for view in members]
        lines.append("    end")
    flows = data_path(stacks)
    # Buckets stand outside their stack's subgraph, so the data path can run straight.
    buckets = sorted({end for flow in flows for end in flow[:2] if end[1]}, key=zone_order)
    lines += [f'    {_node(b)}[("{bucket_label(b[1])} bucket")]' for b in buckets]
    lines += [f'    {_node(src)} ==>|"{how}"| {_node(dst)}' for src, dst, how in flows]
    order = deployment_order(stacks)
    lines += [
        f"    {mermaid_id(producer)} -.-> {mermaid_id(consumer)}" for producer, consumer in order
    ]
    if order:
        dotted = ",".join(str(i) for i in range(len(flows), len(flows) + len(order)))
        lines.append(f"    linkStyle {dotted} stroke:#999")
    return "\n".join(lines) + "\n"


def _subgraphs(stacks: Sequence[StackView]) -> list[tuple[str, str, list[StackView]]]:
    """(id, title, stacks) of each subgraph, in the order of ``STAGE_TITLES``."""
    groups: dict[str, tuple[int, str, list[StackView]]] = {}
    for view in stacks:
        pattern = _stage_key(view.id)
        stage = STAGES[pattern]
        key, title = stage, STAGE_TITLES[stage]
        if "*" in pattern:  # Dataset-orders: "process + orchestrate: orders"
            prefix, suffix = pattern.split("*", 1)
            part = view.id[len(prefix) : len(view.id) - len(suffix)]
            key, title = f"{stage}_{mermaid_id(part)}", f"{title}: {part}"
        rank = list(STAGE_TITLES).index(stage)
        groups.setdefault(key, (rank, title, []))[2].append(view)
    ordered = sorted(groups.items(), key=lambda item: item[1][0])
    return [(key, title, members) for key, (_, title, members) in ordered]


def _node(resource: Resource) -> str:
    stack, logical_id = resource
    return mermaid_id(f"{stack}-{bucket_label(logical_id)}" if logical_id else stack)


def _box(view: StackView) -> str:
    counts = Counter(
        r["Type"] for logical, r in view.template["Resources"].items()
        # CDK's own custom-resource providers (bucket auto-delete) are not the design.
        if "CustomResourceProvider" not in logical
    )  # fmt: skip
    items = [
        f"{counts[type_]} {singular if counts[type_] == 1 else plural}"
        for type_, (singular, plural) in MAIN_RESOURCES.items()
        if counts[type_]
    ]
    rows = [", ".join(items[i : i + ITEMS_PER_LINE]) for i in range(0, len(items), ITEMS_PER_LINE)]
    return "<br/>".join([f"<b>{view.name}</b>", *rows])
