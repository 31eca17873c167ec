"""Configuration: what cdk.json may say, and the message each mistake gets."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from blueprint.factory import ROOT, cdk_json_context
from model.config import ConfigError
from model.environments import load_config


def context(env: str = "sandbox", **changes: Any) -> dict[str, Any]:
    """cdk.json's context with ``changes`` applied to the sandbox entry (dotted keys)."""
    ctx = copy.deepcopy(cdk_json_context())
    ctx["env"] = env
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = ctx["environments"]["sandbox"]
        for part in parents:
            node = node.setdefault(part, {})
        if value is _DELETE:
            node.pop(leaf)
        else:
            node[leaf] = value
    return ctx


_DELETE = object()


def test_the_shipped_environments_are_valid() -> None:
    sandbox = load_config(context("sandbox"))
    prod = load_config(context("prod"))
    assert sandbox.name == "sandbox"
    assert sandbox.remove_data_on_destroy is True
    assert prod.remove_data_on_destroy is False
    assert prod.termination_protection is True
    assert sandbox.tags.as_dict() == {
        "Project": "datalake",
        "Environment": "sandbox",
        "Owner": sandbox.tags.owner,
        "CostCenter": sandbox.tags.cost_center,
    }


def test_table_maintenance_is_read_per_environment_sandbox_shorter() -> None:
    sandbox = load_config(context("sandbox")).table_maintenance
    prod = load_config(context("prod")).table_maintenance
    shipped = cdk_json_context()["environments"]
    for config, name in ((sandbox, "sandbox"), (prod, "prod")):
        entry = shipped[name]["tableMaintenance"]
        assert (
            config.snapshot_retention_days,
            config.snapshots_to_retain,
            config.orphan_file_retention_days,
        ) == (
            entry["snapshotRetentionDays"],
            entry["snapshotsToRetain"],
            entry["orphanFileRetentionDays"],
        )
    assert sandbox.snapshot_retention_days < prod.snapshot_retention_days
    changed = load_config(context(tableMaintenance__snapshotRetentionDays=3)).table_maintenance
    assert changed.snapshot_retention_days == 3


def test_sandbox_is_the_default_environment() -> None:
    ctx = context()
    del ctx["env"]
    assert load_config(ctx).name == "sandbox"


def test_account_and_region_are_optional_and_go_together() -> None:
    config = load_config(context(account="123456789012", region="eu-west-1"))
    assert (config.account, config.region) == ("123456789012", "eu-west-1")
    agnostic = load_config(context())
    assert (agnostic.account, agnostic.region) == (None, None)


def test_configuration_is_frozen() -> None:
    config = load_config(context())
    with pytest.raises(AttributeError):
        config.name = "prod"  # type: ignore[misc]


BAD_CONFIGURATIONS = [
    pytest.param(
        context("staging"),
        "-c env='staging': unknown environment; expected one of prod, sandbox",
        id="unknown-environment",
    ),
    pytest.param(
        context(retention__logGroupDays=42),
        "context.environments.sandbox.retention.logGroupDays = 42: expected a CloudWatch Logs "
        "retention period, one of 1, 3, 5, 7, 14, 30",
        id="log-retention-not-offered-by-cloudwatch",
    ),
    pytest.param(
        context(lifecycle__rawInfrequentAccessDays=10),
        "context.environments.sandbox.lifecycle.rawInfrequentAccessDays = 10: expected a whole "
        "number, at least 30",
        id="infrequent-access-before-30-days",
    ),
    pytest.param(
        context(lifecycle__rawInfrequentAccessDays=30, lifecycle__rawGlacierDays=45),
        "context.environments.sandbox.lifecycle.rawGlacierDays = 45: expected at least 30 more "
        "days than rawInfrequentAccessDays (30)",
        id="glacier-less-than-30-days-after-infrequent-access",
    ),
    pytest.param(
        context(lifecycle__landingExpirationDays="7"),
        "context.environments.sandbox.lifecycle.landingExpirationDays = '7': expected a whole "
        "number, at least 1",
        id="days-as-a-string",
    ),
    pytest.param(
        context(retention__auditLogDays=True),
        "context.environments.sandbox.retention.auditLogDays = True: expected a whole number",
        id="days-as-a-boolean",
    ),
    pytest.param(
        context(processing__workerType="G.3X"),
        "context.environments.sandbox.processing.workerType = 'G.3X': expected a Glue 5.0 worker "
        "type: G.1X, G.2X, G.4X, G.8X",
        id="unknown-worker-type",
    ),
    pytest.param(
        context(processing__workerType="G.4X", processing__flex=True),
        "context.environments.sandbox.processing.flex = True: expected false with workerType G.4X",
        id="flex-on-large-workers",
    ),
    pytest.param(
        context(ingest__maxFileMegabytes=30000),
        "context.environments.sandbox.ingest.maxFileMegabytes = 30000: expected at most 20480",
        id="ingest-file-limit-too-high",
    ),
    pytest.param(
        context(ingest__reservedConcurrency=-1),
        "context.environments.sandbox.ingest.reservedConcurrency = -1: expected a whole number, "
        "at least 0",
        id="negative-concurrency",
    ),
    pytest.param(
        context(account="12345", region="eu-west-1"),
        "context.environments.sandbox.account = '12345': expected a 12-digit AWS account ID",
        id="short-account-id",
    ),
    pytest.param(
        context(region="eu-west-1"),
        "context.environments.sandbox.account = None: expected account and region to be set "
        "together",
        id="region-without-account",
    ),
    pytest.param(
        context(account="123456789012", region="Ireland"),
        "context.environments.sandbox.region = 'Ireland': expected an AWS region such as eu-west-1",
        id="region-not-a-region",
    ),
    pytest.param(
        context(alerts__email="ops-at-example.com"),
        "context.environments.sandbox.alerts.email = 'ops-at-example.com': expected an e-mail "
        "address, or null",
        id="alert-email-not-an-address",
    ),
    pytest.param(
        context(removeDataOnDestroy="yes"),
        "context.environments.sandbox.removeDataOnDestroy = 'yes': expected true or false",
        id="flag-not-a-boolean",
    ),
    pytest.param(
        context(terminationProtection=True),
        "context.environments.sandbox.removeDataOnDestroy = True: expected false when "
        "terminationProtection is true",
        id="protected-yet-removable",
    ),
    *(
        pytest.param(
            context(**{f"tableMaintenance__{field}": value}),
            f"context.environments.sandbox.tableMaintenance.{field} = {shown}: expected a whole "
            f"number of {unit}, at least 1",
            id=f"table-maintenance-{field}-{case}",
        )
        for field, unit in (
            ("snapshotRetentionDays", "days"),
            ("snapshotsToRetain", "snapshots"),
            ("orphanFileRetentionDays", "days"),
        )
        for case, value, shown in (
            ("absent", _DELETE, "'<missing>'"),
            ("zero", 0, "0"),
            ("text", "7", "'7'"),
        )
    ),
    pytest.param(
        context(tableMaintenance=_DELETE),
        "context.environments.sandbox.tableMaintenance = '<missing>': expected a value",
        id="table-maintenance-absent",
    ),
    pytest.param(
        context(processing__timeoutMinutes=1440, tableMaintenance__orphanFileRetentionDays=1),
        "context.environments.sandbox.tableMaintenance.orphanFileRetentionDays = 1: expected "
        "more days than the longest job run (processing.timeoutMinutes = 1440)",
        id="orphan-files-removed-while-a-run-may-still-commit-them",
    ),
    pytest.param(
        context(tableMaintenance__snapshotRetentionHours=1),
        "context.environments.sandbox.tableMaintenance.snapshotRetentionHours = 1: unknown setting",
        id="table-maintenance-misspelt",
    ),
    pytest.param(
        context(retentionDays=30),
        "context.environments.sandbox.retentionDays = 30: unknown setting; expected one of "
        "account, alerts, athena, ingest, lakeFormationAdmins, lifecycle, monitoring, "
        "personas, processing, production",
        id="misspelt-setting",
    ),
    pytest.param(
        context(lifecycle__landingExpiryDays=3),
        "context.environments.sandbox.lifecycle.landingExpiryDays = 3: unknown setting",
        id="misspelt-nested-setting",
    ),
    pytest.param(
        context(tags__owner=_DELETE),
        "context.environments.sandbox.tags.owner = '<missing>': expected a non-empty tag value",
        id="owner-tag-missing",
    ),
    pytest.param(
        context(tags__costCenter="a" * 300),
        "context.environments.sandbox.tags.costCenter = 'aaaa",
        id="tag-value-too-long",
    ),
    pytest.param(
        context(personas__auditor=[]),
        "context.environments.sandbox.personas.auditor = []: unknown persona; expected one of "
        "analyst, engineer, scientist, securityOfficer",
        id="unknown-persona",
    ),
    pytest.param(
        context(retention=[30]),
        "context.environments.sandbox.retention = [30]: expected an object of settings",
        id="section-not-an-object",
    ),
    pytest.param(
        {**context(), "project": "Data Lake"},
        "context.project = 'Data Lake': expected 2-20 characters of lower-case letters",
        id="project-name",
    ),
    pytest.param(
        {**context(), "environments": {}},
        "context.environments = {}: expected an object with one entry per environment",
        id="no-environments",
    ),
]


@pytest.mark.parametrize(("ctx", "message"), BAD_CONFIGURATIONS)
def test_a_bad_value_fails_with_a_message_naming_key_value_and_expectation(
    ctx: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(ctx)
    assert message in str(error.value)
    if not message.startswith("-c env"):
        assert str(error.value).startswith("cdk.json: ")


def test_two_environments_cannot_share_an_account_and_region() -> None:
    ctx = context("sandbox", account="123456789012", region="eu-west-1")
    ctx["environments"]["prod"] |= {"account": "123456789012", "region": "eu-west-1"}
    expected = (
        r"environments\.prod\.account = '123456789012': expected an account and region of its "
        r"own; sandbox is deployed there too"
    )
    with pytest.raises(ConfigError, match=expected):
        load_config(ctx)
    ctx["environments"]["prod"]["region"] = "eu-central-1"
    assert load_config(ctx).account == "123456789012"


def test_a_broken_prod_entry_fails_a_sandbox_synth_too() -> None:
    ctx = context("sandbox")
    ctx["environments"]["prod"]["lifecycle"]["rawGlacierDays"] = 1
    with pytest.raises(ConfigError, match=r"environments\.prod\.lifecycle\.rawGlacierDays = 1"):
        load_config(ctx)


def test_cdk_synth_stops_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    """What a user sees: app.py run as the CDK CLI runs it, with the CLI's merged context."""
    ctx = context(retention__logGroupDays=42)
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(ctx), "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "Configuration error: cdk.json: context.environments.sandbox.retention.logGroupDays = 42"
    )
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.template.json"))


def test_the_retention_periods_checked_are_the_ones_cloudwatch_logs_offers() -> None:
    """Configuration is checked against the vocabulary's periods, the log groups are built
    with the CDK's enum: the two name the same days."""
    from cdk_constructs.common.log_retention import log_retention
    from model.vocabulary import LOG_RETENTION_DAYS

    for days in range(1, 4000):
        if days in LOG_RETENTION_DAYS:
            log_retention(days)
        else:
            with pytest.raises(ValueError, match=f"log retention of {days} days"):
                log_retention(days)
