"""Raw retention: declared per environment and per dataset, and enforced by raw's lifecycle."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from blueprint.factory import cdk_json_context
from cdk_constructs.storage.lifecycle import MAX_RULES_PER_BUCKET, raw_lifecycle_rules
from model.config import ConfigError, Lifecycle
from model.datasets import Dataset, DatasetError
from model.declarations import load_dataset
from model.environments import load_config
from model.vocabulary import INGEST_INDEX_PREFIX, INGEST_LEDGER_PREFIX, QUARANTINE_PREFIX
from tests.conftest import ENVIRONMENTS, built, construct_id, docs_example_declaration, resources

import ingest

EXPECTED_DAYS = "expected a whole number of days, at least 1, after which raw files and their "


def context(env: str, **lifecycle: Any) -> dict[str, Any]:
    """cdk.json's context for ``env``, with its lifecycle settings changed (``...=DELETE``
    removes one)."""
    ctx = copy.deepcopy(cdk_json_context())
    ctx["env"] = env
    section = ctx["environments"][env]["lifecycle"]
    for key, value in lifecycle.items():
        if value is DELETE:
            section.pop(key)
        else:
            section[key] = value
    return ctx


DELETE = object()


def raw_rules(env: str) -> dict[str, dict[str, Any]]:
    """The raw bucket's lifecycle rules in ``env``'s storage template, by ID."""
    storage = assertions.Template.from_stack(built(env).storage)
    (raw,) = [
        r
        for lid, r in resources(storage, "AWS::S3::Bucket").items()
        if construct_id(lid) == "RawBucket"
    ]
    rules = raw["Properties"]["LifecycleConfiguration"]["Rules"]
    by_id = {rule["Id"]: rule for rule in rules}
    assert len(by_id) == len(rules), "rule IDs repeat"
    return by_id


def declaration(tmp_path: Path, line: str | None) -> Path:
    """The docs' complete example with its raw_retention_days line replaced by ``line``."""
    text = docs_example_declaration()
    (current,) = [ln for ln in text.splitlines() if ln.startswith("raw_retention_days")]
    text = text.replace(current + "\n", "" if line is None else line + "\n")
    path = tmp_path / "payments.toml"
    path.write_text(text)
    return path


# -- the environment's default ------------------------------------------------------------


def test_each_environment_declares_its_raw_retention() -> None:
    assert load_config(context("sandbox")).lifecycle.raw_expiration_days == 30
    assert load_config(context("prod")).lifecycle.raw_expiration_days == 730


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_environment_default_is_required(env: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(context(env, rawExpirationDays=DELETE))
    assert str(error.value) == (
        f"cdk.json: context.environments.{env}.lifecycle.rawExpirationDays = '<missing>': "
        f"{EXPECTED_DAYS}quarantine expire (the setting is required)"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("value", [0, -30, "30", True, 1.5, None, [30]])
def test_the_environment_default_is_a_positive_whole_number(env: str, value: Any) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(context(env, rawExpirationDays=value))
    assert str(error.value) == (
        f"cdk.json: context.environments.{env}.lifecycle.rawExpirationDays = {value!r}: "
        f"{EXPECTED_DAYS}quarantine expire"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_any_positive_default_is_taken(env: str) -> None:
    for days in (1, 45, 3650):
        assert (
            load_config(context(env, rawExpirationDays=days)).lifecycle.raw_expiration_days == days
        )


# -- the dataset's override -------------------------------------------------------------------


def test_a_dataset_without_its_own_retention_takes_the_environments(tmp_path: Path) -> None:
    dataset = load_dataset(declaration(tmp_path, None))
    assert dataset.raw_retention_days is None
    assert dataset.raw_days(30) == 30
    assert dataset.raw_days(730) == 730


def test_a_dataset_may_declare_its_own_retention(tmp_path: Path) -> None:
    dataset = load_dataset(declaration(tmp_path, "raw_retention_days = 3650"))
    assert dataset.raw_retention_days == 3650
    assert dataset.raw_days(30) == dataset.raw_days(730) == 3650
    # The docs' example declares one, and the shipped clickstream does.
    assert load_dataset(declaration(tmp_path, "raw_retention_days = 400")).raw_days(30) == 400
    assert {d.name: d.raw_retention_days for d in built("sandbox").datasets} == {
        "clickstream": 90,
        "orders": None,
    }


@pytest.mark.parametrize("value", ["0", "-1", '"90"', "true", "1.5", "[90]"])
def test_a_dataset_retention_is_a_positive_whole_number(tmp_path: Path, value: str) -> None:
    path = declaration(tmp_path, f"raw_retention_days = {value}")
    with pytest.raises(DatasetError) as error:
        load_dataset(path)
    shown = {"0": "0", "-1": "-1", '"90"': "'90'", "true": "True", "1.5": "1.5", "[90]": "[90]"}
    assert str(error.value) == (
        f"{tmp_path.name}/payments.toml: raw_retention_days = {shown[value]}: "
        f"{EXPECTED_DAYS}quarantine expire"
    )


# -- the rules, as synthesized ------------------------------------------------------------


def expected_prefixes(dataset: str) -> dict[str, str]:
    return {
        f"ExpireRaw-{dataset}": f"{dataset}/",
        f"ExpireQuarantine-{dataset}": f"{QUARANTINE_PREFIX}/{dataset}/",
        f"ExpireIngestIndex-{dataset}": f"{INGEST_INDEX_PREFIX}/{dataset}/",
    }


# Per environment: the days of each shipped dataset (orders takes the default, clickstream
# declares 90), and the tiering each gets (a class only when kept its minimum charge after).
IA = {"StorageClass": "STANDARD_IA", "TransitionInDays": 30}
SHIPPED = {
    "sandbox": {
        "orders": (30, []),  # 30 days: no class pays for itself
        "clickstream": (90, [IA]),  # Glacier IR at 90 would be charged 90 more days
        "default": (30, []),
        "longest": 90,
    },
    "prod": {
        "orders": (730, [IA, {"StorageClass": "GLACIER_IR", "TransitionInDays": 180}]),
        "clickstream": (90, [IA]),
        "default": (730, [IA, {"StorageClass": "GLACIER_IR", "TransitionInDays": 180}]),
        "longest": 730,
    },
}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_raw_expires_every_prefix_of_every_dataset_after_its_retention(env: str) -> None:
    rules = raw_rules(env)
    shipped = SHIPPED[env]
    noncurrent = built(env).config.lifecycle.noncurrent_version_expiration_days
    expected: dict[str, tuple[str | None, int, list[dict[str, Any]]]] = {}
    for dataset in ("orders", "clickstream"):
        days, tiers = shipped[dataset]
        for rule_id, prefix in expected_prefixes(dataset).items():
            expected[rule_id] = (prefix, days, tiers)
    days, tiers = shipped["default"]
    expected["ExpireQuarantine-unknown"] = (f"{QUARANTINE_PREFIX}/_unknown/", days, tiers)
    expected["ExpireIngestLedger"] = (f"{INGEST_LEDGER_PREFIX}/", days, tiers)
    expected["ExpireAnythingElse"] = (None, shipped["longest"], [])
    # Erasure requests hold a person's value: a day, however the command ended.
    requests = rules.pop("ExpireErasureRequests")
    assert (requests["Prefix"], requests["ExpirationInDays"]) == ("_erasure/requests/", 1)
    assert requests["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert set(rules) == set(expected)
    for rule_id, (prefix, days, tiers) in expected.items():
        rule = rules[rule_id]
        assert rule.get("Prefix") == prefix, rule_id
        assert "Filter" not in rule, rule_id
        assert rule["ExpirationInDays"] == days, rule_id
        assert rule.get("Transitions", []) == tiers, rule_id
        # Expiry leaves a replaced version, which must go too.
        assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": noncurrent}, rule_id
        for transition in tiers:
            assert transition["TransitionInDays"] < days, rule_id


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_bucket_wide_rule_never_shortens_a_declared_retention(env: str) -> None:
    """S3 honours the shorter of two overlapping expirations: the rule over the whole bucket
    must be the longest, or it would cut a longer declared retention short."""
    rules = raw_rules(env)
    longest = max(r["ExpirationInDays"] for r in rules.values() if "Prefix" in r)
    assert rules["ExpireAnythingElse"]["ExpirationInDays"] == longest


def test_the_ingest_function_writes_under_the_prefixes_the_rules_name() -> None:
    """The function cannot import the model: its constants must say the same."""
    assert ingest.QUARANTINE_PREFIX == QUARANTINE_PREFIX
    assert ingest.INDEX_PREFIX == INGEST_INDEX_PREFIX
    assert ingest.LEDGER_PREFIX == INGEST_LEDGER_PREFIX


# -- the rules, shape by shape ----------------------------------------------------------------

LIFECYCLE = Lifecycle(
    landing_expiration_days=7,
    raw_infrequent_access_days=30,
    raw_glacier_days=90,
    raw_expiration_days=100,
    curated_infrequent_access_days=90,
    athena_results_expiration_days=7,
    noncurrent_version_expiration_days=7,
    abort_incomplete_upload_days=1,
)


def shipped_dataset(**changes: Any) -> Dataset:
    (orders,) = [d for d in built("sandbox").datasets if d.name == "orders"]
    return dataclasses.replace(orders, **changes)


@pytest.mark.parametrize(
    ("days", "classes"),
    [
        (59, []),  # Standard-IA at 30 would be charged for 30 days it is not there
        (60, ["STANDARD_IA"]),
        (179, ["STANDARD_IA"]),  # Glacier IR at 90 would be charged for 90 days
        (180, ["STANDARD_IA", "GLACIER_IR"]),
    ],
)
def test_a_rule_tiers_only_into_classes_kept_their_minimum_charge(
    days: int, classes: list[str]
) -> None:
    (rule, *_) = raw_lifecycle_rules(LIFECYCLE, [shipped_dataset(raw_retention_days=days)])
    assert rule.prefix == "orders/"
    assert rule.expiration is not None
    assert rule.expiration.to_days() == days
    assert [t.storage_class.value for t in rule.transitions or []] == classes


def test_the_rule_count_stays_within_s3s_limit() -> None:
    datasets = [shipped_dataset(name=f"d{i}") for i in range(332)]
    assert len(raw_lifecycle_rules(LIFECYCLE, datasets)) == 3 * 332 + 4 <= MAX_RULES_PER_BUCKET
    with pytest.raises(ValueError, match="333 datasets need 1003 lifecycle rules"):
        raw_lifecycle_rules(LIFECYCLE, [*datasets, shipped_dataset(name="d332")])
