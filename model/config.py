"""Environment configuration: what an environment of cdk.json may change, as frozen dataclasses.

Everything an environment can change lives under ``context.environments.<name>`` in
``cdk.json``; ``model.environments.load_config`` reads and checks it before any construct
exists, so a bad value fails synth with one message that names the key, the value and what is
expected. Constructs never read context or the process environment; they receive these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key, the value and the fix."""


@dataclass(frozen=True)
class Retention:
    """How long logs and audit records are kept."""

    log_group_days: int
    access_log_days: int
    audit_log_days: int
    # S3 Object Lock mode of every CloudTrail file version, locked for ``audit_log_days``:
    # COMPLIANCE (no one, root included, can delete or shorten it) or GOVERNANCE (whoever holds
    # s3:BypassGovernanceRetention can). None only where the environment removes its data.
    audit_object_lock_mode: str | None


@dataclass(frozen=True)
class Lifecycle:
    """When lake objects expire or move to cheaper storage classes (days after creation)."""

    landing_expiration_days: int
    raw_infrequent_access_days: int
    raw_glacier_days: int
    # When raw files (and their quarantine) expire, unless a dataset declares its own
    # ``raw_retention_days``: how long personal data in clear is kept is a stated decision.
    raw_expiration_days: int
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
    # Whether the pipelines' execution logs carry each state's input, output and error text
    # (object keys of personal files among them), besides which states ran and when. Every
    # event is logged either way; the data of a failure stays in the execution's history.
    pipeline_log_execution_data: bool


@dataclass(frozen=True)
class Monitoring:
    """What watches the environment besides its alarms."""

    # The dashboard datalake-<env>-lake: 3 USD a month at list price (docs/cost.md).
    dashboard: bool
    # "each": an alarm per security metric filter, whose alert names the event; "one": one
    # alarm over all of them (0.10 USD a month instead of 1.60), whose alert says only that
    # one of them happened. The filters are the same either way.
    security_alarms: str


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
class TableMaintenance:
    """What Glue's table optimizers keep of each Iceberg table (curated and analytics).

    A snapshot is expired once it is older than ``snapshot_retention_days`` and not among
    the last ``snapshots_to_retain``; its files no other snapshot needs are then deleted. That
    is also when a deleted row leaves S3: until then time travel can still read it. Files no
    snapshot refers to (left by a failed write) are deleted after ``orphan_file_retention_days``.
    """

    snapshot_retention_days: int
    snapshots_to_retain: int
    orphan_file_retention_days: int


@dataclass(frozen=True)
class SlackChannel:
    """A Slack channel that AWS Chatbot (Amazon Q Developer in chat applications) posts to.

    The workspace must have been authorized once in the Chatbot console (an OAuth step no
    template can take); the IDs are shown there and in Slack's channel details.
    """

    workspace_id: str
    channel_id: str


@dataclass(frozen=True)
class Alerts:
    """Where the alerts topic's messages go besides the topic itself: any, all or none.

    Every security alarm, dataset alarm and pipeline failure publishes to the alerts topic;
    without a destination, nobody hears of them.
    """

    # An address subscribed to the topic (it must confirm the subscription).
    email: str | None = None
    # An existing SNS topic in the same account and region that every alert is forwarded to.
    topic_arn: str | None = None
    slack: SlackChannel | None = None

    @property
    def reach_someone(self) -> bool:
        return bool(self.email or self.topic_arn or self.slack)


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
class EnvironmentConfig:
    """One deployment target (for example sandbox or prod)."""

    project: str
    name: str
    account: str | None
    region: str | None
    remove_data_on_destroy: bool
    termination_protection: bool
    # Production-grade: synth refuses to build it without an alert destination, named
    # principals for every persona and a Lake Formation admin that is not the deployer
    # (model.readiness). Absent in cdk.json means true, so a new environment starts strict.
    production: bool
    alerts: Alerts
    retention: Retention
    lifecycle: Lifecycle
    tags: Tags
    lake_formation_admins: tuple[str, ...]
    # Who may assume each persona's role, by persona name (model.vocabulary.PERSONAS): IAM
    # role or user ARNs, trusted by name. None named (a sandbox convenience, refused in
    # production): the role trusts this account's IAM policies and requires MFA, so no one
    # can use it until an administrator allows them to.
    personas: Mapping[str, tuple[str, ...]]
    ingest: Ingest
    processing: Processing
    monitoring: Monitoring
    athena: Athena
    redshift: Redshift
    table_maintenance: TableMaintenance

    def stack_name(self, stage: str) -> str:
        """CloudFormation stack name, unique per project and environment."""
        return f"{self.project}-{self.name}-{stage}"

    def resource_name(self, suffix: str) -> str:
        """A physical name for resources that services or people find by name (crawlers)."""
        return f"{self.project}-{self.name}-{suffix}"

    def database_name(self, zone: str) -> str:
        """The Glue database of a zone, as analysts type it in queries."""
        return f"{self.project}_{self.name}_{zone}".replace("-", "_")
