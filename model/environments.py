"""Reading cdk.json's environments: ``load_config`` checks every setting of every environment.

Everything an environment can change lives under ``context.environments.<name>`` in
``cdk.json``. It is read here once, before any construct exists, into the frozen dataclasses
of ``model.config``; a wrong value fails synth with one message naming the key, the value and
what is expected (``model.fields``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from model.config import (
    Athena,
    ConfigError,
    EnvironmentConfig,
    Ingest,
    Lifecycle,
    Monitoring,
    Processing,
    Redshift,
    Retention,
    TableMaintenance,
    Tags,
)
from model.fields import Fields
from model.vocabulary import LOG_RETENTION_DAYS, PERSONAS

SOURCE = "cdk.json"
DEFAULT_ENVIRONMENT = "sandbox"

_PROJECT_RE = re.compile(r"^[a-z][a-z0-9-]{1,19}$")
_ENV_NAME_RE = re.compile(r"^[a-z][a-z0-9]{1,11}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
_ZONE_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}$")
_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(root|(role|user)/[\w+=,.@/-]+)$")
# Characters AWS accepts in tag values across services.
_TAG_VALUE_RE = re.compile(r"^[\w .:/=+\-@]{1,256}$")
_WORKER_TYPE_RE = re.compile(r"^G\.(1|2|4|8)X$")
_PRINCIPALS_EXPECTED = (
    "a list of IAM principal ARNs (arn:aws:iam::<account>:role/<name>, ...:user/<name> or ...:root)"
)


def _principals(section: Fields, key: str) -> tuple[str, ...]:
    return section.strings(key, _PRINCIPAL_RE.match, _PRINCIPALS_EXPECTED)


def _retention(section: Fields) -> Retention:
    days = section.integer("logGroupDays", 365)
    if days not in LOG_RETENTION_DAYS:
        raise section.fail(
            "logGroupDays",
            f"a CloudWatch Logs retention period, one of {', '.join(map(str, LOG_RETENTION_DAYS))}",
        )
    retention = Retention(
        log_group_days=days,
        access_log_days=section.integer("accessLogDays", 365),
        audit_log_days=section.integer("auditLogDays", 365),
    )
    section.reject_unknown("setting")
    return retention


def _lifecycle(section: Fields) -> Lifecycle:
    # S3 refuses a transition to STANDARD_IA earlier than 30 days after creation.
    raw_ia = section.integer("rawInfrequentAccessDays", 30, low=30)
    raw_glacier = section.integer("rawGlacierDays", 90)
    # ... and objects must stay 30 days in STANDARD_IA before moving on to a Glacier class.
    if raw_glacier < raw_ia + 30:
        raise section.fail(
            "rawGlacierDays", f"at least 30 more days than rawInfrequentAccessDays ({raw_ia})"
        )
    lifecycle = Lifecycle(
        landing_expiration_days=section.integer("landingExpirationDays", 7),
        raw_infrequent_access_days=raw_ia,
        raw_glacier_days=raw_glacier,
        curated_infrequent_access_days=section.integer("curatedInfrequentAccessDays", 90, low=30),
        athena_results_expiration_days=section.integer("athenaResultsExpirationDays", 30),
        noncurrent_version_expiration_days=section.integer("noncurrentVersionExpirationDays", 30),
        abort_incomplete_upload_days=section.integer("abortIncompleteUploadDays", 7),
    )
    section.reject_unknown("setting")
    return lifecycle


def _tags(section: Fields, project: str, environment: str) -> Tags:
    expected = "a non-empty tag value (letters, digits, spaces and _ . : / = + - @, at most 256)"
    values = {}
    for key in ("owner", "costCenter"):
        values[key] = section.optional_text(key, _TAG_VALUE_RE.match, expected)
        if values[key] is None:
            raise section.fail(key, expected)
    section.reject_unknown("setting")
    return Tags(project, environment, owner=values["owner"], cost_center=values["costCenter"])


def _ingest(section: Fields) -> Ingest:
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


def _redshift(section: Fields) -> Redshift:
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


def _monitoring(section: Fields) -> Monitoring:
    monitoring = Monitoring(dashboard=section.flag("dashboard", True))
    section.reject_unknown("setting")
    return monitoring


def _athena(section: Fields) -> Athena:
    athena = Athena(
        bytes_scanned_cutoff_megabytes=section.integer("bytesScannedCutoffMegabytes", 1024, low=10)
    )
    section.reject_unknown("setting")
    return athena


def _processing(section: Fields) -> Processing:
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
    )
    # Flex runs only on the smaller workers.
    if processing.flex and processing.worker_type not in ("G.1X", "G.2X"):
        raise section.fail("flex", f"false with workerType {processing.worker_type} (Flex runs "
                           "G.1X and G.2X only)")  # fmt: skip
    section.reject_unknown("setting")
    return processing


def _table_maintenance(section: Fields, processing: Processing) -> TableMaintenance:
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


def _personas(section: Fields) -> dict[str, tuple[str, ...]]:
    """Principals by persona name, read under each persona's cdk.json key."""
    personas = {p.name: _principals(section, p.config_key) for p in PERSONAS}
    section.reject_unknown("persona")
    return personas


def _environment(project: str, name: str, data: Any) -> EnvironmentConfig:
    section = Fields(
        data,
        SOURCE,
        f"context.environments.{name}",
        error=ConfigError,
        expected_table="an object of settings",
    )
    account = section.optional_text(
        "account", _ACCOUNT_RE.match, "a 12-digit AWS account ID, or null"
    )
    region = section.optional_text(
        "region", _REGION_RE.match, "an AWS region such as eu-west-1, or null"
    )
    if (account is None) != (region is None):
        raise section.fail(
            "region" if region is None else "account",
            "account and region to be set together, or both left null (environment-agnostic)",
        )
    processing = _processing(section.table("processing", {}))
    config = EnvironmentConfig(
        project=project,
        name=name,
        account=account,
        region=region,
        remove_data_on_destroy=section.flag("removeDataOnDestroy", False),
        termination_protection=section.flag("terminationProtection", False),
        alert_email=section.optional_text(
            "alertEmail", _EMAIL_RE.match, "an e-mail address, or null"
        ),
        retention=_retention(section.table("retention", {})),
        lifecycle=_lifecycle(section.table("lifecycle", {})),
        tags=_tags(section.table("tags", {}), project, name),
        lake_formation_admins=_principals(section, "lakeFormationAdmins"),
        personas=_personas(section.table("personas", {})),
        ingest=_ingest(section.table("ingest", {})),
        processing=processing,
        monitoring=_monitoring(section.table("monitoring", {})),
        athena=_athena(section.table("athena", {})),
        redshift=_redshift(section.table("redshift", {})),
        table_maintenance=_table_maintenance(section.table("tableMaintenance"), processing),
    )
    if config.remove_data_on_destroy and config.termination_protection:
        raise section.fail(
            "removeDataOnDestroy",
            "false when terminationProtection is true: a protected environment keeps its data",
        )
    section.reject_unknown("setting")
    return config


def load_config(context: Mapping[str, Any]) -> EnvironmentConfig:
    """Validate the CDK context and return the selected environment's configuration.

    ``context`` is the app's context: ``cdk.json``'s ``context`` merged with ``-c`` values.
    The environment is chosen with ``-c env=NAME``; without it, ``sandbox``.
    """
    project = context.get("project")
    if not isinstance(project, str) or not _PROJECT_RE.match(project):
        raise ConfigError(
            f"{SOURCE}: context.project = {project!r}: expected 2-20 characters of "
            "lower-case letters, digits and hyphens, starting with a letter"
        )
    environments = context.get("environments")
    if not isinstance(environments, Mapping) or not environments:
        raise ConfigError(
            f"{SOURCE}: context.environments = {environments!r}: expected an object with "
            "one entry per environment (for example sandbox and prod)"
        )
    for env_name in environments:
        if not _ENV_NAME_RE.match(env_name):
            raise ConfigError(
                f"{SOURCE}: context.environments.{env_name}: expected an environment name "
                "of 2-12 lower-case letters and digits, starting with a letter"
            )
    name = context.get("env", DEFAULT_ENVIRONMENT)
    if name not in environments:
        raise ConfigError(
            f"-c env={name!r}: unknown environment; expected one of "
            f"{', '.join(sorted(environments))} (defined in {SOURCE} context.environments)"
        )
    # Every environment is validated, so a broken prod entry fails a sandbox synth in CI too.
    configs = {env: _environment(project, env, data) for env, data in environments.items()}
    # Lake Formation settings and tags are account-wide: one environment per account and region.
    placed: dict[tuple[str, str], str] = {}
    for env, config in configs.items():
        if config.account is None or config.region is None:
            continue
        other = placed.setdefault((config.account, config.region), env)
        if other != env:
            raise ConfigError(
                f"{SOURCE}: context.environments.{env}.account = {config.account!r}: expected "
                f"an account and region of its own; {other} is deployed there too, and Lake "
                "Formation settings and tags are shared by the whole account and region"
            )
    return configs[name]
