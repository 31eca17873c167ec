"""Environment configuration: read once from CDK context, validated into frozen dataclasses.

Everything an environment can change lives under ``context.environments.<name>`` in
``cdk.json``. It is validated here, before any construct exists, so a bad value fails synth
with one message that names the key, the value and what is expected. Constructs never read
context or the process environment; they receive these dataclasses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cdk_constructs.log_retention import LOG_RETENTION_DAYS

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


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key, the value and the fix."""


@dataclass(frozen=True)
class Retention:
    """How long logs and audit records are kept."""

    log_group_days: int
    access_log_days: int
    audit_log_days: int


@dataclass(frozen=True)
class Lifecycle:
    """When lake objects expire or move to cheaper storage classes (days after creation)."""

    landing_expiration_days: int
    raw_infrequent_access_days: int
    raw_glacier_days: int
    curated_infrequent_access_days: int
    athena_results_expiration_days: int
    noncurrent_version_expiration_days: int
    abort_incomplete_upload_days: int


@dataclass(frozen=True)
class Ingest:
    """Limits of the batch ingest function."""

    max_file_megabytes: int
    reserved_concurrency: int | None


@dataclass(frozen=True)
class Processing:
    """How the Glue jobs run."""

    worker_type: str
    max_workers: int
    flex: bool
    timeout_minutes: int
    # Whether the datasets' schedules start runs. Off, they are deployed disabled (turn one on
    # in the console to try it): a schedule starts a crawl and job runs whether or not data
    # arrived, the largest running cost of a sandbox. Arrival triggers work either way.
    schedules_enabled: bool


@dataclass(frozen=True)
class Monitoring:
    """What watches the environment besides its alarms."""

    # The dashboard datalake-<env>-lake: 3 USD a month at list price (docs/cost.md).
    dashboard: bool


@dataclass(frozen=True)
class Athena:
    """How the query workgroups limit queries."""

    # A query that would scan more is cancelled (Athena's minimum is 10 MB).
    bytes_scanned_cutoff_megabytes: int


@dataclass(frozen=True)
class Redshift:
    """The optional Redshift Serverless warehouse."""

    enabled: bool
    base_capacity: int  # RPUs while queries run: 8 to 512, in steps of 8
    # Three zones Redshift Serverless supports in the region (it needs three).
    availability_zones: tuple[str, ...]


@dataclass(frozen=True)
class Tags:
    """Tags applied to every resource of the environment."""

    project: str
    environment: str
    owner: str
    cost_center: str

    def as_dict(self) -> dict[str, str]:
        return {
            "Project": self.project,
            "Environment": self.environment,
            "Owner": self.owner,
            "CostCenter": self.cost_center,
        }


@dataclass(frozen=True)
class Personas:
    """Who may assume each persona role: IAM principal ARNs (users, roles or an account root).

    An empty tuple means nobody is named; the role then trusts this account's IAM policies
    and requires MFA, so no one can use it until an administrator allows them to.
    """

    analyst: tuple[str, ...] = ()
    scientist: tuple[str, ...] = ()
    engineer: tuple[str, ...] = ()
    security_officer: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnvironmentConfig:
    """One deployment target (for example sandbox or prod)."""

    project: str
    name: str
    account: str | None
    region: str | None
    remove_data_on_destroy: bool
    termination_protection: bool
    alert_email: str | None
    retention: Retention
    lifecycle: Lifecycle
    tags: Tags
    lake_formation_admins: tuple[str, ...]
    personas: Personas
    ingest: Ingest
    processing: Processing
    monitoring: Monitoring
    athena: Athena
    redshift: Redshift

    def stack_name(self, stage: str) -> str:
        """CloudFormation stack name, unique per project and environment."""
        return f"{self.project}-{self.name}-{stage}"

    def resource_name(self, suffix: str) -> str:
        """A physical name for resources that services or people find by name (crawlers)."""
        return f"{self.project}-{self.name}-{suffix}"

    def database_name(self, zone: str) -> str:
        """The Glue database of a zone, as analysts type it in queries."""
        return f"{self.project}_{self.name}_{zone}".replace("-", "_")


class _Section:
    """Reads one mapping of the context, remembering its path for error messages."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{SOURCE}: {path} = {data!r}: expected an object of settings")
        self.data = data
        self.path = path
        self._read: set[str] = set()

    def fail(self, key: str, expected: str) -> ConfigError:
        value = self.data.get(key, "<missing>")
        return ConfigError(f"{SOURCE}: {self.path}.{key} = {value!r}: expected {expected}")

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        return self.data.get(key, default)

    def section(self, key: str) -> _Section:
        return _Section(self._get(key, {}), f"{self.path}.{key}")

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false")
        return value

    def integer(self, key: str, default: int, *, minimum: int = 1) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"a whole number, at least {minimum}")
        return value

    def string(self, key: str, default: str | None, pattern: re.Pattern[str], expected: str) -> Any:
        value = self._get(key, default)
        if value is None and default is None:
            return None
        if not isinstance(value, str) or not pattern.match(value):
            raise self.fail(key, expected)
        return value

    def zones(self, key: str) -> tuple[str, ...]:
        value = self._get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, str) and _ZONE_RE.match(v) for v in value
        ):
            raise self.fail(key, 'a list of Availability Zone names, like ["eu-west-1a"]')
        return tuple(value)

    def principals(self, key: str) -> tuple[str, ...]:
        value = self._get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, str) and _PRINCIPAL_RE.match(v) for v in value
        ):
            raise self.fail(
                key,
                "a list of IAM principal ARNs (arn:aws:iam::<account>:role/<name>, "
                "...:user/<name> or ...:root)",
            )
        return tuple(value)

    def reject_unknown(self) -> None:
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            key = unknown[0]
            raise ConfigError(
                f"{SOURCE}: {self.path}.{key} = {self.data[key]!r}: unknown setting; "
                f"expected one of {', '.join(sorted(self._read))}"
            )


def _retention(section: _Section) -> Retention:
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
    section.reject_unknown()
    return retention


def _lifecycle(section: _Section) -> Lifecycle:
    # S3 refuses a transition to STANDARD_IA earlier than 30 days after creation.
    raw_ia = section.integer("rawInfrequentAccessDays", 30, minimum=30)
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
        curated_infrequent_access_days=section.integer(
            "curatedInfrequentAccessDays", 90, minimum=30
        ),
        athena_results_expiration_days=section.integer("athenaResultsExpirationDays", 30),
        noncurrent_version_expiration_days=section.integer("noncurrentVersionExpirationDays", 30),
        abort_incomplete_upload_days=section.integer("abortIncompleteUploadDays", 7),
    )
    section.reject_unknown()
    return lifecycle


def _tags(section: _Section, project: str, environment: str) -> Tags:
    expected = "a non-empty tag value (letters, digits, spaces and _ . : / = + - @, at most 256)"
    tags = Tags(
        project=project,
        environment=environment,
        owner=section.string("owner", None, _TAG_VALUE_RE, expected),
        cost_center=section.string("costCenter", None, _TAG_VALUE_RE, expected),
    )
    for key, value in (("owner", tags.owner), ("costCenter", tags.cost_center)):
        if value is None:
            raise section.fail(key, expected)
    section.reject_unknown()
    return tags


def _ingest(section: _Section) -> Ingest:
    megabytes = section.integer("maxFileMegabytes", 512)
    # What the function can copy within its 15 minutes, with margin.
    if megabytes > 20480:
        raise section.fail("maxFileMegabytes", "at most 20480 (20 GiB)")
    ingest = Ingest(
        max_file_megabytes=megabytes,
        # 0 reserves nothing (a null would not survive CDK's context handling).
        reserved_concurrency=section.integer("reservedConcurrency", 10, minimum=0) or None,
    )
    section.reject_unknown()
    return ingest


_WORKER_TYPE_RE = re.compile(r"^G\.(1|2|4|8)X$")


def _redshift(section: _Section) -> Redshift:
    redshift = Redshift(
        enabled=section.boolean("enabled", False),
        base_capacity=section.integer("baseCapacity", 8, minimum=8),
        availability_zones=section.zones("availabilityZones"),
    )
    if redshift.base_capacity % 8 or redshift.base_capacity > 512:
        raise section.fail("baseCapacity", "RPUs from 8 to 512 in steps of 8")
    if redshift.enabled and len(set(redshift.availability_zones)) != 3:
        raise section.fail(
            "availabilityZones",
            "three different Availability Zones that Redshift Serverless supports in the "
            'region, like ["us-east-1a", "us-east-1b", "us-east-1c"] (it needs three)',
        )
    section.reject_unknown()
    return redshift


def _monitoring(section: _Section) -> Monitoring:
    monitoring = Monitoring(dashboard=section.boolean("dashboard", True))
    section.reject_unknown()
    return monitoring


def _athena(section: _Section) -> Athena:
    athena = Athena(
        bytes_scanned_cutoff_megabytes=section.integer(
            "bytesScannedCutoffMegabytes", 1024, minimum=10
        ),
    )
    section.reject_unknown()
    return athena


def _processing(section: _Section) -> Processing:
    processing = Processing(
        worker_type=section.string(
            "workerType", "G.1X", _WORKER_TYPE_RE, "a Glue 5.0 worker type: G.1X, G.2X, G.4X, G.8X"
        ),
        # Auto-scaling starts small and grows to this many workers; Glue needs at least 2.
        max_workers=section.integer("maxWorkers", 10, minimum=2),
        # Flex runs on spare capacity: cheaper, may start later. For schedules with slack.
        flex=section.boolean("flex", False),
        timeout_minutes=section.integer("timeoutMinutes", 60),
        schedules_enabled=section.boolean("schedulesEnabled", True),
    )
    # Flex runs only on the smaller workers.
    if processing.flex and processing.worker_type not in ("G.1X", "G.2X"):
        raise section.fail("flex", f"false with workerType {processing.worker_type} (Flex runs "
                           "G.1X and G.2X only)")  # fmt: skip
    section.reject_unknown()
    return processing


def _personas(section: _Section) -> Personas:
    personas = Personas(
        analyst=section.principals("analyst"),
        scientist=section.principals("scientist"),
        engineer=section.principals("engineer"),
        security_officer=section.principals("securityOfficer"),
    )
    section.reject_unknown()
    return personas


def _environment(project: str, name: str, data: Any) -> EnvironmentConfig:
    section = _Section(data, f"context.environments.{name}")
    account = section.string("account", None, _ACCOUNT_RE, "a 12-digit AWS account ID, or null")
    region = section.string("region", None, _REGION_RE, "an AWS region such as eu-west-1, or null")
    if (account is None) != (region is None):
        raise section.fail(
            "region" if region is None else "account",
            "account and region to be set together, or both left null (environment-agnostic)",
        )
    config = EnvironmentConfig(
        project=project,
        name=name,
        account=account,
        region=region,
        remove_data_on_destroy=section.boolean("removeDataOnDestroy", False),
        termination_protection=section.boolean("terminationProtection", False),
        alert_email=section.string("alertEmail", None, _EMAIL_RE, "an e-mail address, or null"),
        retention=_retention(section.section("retention")),
        lifecycle=_lifecycle(section.section("lifecycle")),
        tags=_tags(section.section("tags"), project, name),
        lake_formation_admins=section.principals("lakeFormationAdmins"),
        personas=_personas(section.section("personas")),
        ingest=_ingest(section.section("ingest")),
        processing=_processing(section.section("processing")),
        monitoring=_monitoring(section.section("monitoring")),
        athena=_athena(section.section("athena")),
        redshift=_redshift(section.section("redshift")),
    )
    if config.remove_data_on_destroy and config.termination_protection:
        raise section.fail(
            "removeDataOnDestroy",
            "false when terminationProtection is true: a protected environment keeps its data",
        )
    section.reject_unknown()
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
