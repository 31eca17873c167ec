"""What an environment costs idle: deployed, nothing arrives, no pipeline runs. What is billed
for existing: keys, secrets, alarms, dashboards, the trail's own traffic, and anything billed
by the hour.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence

from model.config import EnvironmentConfig
from tools.cost_prices import (
    ASSUMED,
    DAYS,
    FREE_TIER,
    GB,
    HOUR,
    HOURS,
    MONTH,
    Line,
    unit_price,
)
from tools.cost_types import by_type, publishes_when_idle
from tools.templates import Props, Template, joined, with_template


def idle_lines(templates: Sequence[Template], config: EnvironmentConfig) -> list[Line]:
    """A month of the environment deployed, while nothing arrives and no pipeline runs."""
    of = by_type(templates)  # every type known, or fail
    keys, secrets = len(of["AWS::KMS::Key"]), len(of["AWS::SecretsManager::Secret"])
    managed = sum(bool(n.get("ManageAdminPassword"))
                  for n in of["AWS::RedshiftServerless::Namespace"])  # fmt: skip
    filters = of["AWS::Logs::MetricFilter"]
    idle_metrics = sum(publishes_when_idle(f) for f in filters)
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
    widgets = json.loads(joined(props["DashboardBody"]))["widgets"]
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
    for template, props in with_template(templates, "AWS::CloudTrail::Trail"):
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


def _on_demand(props: Props) -> bool:
    """Whether a Kinesis stream is on demand (billed by the stream-hour, not the shard)."""
    return bool(props.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND")
