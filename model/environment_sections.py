"""The sections of an environment in cdk.json, each read and checked on its own.

``model.environments`` reads an environment's top-level settings and calls these for its
nested objects (``retention``, ``lifecycle``, ``processing`` ...); each rejects a key it does
not know, so a typo fails synth instead of being ignored.
"""

from __future__ import annotations

import re

from model.config import (
    Alerts,
    Athena,
    Ingest,
    Lifecycle,
    Monitoring,
    Processing,
    Redshift,
    Retention,
    SlackChannel,
    TableMaintenance,
    Tags,
)
from model.fields import Fields
from model.vocabulary import LOG_RETENTION_DAYS, OBJECT_LOCK_MODES, RAW_RETENTION_EXPECTED

_ZONE_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")
# Characters AWS accepts in tag values across services.
_TAG_VALUE_RE = re.compile(r"^[\w .:/=+\-@]{1,256}$")
_WORKER_TYPE_RE = re.compile(r"^G\.(1|2|4|8)X$")
SECURITY_ALARMS = ("each", "one")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")
# A standard topic: SNS names are 1-256 letters, digits, - and _ (FIFO ones end in .fifo).
_TOPIC_RE = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):[A-Za-z0-9_-]{1,256}$")
# Slack's IDs: a workspace (team) starts with T, a channel with C (public) or G (private).
_SLACK_WORKSPACE_RE = re.compile(r"^T[A-Z0-9]{6,20}$")
_SLACK_CHANNEL_RE = re.compile(r"^[CG][A-Z0-9]{6,20}$")


def alerts(section: Fields, account: str | None, region: str | None) -> Alerts:
    """Where alerts go: an e-mail address, an existing topic, a Slack channel (any of them)."""
    topic_arn = section.optional_text(
        "topicArn",
        _TOPIC_RE.match,
        "the ARN of an existing standard SNS topic (arn:aws:sns:<region>:<account>:<name>), "
        "or null",
    )
    if topic_arn and account:
        topic_region, topic_account = _TOPIC_RE.match(topic_arn).groups()  # type: ignore[union-attr]
        if (topic_region, topic_account) != (region, account):
            raise section.fail(
                "topicArn", f"a topic in this environment's account {account} and region {region}"
            )
    alerts = Alerts(
        email=section.optional_text("email", _EMAIL_RE.match, "an e-mail address, or null"),
        topic_arn=topic_arn,
        slack=None if section.get("slack", None) is None else _slack(section.table("slack")),
    )
    section.reject_unknown("setting")
    return alerts


def _slack(section: Fields) -> SlackChannel:
    slack = SlackChannel(
        workspace_id=section.text(
            "workspaceId",
            valid=_SLACK_WORKSPACE_RE.match,
            expected="the Slack workspace ID shown in the AWS Chatbot console (T followed by "
            "capital letters and digits, like T07EA123LEP)",
        ),
        channel_id=section.text(
            "channelId",
            valid=_SLACK_CHANNEL_RE.match,
            expected="a Slack channel ID (C or G followed by capital letters and digits, like "
            "C07EZ1ABC23), from the channel's details in Slack",
        ),
    )
    section.reject_unknown("setting")
    return slack


def retention(section: Fields, *, removes_data: bool) -> Retention:
    """``removes_data``: the environment's removeDataOnDestroy, which decides whether its
    audit logs can be locked (a stack that empties its buckets cannot empty a locked one)."""
    days = section.integer("logGroupDays", 365)
    if days not in LOG_RETENTION_DAYS:
        raise section.fail(
            "logGroupDays",
            f"a CloudWatch Logs retention period, one of {', '.join(map(str, LOG_RETENTION_DAYS))}",
        )
    retention = Retention(
        log_group_days=days,
        access_log_days=section.integer("accessLogDays", 365),
        # S3 Object Lock retains a version for at most 100 years.
        audit_log_days=section.integer("auditLogDays", 365, high=36500),
        audit_object_lock_mode=_audit_object_lock_mode(section, removes_data),
    )
    section.reject_unknown("setting")
    return retention


def _audit_object_lock_mode(section: Fields, removes_data: bool) -> str | None:
    """A lock where data is kept, required there so that whether the audit trail can be
    rewritten is each environment's stated decision; none (null) where the stacks delete it.
    (CDK drops a null from context, so null and absent read the same.)"""
    name = "auditObjectLockMode"
    if removes_data:
        expected = "null where removeDataOnDestroy is true"
        why = {
            "COMPLIANCE": "a COMPLIANCE-locked version cannot be deleted by anyone, root "
            "included, before its retention ends, so the stack's destroy could never empty the "
            "bucket",
            "GOVERNANCE": "a GOVERNANCE-locked version can only be deleted by a request that "
            "bypasses governance retention, which the stack's emptying of the bucket does not "
            "send, so its destroy would fail",
        }
    else:
        expected = (
            "COMPLIANCE (no one can delete or shorten a file's lock) or GOVERNANCE (holders "
            "of s3:BypassGovernanceRetention can) where removeDataOnDestroy is false: an "
            "environment that keeps its data keeps its audit trail write-once"
        )
        why = {}
    mode = section.get(name, None)
    if mode is None and not removes_data:
        raise section.fail(name, f"{expected} (the setting is required)")
    if isinstance(mode, str) and mode in why:
        raise section.fail(name, f"{expected}: {why[mode]}")
    if mode is not None and (removes_data or mode not in OBJECT_LOCK_MODES):
        raise section.fail(name, expected)
    return None if mode is None else str(mode)


def lifecycle(section: Fields) -> Lifecycle:
    # S3 refuses a transition to STANDARD_IA earlier than 30 days after creation.
    raw_ia = section.integer("rawInfrequentAccessDays", 30, low=30)
    raw_glacier = section.integer("rawGlacierDays", 90)
    # ... and objects must stay 30 days in STANDARD_IA before moving on to a Glacier class.
    if raw_glacier < raw_ia + 30:
        raise section.fail(
            "rawGlacierDays", f"at least 30 more days than rawInfrequentAccessDays ({raw_ia})"
        )
    raw_days = "rawExpirationDays"
    if raw_days not in section.data:
        # How long raw keeps personal data in clear is never left to a default.
        raise section.fail(raw_days, f"{RAW_RETENTION_EXPECTED} (the setting is required)")
    lifecycle = Lifecycle(
        landing_expiration_days=section.integer("landingExpirationDays", 7),
        raw_infrequent_access_days=raw_ia,
        raw_glacier_days=raw_glacier,
        raw_expiration_days=section.integer(raw_days, 1, expected=RAW_RETENTION_EXPECTED),
        curated_infrequent_access_days=section.integer("curatedInfrequentAccessDays", 90, low=30),
        athena_results_expiration_days=section.integer("athenaResultsExpirationDays", 30),
        noncurrent_version_expiration_days=section.integer("noncurrentVersionExpirationDays", 30),
        abort_incomplete_upload_days=section.integer("abortIncompleteUploadDays", 7),
    )
    section.reject_unknown("setting")
    return lifecycle


def tags(section: Fields, project: str, environment: str) -> Tags:
    expected = "a non-empty tag value (letters, digits, spaces and _ . : / = + - @, at most 256)"
    values = {}
    for key in ("owner", "costCenter"):
        values[key] = section.optional_text(key, _TAG_VALUE_RE.match, expected)
        if values[key] is None:
            raise section.fail(key, expected)
    section.reject_unknown("setting")
    return Tags(project, environment, owner=values["owner"], cost_center=values["costCenter"])


def ingest(section: Fields) -> Ingest:
    megabytes = section.integer("maxFileMegabytes", 512)
    # What the function can copy within its 15 minutes, with margin.
    if megabytes > 20480:
        raise section.fail("maxFileMegabytes", "at most 20480 (20 GiB)")
    ingest = Ingest(
        max_file_megabytes=megabytes,
        # 0 reserves nothing (a null would not survive CDK's context handling).
        reserved_concurrency=section.integer("reservedConcurrency", 10, low=0) or None,
    )
    section.reject_unknown("setting")
    return ingest


def redshift(section: Fields) -> Redshift:
    redshift = Redshift(
        enabled=section.flag("enabled", False),
        base_capacity=section.integer("baseCapacity", 8, low=8),
        availability_zones=section.strings(
            "availabilityZones",
            _ZONE_RE.match,
            'a list of Availability Zone names, like ["eu-west-1a"]',
        ),
    )
    if redshift.base_capacity % 8 or redshift.base_capacity > 512:
        raise section.fail("baseCapacity", "RPUs from 8 to 512 in steps of 8")
    if redshift.enabled and len(set(redshift.availability_zones)) != 3:
        raise section.fail(
            "availabilityZones",
            "three different Availability Zones that Redshift Serverless supports in the "
            'region, like ["us-east-1a", "us-east-1b", "us-east-1c"] (it needs three)',
        )
    section.reject_unknown("setting")
    return redshift


def monitoring(section: Fields) -> Monitoring:
    monitoring = Monitoring(
        dashboard=section.flag("dashboard", True),
        security_alarms=section.text(
            "securityAlarms",
            "each",
            SECURITY_ALARMS.__contains__,
            '"each" (an alarm per security event) or "one" (one alarm over all of them)',
        ),
    )
    section.reject_unknown("setting")
    return monitoring


def athena(section: Fields) -> Athena:
    athena = Athena(
        bytes_scanned_cutoff_megabytes=section.integer("bytesScannedCutoffMegabytes", 1024, low=10)
    )
    section.reject_unknown("setting")
    return athena


def processing(section: Fields) -> Processing:
    processing = Processing(
        worker_type=section.text(
            "workerType",
            "G.1X",
            _WORKER_TYPE_RE.match,
            "a Glue 5.0 worker type: G.1X, G.2X, G.4X, G.8X",
        ),
        # Auto-scaling starts small and grows to this many workers; Glue needs at least 2.
        max_workers=section.integer("maxWorkers", 10, low=2),
        # Flex runs on spare capacity: cheaper, may start later. For schedules with slack.
        flex=section.flag("flex", False),
        timeout_minutes=section.integer("timeoutMinutes", 60),
        schedules_enabled=section.flag("schedulesEnabled", True),
        # Off unless asked: execution data holds object keys of personal files and error text.
        pipeline_log_execution_data=section.flag("pipelineLogExecutionData", False),
    )
    # Flex runs only on the smaller workers.
    if processing.flex and processing.worker_type not in ("G.1X", "G.2X"):
        raise section.fail("flex", f"false with workerType {processing.worker_type} (Flex runs "
                           "G.1X and G.2X only)")  # fmt: skip
    section.reject_unknown("setting")
    return processing


def table_maintenance(section: Fields, processing: Processing) -> TableMaintenance:
    """Every setting is required: how long a deleted row stays readable through time travel
    (and in S3) is each environment's decision, not the code's."""

    def required(name: str, unit: str) -> int:
        expected = f"a whole number of {unit}, at least 1"
        if name not in section.data:
            raise section.fail(name, f"{expected} (the setting is required)")
        return section.integer(name, 1, expected=expected)

    maintenance = TableMaintenance(
        snapshot_retention_days=required("snapshotRetentionDays", "days"),
        snapshots_to_retain=required("snapshotsToRetain", "snapshots"),
        orphan_file_retention_days=required("orphanFileRetentionDays", "days"),
    )
    # A run's files are unreferenced until its commit: orphan removal must wait longer.
    if maintenance.orphan_file_retention_days * 24 * 60 <= processing.timeout_minutes:
        limit = f"(processing.timeoutMinutes = {processing.timeout_minutes})"
        raise section.fail("orphanFileRetentionDays", f"more days than the longest job run {limit}")
    section.reject_unknown("setting")
    return maintenance
