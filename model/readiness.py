"""What a production environment must name before it is built, and what a sandbox may leave out.

Three settings decide whether an environment can be trusted with personal data, and none has a
safe default a template could pick: who hears the alerts, who may become each persona, and who
administers Lake Formation besides the deployer. A production environment (``production:
true``, the default) refuses to synthesize without them; any other environment is built and
synth warns once, listing what is missing (``blueprint.factory``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from model.config import ConfigError, EnvironmentConfig
from model.vocabulary import PERSONAS

SOURCE = "cdk.json"
# The CloudFormation execution role of a CDK bootstrap (any qualifier): the deployer.
_DEPLOYER_RE = re.compile(r":role/cdk-[a-z0-9]+-cfn-exec-role-\d{12}-[a-z0-9-]+$")


def is_deployer(arn: str) -> bool:
    """Whether ``arn`` is a CDK bootstrap's CloudFormation execution role."""
    return bool(_DEPLOYER_RE.search(arn))


@dataclass(frozen=True)
class Gap:
    """One missing setting: its key under the environment, its value and what it needs."""

    key: str
    value: object
    expected: str

    def __str__(self) -> str:
        return f"{self.key} = {self.value!r}: expected {self.expected}"


def gaps(config: EnvironmentConfig) -> list[Gap]:
    """Every setting that production requires and ``config`` leaves unset, in cdk.json order."""
    missing = []
    if not config.alerts.reach_someone:
        missing.append(
            Gap(
                "alerts",
                {},
                "a destination for the alarms and pipeline failures: alerts.email (an address), "
                "alerts.topicArn (an existing SNS topic) or alerts.slack (workspaceId and "
                "channelId of an AWS Chatbot Slack channel)",
            )
        )
    if not any(not is_deployer(arn) for arn in config.lake_formation_admins):
        missing.append(
            Gap(
                "lakeFormationAdmins",
                list(config.lake_formation_admins),
                "at least one IAM role ARN that is not the CDK deployment role (the data "
                "governance team's role), so granting data is not the deployer's alone",
            )
        )
    for persona in PERSONAS:
        if not config.personas[persona.name]:
            missing.append(
                Gap(
                    f"personas.{persona.config_key}",
                    [],
                    f"the IAM role ARNs of the people who work as the {persona.title} (such "
                    "as an IAM Identity Center permission set's role)",
                )
            )
    return missing


def refusal(config: EnvironmentConfig, missing: list[Gap]) -> ConfigError:
    """The error a production environment's synth fails with: every gap, one per line."""
    where = f"{SOURCE}: context.environments.{config.name}"
    lines = "\n".join(f"  {where}.{gap}" for gap in missing)
    return ConfigError(
        f"{where} is a production environment (production: true) and lacks {len(missing)} "
        f"required setting{'s' if len(missing) > 1 else ''}:\n{lines}\n"
        "Set them in cdk.json or in a settings overlay (-c overlay=FILE; README.md, "
        "'Deploying prod'), or set production to false for a sandbox."
    )


def warning(config: EnvironmentConfig, missing: list[Gap]) -> str:
    """The one synth warning of an environment that is not production and lacks settings."""
    keys = ", ".join(gap.key for gap in missing)
    text = (
        f"{SOURCE}: context.environments.{config.name} (production: false) leaves unset what "
        f"a production environment must name: {keys}."
    )
    if not config.alerts.reach_someone:
        text += " Alarms and pipeline failures reach the alerts topic and nobody else."
    if any(gap.key.startswith("personas.") for gap in missing):
        text += (
            " Persona roles without named principals trust this account with MFA: anyone "
            "whose IAM policy allows sts:AssumeRole on them can become that persona, a "
            "sandbox convenience that production refuses."
        )
    if any(gap.key == "lakeFormationAdmins" for gap in missing):
        text += " The deployment role is the only Lake Formation admin."
    return text
