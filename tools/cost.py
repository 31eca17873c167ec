"""What an environment costs, counted from its synthesized templates, so the figures in
docs/cost.md cannot drift from what deploys.

Two views: IDLE (deployed, nothing arrives, no pipeline runs: what is billed for existing)
and PER PIPELINE RUN of each dataset, with a month of its schedule. Every resource type must
be known here: a template with a type this model has not classified fails, so a new billed
resource cannot slip in unpriced.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.config import EnvironmentConfig
from tools.markdown import replace_block
from tools.templates import pipeline_definition

# us-east-1 list prices: (USD, per how many units, unit). Checked 2026-11-21 against
# https://aws.amazon.com/cloudtrail/pricing/, https://aws.amazon.com/step-functions/pricing/
# and https://aws.amazon.com/cloudwatch/pricing/ (free tier, alarm metrics). The others are
# the well-known list prices, as of 2026, of https://aws.amazon.com/<page>/pricing/ for kms,
# secrets-manager, glue, lambda, s3, athena, eventbridge, firehose (kinesis/data-firehose),
# redshift, vpc (NAT gateways, public IPv4), privatelink and kinesis/data-streams.
PRICES: dict[str, tuple[float, int, str]] = {
    "kms_key": (1.00, 1, "key-month"),
    "kms_request": (0.03, 10_000, "requests"),
    "secret": (0.40, 1, "secret-month"),
    "alarm_metric": (0.10, 1, "alarm metric-month"),  # standard resolution: period >= 60 s
    "alarm_metric_high_resolution": (0.30, 1, "alarm metric-month"),
    "composite_alarm": (0.50, 1, "alarm-month"),
    "dashboard": (3.00, 1, "dashboard-month"),
    "custom_metric": (0.30, 1, "metric-month"),  # prorated by the hours it gets data
    "logs_ingested": (0.50, 1, "GB"),
    "logs_stored": (0.03, 1, "GB-month"),
    "cloudtrail_management_copy": (2.00, 100_000, "events"),  # the first copy is free
    "cloudtrail_data_event": (0.10, 100_000, "events"),
    "scheduler_invocation": (1.00, 1_000_000, "invocations"),  # 14 million a month free
    "eventbridge_custom_event": (1.00, 1_000_000, "events"),
    "sfn_transition": (0.025, 1_000, "transitions"),
    "glue_dpu_hour": (0.44, 1, "DPU-hour"),  # per second; jobs 1-min, crawlers 10-min minimum
    "glue_flex_dpu_hour": (0.29, 1, "DPU-hour"),
    "lambda_request": (0.20, 1_000_000, "requests"),
    "lambda_arm_gb_second": (13.3334, 1_000_000, "GB-seconds"),
    "lambda_x86_gb_second": (16.6667, 1_000_000, "GB-seconds"),
    "firehose_ingested": (0.029, 1, "GB"),  # Direct PUT, each record rounded up to 5 KB
    "s3_write_request": (0.005, 1_000, "requests"),  # PUT, COPY, POST, LIST
    "s3_read_request": (0.0004, 1_000, "requests"),
    "s3_standard": (0.023, 1, "GB-month"),
    "athena_scanned": (5.00, 1_000_000, "MB"),  # 5 USD a TB, 10 MB minimum a query
    "redshift_rpu_hour": (0.375, 1, "RPU-hour"),  # per second, 60-second minimum
    "redshift_storage": (0.024, 1, "GB-month"),
    "nat_gateway": (0.045, 1, "hour"),
    "interface_endpoint": (0.01, 1, "endpoint-zone-hour"),
    "kinesis_shard": (0.015, 1, "shard-hour"),
    "kinesis_on_demand_stream": (0.04, 1, "stream-hour"),
    "public_ipv4": (0.005, 1, "address-hour"),
}
# CloudWatch's always-free tier, shared by every account of an AWS Organization.
FREE_TIER = {"alarm_metrics": 10, "custom_metrics": 10, "dashboards": 3,
             "dashboard_metrics": 50, "logs_gb": 5}  # fmt: skip
# What the templates cannot say; docs/cost.md states each.
ASSUMED: dict[str, float] = {
    "management_events_per_day": 3_000,  # an idle account, every region
    "event_kb": 1.5,
    "log_files_per_day": 288,  # a trail file every 5 minutes in the home region
    "regions": 17,  # enabled by default; a digest file each, hourly
    "gzip_ratio": 10,
    "lake_data_gb": 0.001,  # the sample files, in every zone
    "crawl_minutes": 2,
    "crawler_dpus": 2,
    "job_minutes": 2,  # a small daily file
    "job_min_workers": 2,  # Glue's minimum; auto-scaling starts there
    "ingest_seconds": 2,
    "firehose_records_per_run": 1_000,
    "kms_requests_per_run": 200,
    "data_events_per_run": 1_000,
    "s3_writes_per_run": 200,
    "s3_reads_per_run": 1_000,
    "job_log_mb": 2,
    "execution_log_kb_per_state": 4,  # two events of ~2 KB, with input and output
    "curation_metrics": 5,  # RowsIn, RowsWritten, RowsQuarantined, two data-quality metrics
}
HOURS = 730  # a month, as AWS prices it
DAYS = HOURS / 24
GB = 1024**3
COST_DOC = Path(__file__).resolve().parent.parent / "docs" / "cost.md"

FREE, USE, MONTH, HOUR = "free at rest", "per use", "per month", "per hour"
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
Props = Mapping[str, Any]
Template = Mapping[str, Any]


class UnknownResourceTypeError(ValueError):
    """A template holds a resource type this model cannot price."""


@dataclass(frozen=True)
class Line:
    """One billed item: a quantity at a price of PRICES, and what the free tier covers."""

    item: str
    counted: str  # what in the templates, or which assumption, gives the quantity
    quantity: float
    price: str  # a key of PRICES
    billing: str = USE
    free: float = 0.0  # units CloudWatch's always-free tier covers

    @property
    def unit_price(self) -> float:
        return unit_price(self.price)

    @property
    def rate(self) -> str:
        usd, per, unit = PRICES[self.price]
        amount = f"{usd:.2f}" if round(usd, 2) == usd else f"{usd:g}"
        return f"{amount} per {unit}" if per == 1 else f"{amount} per {per:,} {unit}"

    @property
    def usd(self) -> float:
        return self.quantity * self.unit_price

    @property
    def usd_free_tier(self) -> float:
        return max(self.quantity - self.free, 0.0) * self.unit_price


def unit_price(key: str) -> float:
    """The price of one unit of PRICES[key], in USD."""
    usd, per, _ = PRICES[key]
    return usd / per


def billing(kind: str, props: Props) -> str:
    """How a resource bills: free at rest, per use, per month or per hour."""
    if kind not in TYPES:
        raise UnknownResourceTypeError(
            f"{kind}: the cost model (tools/cost.py) does not know this resource type; "
            "add it to TYPES with how it bills, and price it if it bills while idle"
        )
    if kind == "AWS::EC2::VPCEndpoint" and props.get("VpcEndpointType", "Gateway") == "Gateway":
        return FREE  # gateway endpoints (S3, DynamoDB) cost nothing
    if kind == "AWS::Logs::MetricFilter" and _publishes_when_idle(props):
        return MONTH
    return TYPES[kind][0]


def resource_types(templates: Sequence[Template]) -> list[tuple[str, int, str, str]]:
    """Every resource type in the templates: type, count, how it bills, for what."""
    counts = Counter((r["Type"], billing(r["Type"], r.get("Properties", {})))
                     for t in templates for r in t.get("Resources", {}).values())  # fmt: skip
    return [(kind, n, how, TYPES[kind][1]) for (kind, how), n in sorted(counts.items())]


def idle_lines(templates: Sequence[Template], config: EnvironmentConfig) -> list[Line]:
    """A month of the environment deployed, while nothing arrives and no pipeline runs."""
    of = _by_type(templates)  # every type known, or fail
    keys, secrets = len(of["AWS::KMS::Key"]), len(of["AWS::SecretsManager::Secret"])
    managed = sum(bool(n.get("ManageAdminPassword"))
                  for n in of["AWS::RedshiftServerless::Namespace"])  # fmt: skip
    filters = of["AWS::Logs::MetricFilter"]
    idle_metrics = sum(_publishes_when_idle(f) for f in filters)
    lines = [
        Line("KMS keys", f"AWS::KMS::Key: {keys}", keys, "kms_key", MONTH),
        Line("Secrets Manager secrets", f"AWS::SecretsManager::Secret: {secrets}; admin "
             f"passwords Redshift keeps there: {managed}", secrets + managed, "secret", MONTH),
        *_alarm_lines(of),
        _dashboard_line(of["AWS::CloudWatch::Dashboard"]),
        Line("Custom metrics of metric filters", f"AWS::Logs::MetricFilter: {len(filters)}; "
             f"with a DefaultValue, so publishing while nothing matches: {idle_metrics}",
             idle_metrics, "custom_metric", MONTH, FREE_TIER["custom_metrics"]),
        *_trail_lines(templates, config),
        Line("EventBridge Scheduler", f"AWS::Scheduler::Schedule: "
             f"{len(of['AWS::Scheduler::Schedule'])}; their invocations start runs (below)", 0,
             "scheduler_invocation"),
        Line("S3 storage: the lake's data", f"the sample files in each zone, about "
             f"{ASSUMED['lake_data_gb']} GB", ASSUMED["lake_data_gb"], "s3_standard"),
        *_hourly_lines(of, config),
    ]  # fmt: skip
    return lines


def _alarm_lines(of: Mapping[str, list[Props]]) -> list[Line]:
    standard = high = 0
    for props in of["AWS::CloudWatch::Alarm"]:
        metrics, period = _alarm_metrics(props)
        standard, high = (standard + metrics, high) if period >= 60 else (standard, high + metrics)
    alarms, composite = len(of["AWS::CloudWatch::Alarm"]), of["AWS::CloudWatch::CompositeAlarm"]
    lines = [Line("CloudWatch alarm metrics", f"AWS::CloudWatch::Alarm: {alarms}, standard "
                  "resolution; each metric it evaluates (a metric-math alarm: every metric of "
                  "its expression)", standard, "alarm_metric", MONTH,
                  FREE_TIER["alarm_metrics"])]  # fmt: skip
    if high:
        lines.append(
            Line(
                "CloudWatch alarm metrics, high resolution",
                "alarms of a period under 60 s",
                high,
                "alarm_metric_high_resolution",
                MONTH,
            )
        )
    if composite:
        lines.append(Line("CloudWatch composite alarms", "AWS::CloudWatch::CompositeAlarm",
                          len(composite), "composite_alarm", MONTH))  # fmt: skip
    return lines


def _alarm_metrics(props: Props) -> tuple[int, int]:
    """The metrics an alarm is billed for, and its shortest period in seconds."""
    if "MetricName" in props:
        return 1, int(props.get("Period", 60))
    expressions = " ".join(q.get("Expression", "") for q in props["Metrics"])
    if re.search(r"\b(SEARCH|SELECT)\b", expressions):
        raise ValueError(f"an alarm on {expressions!r}: query alarms bill per metric they "
                         "analyse, which the cost model does not price")  # fmt: skip
    stats = [q["MetricStat"] for q in props["Metrics"] if "MetricStat" in q]
    bands = expressions.count("ANOMALY_DETECTION_BAND")  # a band bills as two more metrics
    return len(stats) + 2 * bands, min(int(s["Period"]) for s in stats)


def dashboard_metrics(props: Props) -> tuple[int, int, int]:
    """A dashboard's metric lines (metrics and expressions, hidden ones too), how many of
    them are expressions, and how many SEARCH expressions (each may return many series)."""
    body = props["DashboardBody"]
    if not isinstance(body, str):
        separator, parts = body["Fn::Join"]
        body = separator.join(p if isinstance(p, str) else "<ref>" for p in parts)
    widgets = json.loads(body)["widgets"]
    metrics = [m for w in widgets for m in w.get("properties", {}).get("metrics", [])]
    expressions = [m[-1]["expression"] for m in metrics
                   if isinstance(m[-1], dict) and "expression" in m[-1]]  # fmt: skip
    return len(metrics), len(expressions), sum("SEARCH(" in e for e in expressions)


def _dashboard_line(dashboards: list[Props]) -> Line:
    counts = [dashboard_metrics(d) for d in dashboards]
    small = sum(lines <= FREE_TIER["dashboard_metrics"] for lines, _, _ in counts)
    what = "; ".join(f"{lines} metric lines, {expr} of them expressions ({search} SEARCH)"
                     for lines, expr, search in counts)  # fmt: skip
    return Line(
        "CloudWatch dashboards",
        f"AWS::CloudWatch::Dashboard: {len(dashboards)}" + (f": {what}" if what else ""),
        len(dashboards),
        "dashboard",
        MONTH,
        min(small, FREE_TIER["dashboards"]),
    )


def _trail_lines(templates: Sequence[Template], config: EnvironmentConfig) -> list[Line]:
    lines, a = [], ASSUMED
    for template, props in _with_template(templates, "AWS::CloudTrail::Trail"):
        per_day, events = a["management_events_per_day"], a["management_events_per_day"] * DAYS
        copy = events * unit_price("cloudtrail_management_copy")
        daily_gb = per_day * a["event_kb"] * 1024 / GB
        regions = a["regions"] if props.get("IsMultiRegionTrail") else 1
        digests = 24 * regions if props.get("EnableLogFileValidation") else 0
        files = (a["log_files_per_day"] + digests) * DAYS
        lines += [
            Line("CloudTrail management events", f"about {events:,.0f} a month (assumed); the "
                 "first copy is free; as a second copy (an organization trail or another trail "
                 f"already records them) {copy:.2f} USD a month", 0, "cloudtrail_management_copy"),
            Line("CloudTrail S3 data events", "object events of the lake buckets: none while "
                 "idle", 0, "cloudtrail_data_event"),
        ]  # fmt: skip
        if "CloudWatchLogsLogGroupArn" in props:
            group = template["Resources"][props["CloudWatchLogsLogGroupArn"]["Fn::GetAtt"][0]]
            days = group["Properties"].get("RetentionInDays", config.retention.log_group_days)
            ingested, stored = daily_gb * DAYS, daily_gb * min(days, DAYS)
            lines += [
                Line("CloudWatch Logs ingestion: the trail's log group", f"{per_day:,.0f} "
                     f"events a day x {a['event_kb']} KB", ingested, "logs_ingested",
                     free=FREE_TIER["logs_gb"]),
                Line("CloudWatch Logs storage: the trail's log group", f"{days} days "
                     "(RetentionInDays), counted uncompressed", stored, "logs_stored",
                     free=max(FREE_TIER["logs_gb"] - ingested, 0)),
            ]  # fmt: skip
        lines += [
            Line("S3 requests: trail files", f"{a['log_files_per_day']:.0f} log files a day; "
                 f"{digests:.0f} digest files a day (hourly in {regions:.0f} regions)",
                 files, "s3_write_request"),
            Line("KMS requests: trail files", "a GenerateDataKey per file (the audit key, no "
                 "bucket key)", files, "kms_request"),
            Line("S3 storage: trail files", f"gzip about 1:{a['gzip_ratio']:.0f}, kept "
                 f"{config.retention.audit_log_days} days (auditLogDays)",
                 daily_gb / a["gzip_ratio"] * config.retention.audit_log_days, "s3_standard"),
        ]  # fmt: skip
    return lines


def _hourly_lines(of: Mapping[str, list[Props]], config: EnvironmentConfig) -> list[Line]:
    workgroups = of["AWS::RedshiftServerless::Workgroup"]
    if bool(workgroups) != config.redshift.enabled:
        raise ValueError(f"Redshift Serverless workgroups: {len(workgroups)}, but "
                         f"redshift.enabled is {config.redshift.enabled}")  # fmt: skip
    rpu = unit_price("redshift_rpu_hour")
    lines = [Line("Redshift Serverless compute", f"AWS::RedshiftServerless::Workgroup: base "
                  f"{w['BaseCapacity']} RPUs, so {w['BaseCapacity'] * rpu:.2f} USD for each "
                  "hour queries run (60 s minimum); nothing while none runs", 0,
                  "redshift_rpu_hour", HOUR) for w in workgroups]  # fmt: skip
    lines += [
        Line(
            "Redshift managed storage",
            "AWS::RedshiftServerless::Namespace: empty",
            0,
            "redshift_storage",
        )
        for _ in of["AWS::RedshiftServerless::Namespace"]
    ]
    per_hour: tuple[tuple[str, str, str, Callable[[Props], int]], ...] = (
        ("NAT gateways", "AWS::EC2::NatGateway", "nat_gateway", lambda p: 1),
        ("Public IPv4 addresses", "AWS::EC2::EIP", "public_ipv4", lambda p: 1),
        ("Interface endpoints", "AWS::EC2::VPCEndpoint", "interface_endpoint",
         lambda p: len(p.get("SubnetIds", [])) if p.get("VpcEndpointType") == "Interface" else 0),
        ("Kinesis shards", "AWS::Kinesis::Stream", "kinesis_shard",
         lambda p: 0 if _on_demand(p) else int(p.get("ShardCount", 1))),
        ("Kinesis on-demand streams", "AWS::Kinesis::Stream", "kinesis_on_demand_stream",
         lambda p: int(_on_demand(p))),
    )  # fmt: skip
    for name, kind, price, units_of in per_hour:
        if units := sum(units_of(p) for p in of[kind]):
            lines.append(Line(name, f"{kind}: {units} x {HOURS} hours", units * HOURS, price, HOUR))
    return lines


def success_path(definition: Mapping[str, Any]) -> tuple[list[str], int]:
    """The states a successful execution enters, and how many polls it makes. At a choice
    that tests for READY (a crawler) or SUCCEEDED (a job run), it keeps polling until the
    assumed crawl or job time has passed; at any other choice, success is its default."""
    states, name = definition["States"], definition["StartAt"]
    path: list[str] = []
    polls: Counter[str] = Counter()
    wait = 0.0
    while len(path) < 10_000:
        state, kind = states[name], states[name]["Type"]
        path.append(name)
        if kind in ("Map", "Parallel", "Fail") or "SecondsPath" in state:
            raise ValueError(f"{name}: a {kind} state on the success path cannot be counted")
        if kind == "Succeed" or state.get("End"):
            return path, sum(polls.values())
        wait = float(state["Seconds"]) if kind == "Wait" else wait
        finished = next((c for c in state.get("Choices", [])
                         if c.get("StringEquals") in ("READY", "SUCCEEDED")), None)  # fmt: skip
        if kind != "Choice":
            name = state["Next"]
        elif finished is None:
            name = state["Default"]
        elif not wait:
            raise ValueError(f"{name}: a poll with no Wait state before it")
        else:
            polls[name] += 1
            took = ASSUMED[
                "crawl_minutes" if finished["StringEquals"] == "READY" else "job_minutes"
            ]
            done = polls[name] >= math.ceil(took * 60 / wait)
            name = finished["Next"] if done else state["Default"]
    raise ValueError("the success path does not end")


def run_lines(template: Template, templates: Sequence[Template]) -> list[Line]:
    """One successful run of a dataset's pipeline, from the dataset stack's template (and the
    other templates, for the ingest function)."""
    of, a = _by_type([template]), ASSUMED
    definition = pipeline_definition(template)
    path, polls = success_path(definition)
    states = definition["States"]
    waits = ", ".join(sorted({f"{s['Seconds']} s" for s in states.values() if "Seconds" in s}))
    lines = [Line("Step Functions state transitions", f"{len(path)} states on the success path "
                  f"of the definition, with {polls} polls ({waits} apart)", len(path),
                  "sfn_transition")]  # fmt: skip
    for crawler in of["AWS::Glue::Crawler"]:
        lines.append(Line(f"Glue crawler {crawler['Name']}", f"{a['crawler_dpus']:.0f} DPUs "
                          f"(assumed) x the 10-minute minimum (a crawl of about "
                          f"{a['crawl_minutes']:.0f} min)", a["crawler_dpus"]
                          * max(a["crawl_minutes"], 10) / 60, "glue_dpu_hour"))  # fmt: skip
    for job in of["AWS::Glue::Job"]:
        scales = job.get("DefaultArguments", {}).get("--enable-auto-scaling") == "true"
        workers = min(job["NumberOfWorkers"], a["job_min_workers"]) if scales else job[
            "NumberOfWorkers"]  # fmt: skip
        size = {"G.025X": 0.25, "G.1X": 1, "G.2X": 2, "G.4X": 4, "G.8X": 8}[job["WorkerType"]]
        flex = job.get("ExecutionClass") == "FLEX"
        minutes = max(a["job_minutes"], 10 if job["GlueVersion"] in ("0.9", "1.0") else 1)
        lines.append(Line(f"Glue job {job['Name']}", f"Glue {job['GlueVersion']} "
                          f"{'Flex' if flex else 'standard'}, {workers} x {job['WorkerType']} "
                          f"({workers * size:g} DPU) x {minutes:.0f} min",
                          workers * size * minutes / 60,
                          "glue_flex_dpu_hour" if flex else "glue_dpu_hour"))  # fmt: skip
    lines += _ingest_lines(of, templates)
    events = sum(states[s].get("Resource", "").endswith(":events:putEvents") for s in path)
    metrics = a["curation_metrics"] * sum(
        "--dq_ruleset" in j.get("DefaultArguments", {}) for j in of["AWS::Glue::Job"]
    )
    log_kb = (
        a["data_events_per_run"] * a["event_kb"]
        + len(path) * a["execution_log_kb_per_state"]
        + a["job_log_mb"] * 1024 * len(of["AWS::Glue::Job"])
    )
    queries = len(of["AWS::Athena::NamedQuery"])
    return [
        *lines,
        Line("KMS requests", "assumed", a["kms_requests_per_run"], "kms_request"),
        Line("CloudTrail S3 data events", "object reads and writes (assumed)",
             a["data_events_per_run"], "cloudtrail_data_event"),
        Line("CloudWatch Logs ingestion", f"the trail's data events, the execution log ("
             f"{len(path)} states), {a['job_log_mb']:.0f} MB a job run", log_kb / 1024**2,
             "logs_ingested"),
        Line("CloudWatch custom metrics", f"{metrics:.0f} of the curation job, for the hour "
             "they get data", metrics / HOURS, "custom_metric"),
        Line("S3 PUT, COPY and LIST requests", "assumed", a["s3_writes_per_run"],
             "s3_write_request"),
        Line("S3 GET requests", "assumed", a["s3_reads_per_run"], "s3_read_request"),
        Line("Athena queries", f"each of the dataset's {queries} saved queries once, at the "
             "10 MB minimum", queries * 10, "athena_scanned"),
        Line("EventBridge custom events", "PutEvents on the success path", events,
             "eventbridge_custom_event"),
        Line("EventBridge Scheduler invocations", "the schedule's start",
             len(of["AWS::Scheduler::Schedule"]), "scheduler_invocation"),
    ]  # fmt: skip


def _ingest_lines(of: Mapping[str, list[Props]], templates: Sequence[Template]) -> list[Line]:
    if of["AWS::KinesisFirehose::DeliveryStream"]:
        records = ASSUMED["firehose_records_per_run"]
        return [Line("Firehose ingestion", f"{records:,.0f} records (assumed), each billed as "
                     "5 KB", records * 5 * 1024 / GB, "firehose_ingested")]  # fmt: skip
    (function,) = _ingest_functions(templates)
    memory, arm = function.get("MemorySize", 128), function.get("Architectures") == ["arm64"]
    return [
        Line("Lambda ingest requests", "the run's file", 1, "lambda_request"),
        Line("Lambda ingest compute", f"{memory} MB, {'arm64' if arm else 'x86'}, "
             f"{ASSUMED['ingest_seconds']:.0f} s (assumed)",
             memory / 1024 * ASSUMED["ingest_seconds"],
             "lambda_arm_gb_second" if arm else "lambda_x86_gb_second"),
    ]  # fmt: skip


def _ingest_functions(templates: Sequence[Template]) -> list[Props]:
    """The functions that EventBridge rules on S3 'Object Created' events invoke."""
    found = []
    for template, rule in _with_template(templates, "AWS::Events::Rule"):
        if "Object Created" in rule.get("EventPattern", {}).get("detail-type", []):
            for target in rule.get("Targets", []):
                arn = target["Arn"]
                target_id = arn.get("Fn::GetAtt", [""])[0] if isinstance(arn, dict) else ""
                resource = template["Resources"].get(target_id, {})
                if resource.get("Type") == "AWS::Lambda::Function":
                    found.append(resource["Properties"])
    return found


def runs_per_month(expression: str) -> float:
    """How often an EventBridge Scheduler expression fires in a month: rate(...) or cron(...)."""
    if rate := re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", expression):
        return HOURS * 60 / (int(rate[1]) * {"minute": 1, "hour": 60, "day": 1440}[rate[2]])
    cron = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", expression)
    if not cron:
        raise ValueError(f"{expression}: expected rate(...) or cron(...) of six fields")
    minute, hour, dom, month, dow, _ = cron.groups()
    every = ("*", "?")
    days = (DAYS if dom in every and dow in every
            else _count(dow, 1, 7) * DAYS / 7 if dom in every else _count(dom, 1, 31))  # fmt: skip
    return _count(minute, 0, 59) * _count(hour, 0, 23) * days * _count(month, 1, 12) / 12


_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_NAMES = {name: i + 1 for names in (_DAYS, _MONTHS) for i, name in enumerate(names)}


def _count(field: str, low: int, high: int) -> int:
    """How many values a cron field takes: *, ?, lists, ranges, steps and names."""
    values: set[int] = set()
    for part in field.upper().split(","):
        span, _, step = part.partition("/")
        if not re.fullmatch(r"\*|\?|(\d+|[A-Z]{3})(-(\d+|[A-Z]{3}))?", span):
            raise ValueError(f"cron field {field!r}: L, W and # are not modelled")
        bounds = [] if span in ("*", "?") else [_NAMES.get(v) or int(v) for v in span.split("-")]
        start, end = (bounds[0], bounds[-1]) if bounds else (low, high)
        end = high if step and len(bounds) == 1 else end  # 5/10: from 5 on
        values.update(range(start, end + 1, int(step or 1)))
    return len(values)


def _usd(value: float, digits: int = 2) -> str:
    return f"< {10**-digits:.{digits}f}" if 0 < value < 10**-digits else f"{value:,.{digits}f}"


def _number(value: float) -> str:
    if value == int(value) or value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 0.001 else f"{value:.6f}".rstrip("0")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    return "\n".join([*lines, *(f"| {' | '.join(row)} |" for row in rows)]) + "\n"


def idle_block(templates: Sequence[Template], config: EnvironmentConfig) -> str:
    """The idle tables of docs/cost.md: what is billed, then every resource type."""
    lines = idle_lines(templates, config)
    rows = [(x.item, x.counted, _number(x.quantity), x.rate, x.billing, _usd(x.usd),
             _usd(x.usd_free_tier)) for x in lines]  # fmt: skip
    rows.append(("**total**", "", "", "", "", f"**{_usd(sum(x.usd for x in lines))}**",
                 f"**{_usd(sum(x.usd_free_tier for x in lines))}**"))  # fmt: skip
    items = _table(
        (
            "item",
            "what counts it",
            "quantity",
            "unit price (USD)",
            "billed",
            "USD/month, list price",
            "USD/month, with the CloudWatch free tier",
        ),
        rows,
    )
    kinds = _table(("resource type", "count", "billed", "for what"),
                   [(f"`{kind}`", str(n), how, what)
                    for kind, n, how, what in resource_types(templates)])  # fmt: skip
    return f"{items}\nEvery resource type in the templates:\n\n{kinds}"


def run_block(datasets: Mapping[str, Template], templates: Sequence[Template]) -> str:
    """The run tables of docs/cost.md: each dataset's run, then a month of its schedule."""
    parts, month, total = [], [], 0.0
    for name, template in datasets.items():
        lines = run_lines(template, templates)
        per_run = sum(x.usd for x in lines)
        rows = [(x.item, x.counted, _number(x.quantity), x.rate, _usd(x.usd, 4)) for x in lines]
        rows.append(("**total**", "", "", "", f"**{_usd(per_run, 4)}**"))
        header = ("item", "what counts it", "quantity", "unit price (USD)", "USD per run")
        parts.append(f"`{name}`, one successful run:\n\n{_table(header, rows)}")
        for props in _by_type([template])["AWS::Scheduler::Schedule"]:
            on = props.get("State", "ENABLED") == "ENABLED"
            runs = runs_per_month(props["ScheduleExpression"]) if on else 0
            total += runs * per_run
            shown = f"`{props['ScheduleExpression']}`" + ("" if on else " (disabled)")
            month.append((f"`{name}`", shown, _number(runs),
                          _usd(per_run, 4), _usd(runs * per_run)))  # fmt: skip
    month.append(("**total**", "", "", "", f"**{_usd(total)}**"))
    header = ("dataset", "schedule", "runs a month", "USD per run", "USD/month, scheduled runs")
    return (
        "\n".join(parts)
        + f"\nA month ({HOURS} hours) of the schedules:\n\n"
        + _table(header, month)
    )


def summary_block(
    templates: Sequence[Template], datasets: Mapping[str, Template], config: EnvironmentConfig
) -> str:
    """The README's summary: the idle month and each dataset's run, from the same model."""
    lines = idle_lines(templates, config)
    hourly = [x.item for x in lines if x.billing == HOUR]
    runs = ", ".join(
        f"`{name}` {_usd(sum(x.usd for x in run_lines(template, templates)), 2)} USD"
        for name, template in datasets.items()
    )
    return (
        f"Idle, the {config.name} costs **{_usd(sum(x.usd for x in lines))} USD a month** at "
        f"list price ({_usd(sum(x.usd_free_tier for x in lines))} USD within CloudWatch's free "
        f"tier), and {'nothing' if not hourly else ', '.join(hourly)} is billed by the hour. "
        f"A pipeline run costs about: {runs} (mostly the crawler's 10-minute minimum and the "
        "Glue job's DPU-minutes). Counted from the synthesized templates with the assumptions "
        "and prices of [docs/cost.md](docs/cost.md).\n"
    )


def update_doc(text: str, templates: Sequence[Template], datasets: Mapping[str, Template],
               config: EnvironmentConfig) -> str:  # fmt: skip
    """docs/cost.md's text with both generated blocks as the templates give them now."""
    text = replace_block(text, "cost-idle", idle_block(templates, config), fence=None)
    return replace_block(text, "cost-run", run_block(datasets, templates), fence=None)


def _on_demand(props: Props) -> bool:
    return bool(props.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND")


def _publishes_when_idle(props: Props) -> bool:
    return any("DefaultValue" in t for t in props.get("MetricTransformations", []))


def _with_template(templates: Sequence[Template], kind: str) -> Iterator[tuple[Template, Props]]:
    for template in templates:
        for resource in template.get("Resources", {}).values():
            if resource["Type"] == kind:
                yield template, resource.get("Properties", {})


def _by_type(templates: Sequence[Template]) -> dict[str, list[Props]]:
    of: dict[str, list[Props]] = {kind: [] for kind in TYPES}
    for template in templates:
        for resource in template.get("Resources", {}).values():
            billing(resource["Type"], resource.get("Properties", {}))
            of[resource["Type"]].append(resource.get("Properties", {}))
    return of
