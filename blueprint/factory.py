"""The one place the app is built, for `cdk synth` (through app.py) and for the tests alike."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aws_cdk as cdk

from blueprint import compliance
from cdk_constructs.common.removal import announce_data_removal
from cdk_constructs.monitoring.alarm_forwarding import forward_alarms
from model.config import ConfigError, EnvironmentConfig
from model.datasets import Dataset
from model.declarations import load_datasets
from model.environments import load_config
from model.readiness import gaps, refusal, warning
from stacks.alerts_stack import AlertsStack
from stacks.audit_stack import AuditStack
from stacks.catalog_stack import CatalogStack
from stacks.dataset_stack import DatasetStack
from stacks.delivery_stack import DeliveryStack
from stacks.governance_stack import GovernanceStack
from stacks.ingest_stack import IngestStack
from stacks.monitoring_stack import MonitoringStack
from stacks.storage_stack import StorageStack
from stacks.warehouse_stack import WarehouseStack

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = ROOT / "cdk.json"
S = TypeVar("S", bound=cdk.Stack)
# The synth warning of an environment that is not production and lacks what production needs.
UNREADY = "datalake:production-settings-missing"


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` of cdk.json: what the CLI hands the app before ``-c`` overrides."""
    return dict(json.loads(CDK_JSON.read_text())["context"])


@dataclass(frozen=True)
class Blueprint:
    """The built app and its stacks, so tests can reach each one by name."""

    app: cdk.App
    config: EnvironmentConfig
    datasets: tuple[Dataset, ...]
    storage: StorageStack
    audit: AuditStack
    governance: GovernanceStack
    catalog: CatalogStack
    ingest: IngestStack
    alerts: AlertsStack
    monitoring: MonitoringStack
    delivery: DeliveryStack
    warehouse: WarehouseStack | None
    dataset_stacks: dict[str, DatasetStack]

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [
            self.storage,
            self.audit,
            self.governance,
            self.catalog,
            self.ingest,
            self.alerts,
            self.monitoring,
            self.delivery,
            *([self.warehouse] if self.warehouse else []),
            *self.dataset_stacks.values(),
        ]


def build_app(
    context: Mapping[str, Any] | None = None,
    *,
    outdir: str | None = None,
    enforce_compliance: bool = True,
) -> Blueprint:
    """Build the whole app for the environment that the context selects.

    :param context: CDK context. Default: cdk.json's context. Under the CDK CLI the CLI's own
        context (cdk.json plus ``-c`` values) takes precedence over it.
    :param outdir: where to synthesize. Default: the CLI's choice, or a temporary folder.
    :param enforce_compliance: register the cdk-nag packs so synth fails on a finding.
        Default: on. Tests that run the packs themselves turn it off to run them once.

    The dataset declarations are read from the folder the ``datasets`` context value names
    (``-c datasets=path``, relative to the project), by default ``datasets/``.

    CDK's built-in CloudFormation validation runs only with ``-c cfnValidate=true`` (CI sets
    it): it checks much what cfn-lint checks in the tests and CI, and costs a second or more
    per synth, growing with every dataset stack.

    ``-c overlay=FILE`` (a JSON file, relative to the project) is merged over cdk.json's
    environments before they are read: settings kept out of cdk.json, such as prod's
    principals (CI uses .ci/production-settings.json). A production environment that lacks
    an alert destination, persona principals or a Lake Formation admin fails here
    (``model.readiness``); any other says what it lacks in one synth warning.
    """
    app = cdk.App(
        context=dict(context or cdk_json_context()),
        outdir=outdir,
        builtin_cloud_formation_validation=False,
    )
    config = load_config(_all_context(app))
    missing = gaps(config)
    if missing and config.production:
        raise refusal(config, missing)
    if _flag(app, "cfnValidate"):
        cdk.Validations.of(app).add_plugins(cdk.CloudFormationValidatePlugin())
    datasets = load_datasets(ROOT / str(app.node.try_get_context("datasets") or "datasets"))
    blueprint = _build_stacks(_StackMaker(app, config), datasets)
    announce_data_removal(app, blueprint.storage)
    if config.alerts.topic_arn:
        forward_alarms(app, config.alerts.topic_arn)
    if missing:
        cdk.Annotations.of(blueprint.governance).add_warning_v2(UNREADY, warning(config, missing))
    for key, value in config.tags.as_dict().items():
        cdk.Tags.of(app).add(key, value)
    if enforce_compliance:
        compliance.enforce(app)
    return blueprint


class _StackMaker:
    """Makes the stacks of one environment: names, descriptions, tags, protection, account."""

    def __init__(self, app: cdk.App, config: EnvironmentConfig) -> None:
        self.app, self.config = app, config

    def __call__(self, kind: Callable[..., S], id: str, stage: str, holds: str, **kwargs: Any) -> S:
        config = self.config
        return kind(
            self.app,
            id,
            stack_name=config.stack_name(stage),
            description=f"{config.project} ({config.name}): {holds}",
            config=config,
            env=cdk.Environment(account=config.account, region=config.region)
            if config.account
            else None,
            termination_protection=config.termination_protection,
            # Stack tags: CloudFormation propagates them to every resource it can tag,
            # including those CDK's Tags.of cannot reach (custom-resource providers).
            tags=config.tags.as_dict(),
            **kwargs,
        )


def _build_stacks(make: _StackMaker, datasets: tuple[Dataset, ...]) -> Blueprint:
    """Every stack, in deployment order; each borrows from the stacks before it."""
    storage = make(StorageStack, "Storage", "storage", "lake keys and buckets (stateful)",
                   datasets=datasets)  # fmt: skip
    audit = make(AuditStack, "Audit", "audit", "CloudTrail trail and its log group",
                 storage=storage)  # fmt: skip
    governance = make(GovernanceStack, "Governance", "governance",
                      "Lake Formation and persona roles", datasets=datasets, storage=storage,
                      audit=audit)  # fmt: skip
    catalog = make(CatalogStack, "Catalog", "catalog", "Glue databases and zone-wide grants",
                   storage=storage, governance=governance)  # fmt: skip
    # Lake Formation settings (the deployment role as admin) and tags must exist first; the
    # catalog refers to tags by name, so the order is stated, not inferred.
    catalog.add_stack_dependency(governance)
    ingest = make(IngestStack, "Ingest", "ingest", "batch ingest from landing to raw",
                  datasets=datasets, storage=storage)  # fmt: skip
    alerts = make(AlertsStack, "Alerts", "alerts", "pipeline alerts topic and rules",
                  storage=storage)  # fmt: skip
    monitoring = make(MonitoringStack, "Monitoring", "monitoring",
                      "dashboard, alarms, security alarms", audit=audit, alerts=alerts,
                      ingest=ingest)  # fmt: skip
    delivery = make(DeliveryStack, "Delivery", "delivery", "Athena workgroups per persona",
                    storage=storage, governance=governance)  # fmt: skip
    warehouse = None
    if make.config.redshift.enabled:
        warehouse = make(WarehouseStack, "Warehouse", "warehouse",
                         "Redshift Serverless over the lake", storage=storage)  # fmt: skip
        # Lake Formation settings and tags first (the grant names tags).
        warehouse.add_stack_dependency(catalog)
    dataset_stacks = {}
    for dataset in datasets:
        # Stack names allow no "_"; dataset names no "-", so the two cannot collide.
        stack = make(DatasetStack, f"Dataset-{dataset.name}",
                     f"dataset-{dataset.name.replace('_', '-')}", f"dataset {dataset.name}",
                     dataset=dataset, storage=storage, catalog=catalog, governance=governance,
                     alerts=alerts, delivery=delivery)  # fmt: skip
        # Tags and the catalog's databases first: the dataset's grants and tables name them.
        stack.add_stack_dependency(catalog)
        dataset_stacks[dataset.name] = stack
    return Blueprint(
        app=make.app,
        config=make.config,
        datasets=datasets,
        storage=storage,
        audit=audit,
        governance=governance,
        catalog=catalog,
        ingest=ingest,
        alerts=alerts,
        monitoring=monitoring,
        delivery=delivery,
        warehouse=warehouse,
        dataset_stacks=dataset_stacks,
    )


def _flag(app: cdk.App, key: str) -> bool:
    """A true/false context value; ``-c key=true`` arrives as a string."""
    value = app.node.try_get_context(key)
    if value in (None, False, "false"):
        return False
    if value in (True, "true"):
        return True
    raise ConfigError(f"-c {key}={value!r}: expected true or false")


def _all_context(app: cdk.App) -> dict[str, Any]:
    """The app's context as one mapping (cdk.json, then the CLI's, then ``-c`` values)."""
    values = {key: app.node.try_get_context(key) for key in ("project", "environments", "env")}
    overlay = app.node.try_get_context("overlay")
    if overlay is not None and isinstance(values["environments"], Mapping):
        values["environments"] = _overlaid(values["environments"], str(overlay))
    return {key: value for key, value in values.items() if value is not None}


def _overlaid(environments: Mapping[str, Any], overlay: str) -> dict[str, Any]:
    """cdk.json's environments with the overlay file's ``environments`` merged over them:
    objects key by key, any other value replaced. It may name only environments cdk.json has."""
    path = ROOT / overlay
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ConfigError(
            f"-c overlay={overlay!r}: expected a readable JSON file ({error})"
        ) from error
    extra = data.get("environments") if isinstance(data, dict) else None
    if not isinstance(extra, dict) or set(data) != {"environments"}:
        raise ConfigError(
            f"{overlay}: expected an object with one key, environments, holding settings "
            'by environment name, like {"environments": {"prod": {"alerts": {...}}}}'
        )
    unknown = sorted(set(extra) - set(environments))
    if unknown:
        raise ConfigError(
            f"{overlay}: environments.{unknown[0]}: unknown environment; expected one of "
            f"{', '.join(sorted(environments))} (defined in cdk.json context.environments)"
        )
    return {
        name: _merge(settings, extra[name]) if name in extra else settings
        for name, settings in environments.items()
    }


def _merge(base: Any, extra: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(extra, Mapping):
        return {**base, **{key: _merge(base.get(key), value) for key, value in extra.items()}}
    return extra
