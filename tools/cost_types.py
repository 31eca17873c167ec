"""Every resource type the cost model knows, and how each bills: a template with a type it
has not classified fails, so a new billed resource cannot slip in unpriced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from tools.cost_prices import FREE, HOUR, MONTH, USE
from tools.templates import Props, Template

_CONFIG = "configuration"
# Every resource type the model knows: how it bills, and for what.
TYPES: dict[str, tuple[str, str]] = {
    "AWS::KMS::Key": (MONTH, "a key-month, plus requests"),
    "AWS::SecretsManager::Secret": (MONTH, "a secret-month, plus API calls"),
    "AWS::CloudWatch::Alarm": (MONTH, "each metric it evaluates, by the month"),
    "AWS::CloudWatch::CompositeAlarm": (MONTH, "an alarm-month"),
    "AWS::CloudWatch::Dashboard": (MONTH, "a dashboard-month"),
    "AWS::Logs::MetricFilter": (USE, "a custom metric for each hour it publishes"),
    "AWS::Logs::LogGroup": (USE, "GB ingested and GB-months stored"),
    "AWS::CloudTrail::Trail": (USE, "data events; management events past the first copy"),
    "AWS::S3::Bucket": (USE, "GB-months stored and requests"),
    "AWS::Athena::WorkGroup": (USE, "data scanned by queries"),
    "AWS::Events::Rule": (USE, "custom events (AWS service events are free)"),
    "AWS::Scheduler::Schedule": (USE, "invocations past 14 million a month"),
    "AWS::StepFunctions::StateMachine": (USE, "state transitions"),
    "AWS::Glue::Crawler": (USE, "DPU-hours per crawl, 10-minute minimum"),
    "AWS::Glue::Job": (USE, "DPU-hours per run, 1-minute minimum"),
    "AWS::Glue::TableOptimizer": (USE, "DPU-hours while it compacts, expires or deletes files"),
    "AWS::Lambda::Function": (USE, "requests and GB-seconds"),
    "AWS::KinesisFirehose::DeliveryStream": (USE, "GB ingested (Direct PUT)"),
    "AWS::SNS::Topic": (USE, "publishes and deliveries"),
    "AWS::SQS::Queue": (USE, "requests"),
    "AWS::EC2::FlowLog": (USE, "flow records delivered to CloudWatch Logs"),
    "AWS::RedshiftServerless::Namespace": (USE, "GB-months of managed storage"),
    "AWS::RedshiftServerless::Workgroup": (HOUR, "RPU-hours while queries run"),
    "AWS::EC2::NatGateway": (HOUR, "every hour it exists, plus GB processed"),
    "AWS::EC2::VPCEndpoint": (HOUR, "interface endpoints: every hour, in each zone"),
    "AWS::Kinesis::Stream": (HOUR, "shard-hours, or stream-hours on demand"),
    "AWS::EC2::EIP": (HOUR, "every hour of a public IPv4 address"),
    "AWS::Glue::Database": (FREE, "Data Catalog: a million objects are free"),
    "AWS::Glue::Table": (FREE, "Data Catalog: a million objects are free"),
    "AWS::Glue::DataQualityRuleset": (FREE, "evaluated inside its job's run"),
    "Custom::S3AutoDeleteObjects": (FREE, "runs only when its stack is deleted"),
    **{kind: (FREE, _CONFIG) for kind in (
        "AWS::Athena::NamedQuery", "AWS::Glue::Classifier", "AWS::Glue::SecurityConfiguration",
        "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::KMS::Alias",
        "AWS::LakeFormation::DataLakeSettings", "AWS::LakeFormation::PrincipalPermissions",
        "AWS::LakeFormation::Resource", "AWS::LakeFormation::Tag",
        "AWS::LakeFormation::TagAssociation", "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Permission", "AWS::Logs::LogStream", "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::EC2::VPC", "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable", "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::SecurityGroup", "AWS::CDK::Metadata")},
}  # fmt: skip


class UnknownResourceTypeError(ValueError):
    """A template holds a resource type this model cannot price."""


def billing(kind: str, props: Props) -> str:
    """How a resource bills: free at rest, per use, per month or per hour."""
    if kind not in TYPES:
        raise UnknownResourceTypeError(
            f"{kind}: the cost model does not know this resource type; add it to TYPES "
            "(tools/cost_types.py) with how it bills, and price it if it bills while idle"
        )
    if kind == "AWS::EC2::VPCEndpoint" and props.get("VpcEndpointType", "Gateway") == "Gateway":
        return FREE  # gateway endpoints (S3, DynamoDB) cost nothing
    if kind == "AWS::Logs::MetricFilter" and publishes_when_idle(props):
        return MONTH
    return TYPES[kind][0]


def resource_types(templates: Sequence[Template]) -> list[tuple[str, int, str, str]]:
    """Every resource type in the templates: type, count, how it bills, for what."""
    counts = Counter((r["Type"], billing(r["Type"], r.get("Properties", {})))
                     for t in templates for r in t.get("Resources", {}).values())  # fmt: skip
    return [(kind, n, how, TYPES[kind][1]) for (kind, how), n in sorted(counts.items())]


def publishes_when_idle(props: Props) -> bool:
    """Whether a metric filter publishes while nothing matches: it has a DefaultValue."""
    return any("DefaultValue" in t for t in props.get("MetricTransformations", []))


def by_type(templates: Sequence[Template]) -> dict[str, list[Props]]:
    """The properties of every resource in the templates, by type; an unknown type fails."""
    of: dict[str, list[Props]] = {kind: [] for kind in TYPES}
    for template in templates:
        for resource in template.get("Resources", {}).values():
            billing(resource["Type"], resource.get("Properties", {}))
            of[resource["Type"]].append(resource.get("Properties", {}))
    return of
