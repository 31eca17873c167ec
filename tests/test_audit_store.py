"""The audit store: its Object Lock mode per environment, and the one trail it admits."""

from __future__ import annotations

import copy
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from blueprint.factory import cdk_json_context
from cdk_constructs.storage.access_log_bucket import AccessLogBucket
from cdk_constructs.storage.audit_log_store import AuditLogStore
from model.config import ConfigError
from model.environments import load_config
from tests.conftest import ENVIRONMENTS, built, make_blueprint, resources, template
from tests.test_storage import buckets, policy_statements, this_trail

KEEPS = (
    "COMPLIANCE (no one can delete or shorten a file's lock) or GOVERNANCE (holders of "
    "s3:BypassGovernanceRetention can) where removeDataOnDestroy is false: an environment that "
    "keeps its data keeps its audit trail write-once"
)
REMOVES = "null where removeDataOnDestroy is true"


def context(env: str, **settings: Any) -> dict[str, Any]:
    """cdk.json's context for ``env`` with top-level or ``retention__<key>`` settings changed
    (``...=DELETE`` removes one)."""
    ctx = copy.deepcopy(cdk_json_context()["environments"])
    entry = ctx[env]
    for dotted, value in settings.items():
        node = entry["retention"] if dotted.startswith("retention__") else entry
        key = dotted.removeprefix("retention__")
        if value is DELETE:
            node.pop(key, None)
        else:
            node[key] = value
    return {"project": "datalake", "env": env, "environments": ctx}


DELETE = object()
# An environment that deletes its data with its stacks (which termination protection forbids).
REMOVABLE = {"removeDataOnDestroy": True, "terminationProtection": False}


def lock(env: str) -> dict[str, Any] | None:
    props = buckets(template(env, "Storage"))["AuditLogsBucket"]["Properties"]
    return props.get("ObjectLockConfiguration")


# -- the mode, per environment ----------------------------------------------------------------


def test_prod_locks_audit_logs_in_compliance_mode_for_their_whole_retention() -> None:
    config = built("prod").config
    assert config.retention.audit_object_lock_mode == "COMPLIANCE"
    assert lock("prod") == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2557}},
    }
    # Locked until the day the lifecycle rule expires them: expiry never meets a locked file.
    (rule,) = buckets(template("prod", "Storage"))["AuditLogsBucket"]["Properties"][
        "LifecycleConfiguration"
    ]["Rules"]
    assert rule["ExpirationInDays"] == config.retention.audit_log_days == 2557


def test_the_sandbox_locks_nothing_so_its_destroy_can_empty_the_bucket() -> None:
    assert built("sandbox").config.remove_data_on_destroy is True
    assert built("sandbox").config.retention.audit_object_lock_mode is None
    assert lock("sandbox") is None
    assert "ObjectLockEnabled" not in buckets(template("sandbox", "Storage"))["AuditLogsBucket"]


def test_governance_mode_is_there_for_an_environment_that_keeps_its_data() -> None:
    sandbox_kept = context(
        "sandbox", removeDataOnDestroy=False, retention__auditObjectLockMode="GOVERNANCE"
    )
    blueprint = make_blueprint("sandbox", environments=sandbox_kept["environments"])
    props = buckets(assertions.Template.from_stack(blueprint.storage))["AuditLogsBucket"]
    assert props["Properties"]["ObjectLockConfiguration"]["Rule"] == {
        "DefaultRetention": {"Mode": "GOVERNANCE", "Days": 90}
    }
    prod = load_config(context("prod", retention__auditObjectLockMode="GOVERNANCE"))
    assert prod.retention.audit_object_lock_mode == "GOVERNANCE"


# -- refusals -------------------------------------------------------------------------------


def refusal(ctx: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as error:
        load_config(ctx)
    return str(error.value)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_compliance_mode_with_removable_data_is_refused_saying_why(env: str) -> None:
    message = refusal(context(env, **REMOVABLE, retention__auditObjectLockMode="COMPLIANCE"))
    assert message == (
        f"cdk.json: context.environments.{env}.retention.auditObjectLockMode = 'COMPLIANCE': "
        f"expected {REMOVES}: a COMPLIANCE-locked version cannot be deleted by anyone, root "
        "included, before its retention ends, so the stack's destroy could never empty the "
        "bucket"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_governance_mode_with_removable_data_is_refused_saying_why(env: str) -> None:
    message = refusal(context(env, **REMOVABLE, retention__auditObjectLockMode="GOVERNANCE"))
    assert message.startswith(
        f"cdk.json: context.environments.{env}.retention.auditObjectLockMode = 'GOVERNANCE': "
        f"expected {REMOVES}: a GOVERNANCE-locked version can only be deleted by a request that "
        "bypasses governance retention"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_an_environment_that_keeps_data_must_name_a_mode(env: str) -> None:
    for absent in (DELETE, None):
        message = refusal(
            context(env, removeDataOnDestroy=False, retention__auditObjectLockMode=absent)
        )
        assert message == (
            f"cdk.json: context.environments.{env}.retention.auditObjectLockMode = "
            f"{'<missing>' if absent is DELETE else None!r}: expected {KEEPS} (the setting is "
            "required)"
        )


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("value", ["compliance", "LEGAL_HOLD", "NONE", 1, True, ["COMPLIANCE"]])
def test_a_mode_that_s3_does_not_have_is_refused(env: str, value: Any) -> None:
    keeps = refusal(context(env, removeDataOnDestroy=False, retention__auditObjectLockMode=value))
    assert keeps == (
        f"cdk.json: context.environments.{env}.retention.auditObjectLockMode = {value!r}: "
        f"expected {KEEPS}"
    )
    removes = refusal(context(env, **REMOVABLE, retention__auditObjectLockMode=value))
    assert removes == (
        f"cdk.json: context.environments.{env}.retention.auditObjectLockMode = {value!r}: "
        f"expected {REMOVES}"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_audit_retention_stays_within_object_locks_hundred_years(env: str) -> None:
    message = refusal(context(env, retention__auditLogDays=36501))
    assert message == (
        f"cdk.json: context.environments.{env}.retention.auditLogDays = 36501: expected a whole "
        "number, at least 1"
    )


def test_the_construct_refuses_a_lock_on_removable_logs_and_removable_logs_without_one() -> None:
    for mode, remove in (("COMPLIANCE", True), ("GOVERNANCE", True), (None, False)):
        stack = cdk.Stack(cdk.App())
        logs = AccessLogBucket(
            stack, "Logs", retention_days=1, noncurrent_version_expiration_days=1
        )
        with pytest.raises(ValueError, match="expected a lock exactly where the logs are kept"):
            AuditLogStore(
                stack,
                "Audit",
                access_logs_bucket=logs,
                trail_name="t",
                retention_days=1,
                noncurrent_version_expiration_days=1,
                object_lock_mode=mode,
                remove_on_destroy=remove,
            )


# -- the one trail ----------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_trail_has_the_name_the_store_admits(env: str) -> None:
    name = built(env).config.resource_name("trail")
    assert name == f"datalake-{env}-trail"
    (trail,) = resources(template(env, "Audit"), "AWS::CloudTrail::Trail").values()
    assert trail["Properties"]["TrailName"] == name
    assert built(env).storage.audit_logs.trail_name == name
    # The ARN the policies name ends with exactly that name, in the stacks' own region and
    # account (both stacks deploy to the same environment).
    assert this_trail(env)["Fn::Join"][1][-1] == f":trail/{name}"
    assert built(env).audit.region == built(env).storage.region
    assert built(env).audit.account == built(env).storage.account


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_policy_of_the_store_admits_another_trail(env: str) -> None:
    """Every statement for CloudTrail, in the bucket policy and the key policy, names this
    trail's ARN, and no pattern (``trail/*``) is left anywhere in the storage stack."""
    storage = template(env, "Storage")
    (key,) = [
        k for lid, k in resources(storage, "AWS::KMS::Key").items() if lid.startswith("AuditLogs")
    ]
    statements = [
        *policy_statements(storage, "AuditLogsBucket"),
        *key["Properties"]["KeyPolicy"]["Statement"],
    ]
    principal = {"Service": "cloudtrail.amazonaws.com"}
    cloudtrail = [s for s in statements if s["Principal"] == principal]
    assert {s["Sid"] for s in cloudtrail} == {
        "AllowCloudTrailAclCheck",
        "AllowCloudTrailWrite",
        "AllowCloudTrailToEncryptLogFiles",
        "AllowCloudTrailToDescribeKey",
    }
    for statement in cloudtrail:
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == this_trail(env)
    assert ":trail/*" not in str(storage.to_json())
