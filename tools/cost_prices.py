"""The cost model's prices and assumptions: every price in one dict, ``PRICES``, with the
pricing pages and the date it was checked; every assumption in another, ``ASSUMED``; how a
resource bills; and ``Line``, one billed item at one of the prices. docs/cost.md states them.
"""

from __future__ import annotations

from dataclasses import dataclass

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

# How a resource bills (the "billed" column of docs/cost.md).
FREE, USE, MONTH, HOUR = "free at rest", "per use", "per month", "per hour"


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
