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

from model import environment_sections as sections
from model.config import ConfigError, EnvironmentConfig
from model.fields import Fields
from model.vocabulary import PERSONAS

SOURCE = "cdk.json"
DEFAULT_ENVIRONMENT = "sandbox"

_PROJECT_RE = re.compile(r"^[a-z][a-z0-9-]{1,19}$")
_ENV_NAME_RE = re.compile(r"^[a-z][a-z0-9]{1,11}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
# Roles and users only: an account's root ARN would trust (or make admin) every principal
# of that account that its IAM policies allow, which is what naming principals replaces.
_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
_PRINCIPALS_EXPECTED = (
    "a list of IAM role or user ARNs without repeats (arn:aws:iam::<account>:role/<name> "
    "or ...:user/<name>; an account's :root is not accepted)"
)


def _principals(section: Fields, key: str) -> tuple[str, ...]:
    principals = section.strings(key, _PRINCIPAL_RE.match, _PRINCIPALS_EXPECTED)
    if len(set(principals)) != len(principals):
        raise section.fail(key, _PRINCIPALS_EXPECTED)
    return principals


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
    if "alertEmail" in section.data:
        raise section.fail(
            "alertEmail",
            "no alertEmail: the setting moved to alerts.email (the alerts object: "
            '{"email": ..., "topicArn": ..., "slack": ...})',
        )
    processing = sections.processing(section.table("processing", {}))
    removes_data = section.flag("removeDataOnDestroy", False)
    config = EnvironmentConfig(
        project=project,
        name=name,
        account=account,
        region=region,
        remove_data_on_destroy=removes_data,
        termination_protection=section.flag("terminationProtection", False),
        production=section.flag("production", True),
        alerts=sections.alerts(section.table("alerts", {}), account, region),
        retention=sections.retention(section.table("retention", {}), removes_data=removes_data),
        lifecycle=sections.lifecycle(section.table("lifecycle", {})),
        tags=sections.tags(section.table("tags", {}), project, name),
        lake_formation_admins=_principals(section, "lakeFormationAdmins"),
        personas=_personas(section.table("personas", {})),
        ingest=sections.ingest(section.table("ingest", {})),
        processing=processing,
        monitoring=sections.monitoring(section.table("monitoring", {})),
        athena=sections.athena(section.table("athena", {})),
        redshift=sections.redshift(section.table("redshift", {})),
        table_maintenance=sections.table_maintenance(section.table("tableMaintenance"), processing),
    )
    if config.production and config.remove_data_on_destroy:
        raise section.fail(
            "removeDataOnDestroy", "false when production is true: production keeps its data"
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
