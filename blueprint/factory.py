"""The one place the app is built, for `cdk synth` (through app.py) and for the tests alike."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from blueprint import compliance
from blueprint.config import EnvironmentConfig, load_config
from stacks.audit_stack import AuditStack
from stacks.storage_stack import StorageStack

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = ROOT / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The ``context`` of cdk.json: what the CLI hands the app before ``-c`` overrides."""
    return dict(json.loads(CDK_JSON.read_text())["context"])


@dataclass(frozen=True)
class Blueprint:
    """The built app and its stacks, so tests can reach each one by name."""

    app: cdk.App
    config: EnvironmentConfig
    storage: StorageStack
    audit: AuditStack

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [self.storage, self.audit]


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
    """
    app = cdk.App(context=dict(context or cdk_json_context()), outdir=outdir)
    config = load_config(_all_context(app))

    env = cdk.Environment(account=config.account, region=config.region)
    tags = config.tags.as_dict()
    common: dict[str, Any] = {
        "config": config,
        "env": env if config.account else None,
        "termination_protection": config.termination_protection,
        # Stack tags: CloudFormation propagates them to every resource it can tag, including
        # those CDK's Tags.of cannot reach (custom-resource providers).
        "tags": tags,
    }
    storage = StorageStack(
        app,
        "Storage",
        stack_name=config.stack_name("storage"),
        description=f"{config.project} ({config.name}): lake keys and buckets (stateful)",
        **common,
    )
    audit = AuditStack(
        app,
        "Audit",
        stack_name=config.stack_name("audit"),
        description=f"{config.project} ({config.name}): CloudTrail trail and its log group",
        audit_logs_bucket=storage.audit_logs.bucket,
        audit_key=storage.audit_logs.key,
        lake_buckets=storage.lake_buckets,
        **common,
    )

    for key, value in tags.items():
        cdk.Tags.of(app).add(key, value)
    if enforce_compliance:
        compliance.enforce(app)
    return Blueprint(app=app, config=config, storage=storage, audit=audit)


def _all_context(app: cdk.App) -> dict[str, Any]:
    """The app's context as one mapping (cdk.json, then the CLI's, then ``-c`` values)."""
    values = {key: app.node.try_get_context(key) for key in ("project", "environments", "env")}
    return {key: value for key, value in values.items() if value is not None}
