"""Onboarding a dataset is adding one file: it adds that dataset's resources and moves nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from blueprint import compliance
from blueprint.factory import Blueprint
from tests.conftest import construct_id, datasets_folder, docs_example_declaration, make_blueprint


def logical_ids(blueprint: Blueprint) -> dict[str, set[str]]:
    return {
        stack.node.id: set(assertions.Template.from_stack(stack).to_json()["Resources"])
        for stack in blueprint.stacks
    }


@pytest.fixture(scope="module")
def before_and_after(tmp_path_factory: pytest.TempPathFactory) -> tuple[Blueprint, Blueprint]:
    shipped = datasets_folder(tmp_path_factory.mktemp("before"))
    # The third declaration is the documented example, copied as a newcomer would copy it.
    extended = datasets_folder(
        tmp_path_factory.mktemp("after"), ("payments.toml", docs_example_declaration())
    )
    return (
        make_blueprint("sandbox", datasets=str(shipped)),
        make_blueprint("sandbox", datasets=str(extended)),
    )


def test_a_declaration_adds_exactly_its_own_stack(
    before_and_after: tuple[Blueprint, Blueprint],
) -> None:
    before, after = (logical_ids(b) for b in before_and_after)
    assert set(after) - set(before) == {"Dataset-payments"}
    for stack, ids in before.items():
        assert after[stack] == ids, f"{stack}: logical IDs changed"

    # Same shape as orders (a CSV batch source, the same readers): the same resources, but
    # for one tag association per personal-data column, created from the declaration alone,
    # the marts, the ready queries and the arrival trigger (orders starts on arrival, payments
    # only on schedule). Both declare a subject: both have an erasure job.
    def shared(ids: set[str]) -> set[str]:
        return {
            i
            for i in ids
            if not i.startswith(
                (
                    "CuratedTableColumnTags",
                    "Mart",
                    "Analytics",
                    "SharedAnalytics",
                    "TriggersOnArrival",
                    "TriggersArrivalRole",
                    "Query",  # ready queries, named after each declaration's own
                    "ErasureMart",  # the erasure job's grants on orders' marts
                )
            )
            and "AnalyticsBucket" not in i
        }

    # Alarm IDs carry the dataset's name (and so does their hash).
    def unnamed(ids: set[str], name: str) -> set[str]:
        return {construct_id(i).replace(name, "<dataset>") if i.startswith("MonitoringAlarms")
                else i for i in shared(ids)}  # fmt: skip

    assert unnamed(after["Dataset-payments"], "payments") == unnamed(
        before["Dataset-orders"], "orders"
    )
    assert any(i.startswith("CuratedTableColumnTagspayeremail") for i in after["Dataset-payments"])


def test_only_the_tag_values_change_elsewhere(
    before_and_after: tuple[Blueprint, Blueprint],
) -> None:
    before, after = before_and_after
    for stack_before, stack_after in zip(before.stacks, after.stacks, strict=False):
        if stack_before.node.id == "Governance":
            continue
        old = assertions.Template.from_stack(stack_before).to_json()
        new = assertions.Template.from_stack(stack_after).to_json()
        if stack_before.node.id == "Ingest":
            # The ingest function carries the declarations with its code: only its asset
            # (the S3 key of the code) changes.
            old_code = old["Resources"]["BatchIngestFunctionC929C51D"]["Properties"].pop("Code")
            new_code = new["Resources"]["BatchIngestFunctionC929C51D"]["Properties"].pop("Code")
            assert old_code["S3Key"] != new_code["S3Key"]
        if stack_before.node.id == "Storage":
            # Raw's lifecycle enforces each dataset's retention: only its rules change.
            assert_raw_rules_add_the_dataset(old, new, "payments")
        assert old == new, f"{stack_before.node.id} changed"
    tags_after = {
        r["Properties"]["TagKey"]: r["Properties"]["TagValues"]
        for r in assertions.Template.from_stack(after.governance)
        .find_resources("AWS::LakeFormation::Tag")
        .values()
    }
    assert "payments" in tags_after["dataset"]
    assert "finance" in tags_after["domain"]


def test_the_documented_example_passes_every_pack(
    before_and_after: tuple[Blueprint, Blueprint],
) -> None:
    _, after = before_and_after
    for pack in compliance.nag_packs():
        report = pack.validate_scope(after.app)
        assert report.success, [v.rule_name for v in report.violations]


def test_a_new_personal_data_column_leaves_the_other_column_tags_alone(tmp_path: Path) -> None:
    """Replacing an association would untag its columns for a moment; none is replaced."""
    before = make_blueprint("sandbox", datasets=str(datasets_folder(tmp_path / "before")))
    folder = datasets_folder(tmp_path / "after")
    text = (folder / "orders.toml").read_text()
    (folder / "orders.toml").write_text(
        text + '\n[[columns]]\nname = "phone"\ntype = "string"\n'
        'description = "Phone number."\npii = "hash"\n'
    )
    after = make_blueprint("sandbox", datasets=str(folder))
    old = assertions.Template.from_stack(before.dataset_stacks["orders"]).to_json()["Resources"]
    new = assertions.Template.from_stack(after.dataset_stacks["orders"]).to_json()["Resources"]
    associations = {k for k, v in old.items() if v["Type"] == "AWS::LakeFormation::TagAssociation"}
    for logical_id in associations:
        assert new[logical_id] == old[logical_id], logical_id
    added = set(new) - set(old)
    assert len(added) == 1
    assert next(iter(added)).startswith("CuratedTableColumnTagsphone")


def test_a_folder_of_datasets_can_be_chosen_with_context(tmp_path: Path) -> None:
    folder = datasets_folder(tmp_path / "d", ("payments.toml", docs_example_declaration()))
    blueprint = make_blueprint("sandbox", datasets=str(folder))
    assert sorted(blueprint.dataset_stacks) == ["clickstream", "orders", "payments"]


def assert_raw_rules_add_the_dataset(old: dict[str, Any], new: dict[str, Any], name: str) -> None:
    """Raw gains the new dataset's three rules, and the bucket-wide rule takes its retention
    if that is the longest (the example declares 400 days); nothing else changes. The rules
    are taken out of both templates, so the rest can be compared whole."""
    (raw_id,) = [i for i in old["Resources"] if construct_id(i) == "RawBucket"]
    rules = [
        {
            r["Id"]: r
            for r in t["Resources"][raw_id]["Properties"].pop("LifecycleConfiguration")["Rules"]
        }
        for t in (old, new)
    ]
    before, after = rules
    assert set(after) - set(before) == {
        f"ExpireRaw-{name}",
        f"ExpireQuarantine-{name}",
        f"ExpireIngestIndex-{name}",
    }
    assert after[f"ExpireRaw-{name}"]["ExpirationInDays"] == 400
    assert after.pop("ExpireAnythingElse")["ExpirationInDays"] == 400
    assert before.pop("ExpireAnythingElse")["ExpirationInDays"] == 90
    assert {i: after[i] for i in before} == before
