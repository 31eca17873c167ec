"""Scale: generated declarations load, and no shared stack grows with the number of datasets.

How fast synth grows is measured by ``python3 tasks.py bench-scale``, never asserted here.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from aws_cdk import assertions

from blueprint.factory import Blueprint
from model.declarations import load_datasets
from tests.conftest import make_blueprint
from tools.scale_declarations import generate_declarations


def shared_resources(blueprint: Blueprint) -> dict[str, Counter[str]]:
    """Each shared (non-dataset) stack's resources, counted by type."""
    dataset_stacks = set(blueprint.dataset_stacks.values())
    return {
        stack.node.id: Counter(
            r["Type"] for r in assertions.Template.from_stack(stack).to_json()["Resources"].values()
        )
        for stack in blueprint.stacks
        if stack not in dataset_stacks
    }


def test_generated_declarations_pass_the_loader(tmp_path: Path) -> None:
    paths = generate_declarations(tmp_path, 12)
    # The loader also refuses a query that reads another dataset's tables: the SQL was
    # rewritten to the new names.
    datasets = load_datasets(tmp_path)
    assert len(paths) == len(datasets) == 12
    names = [d.name for d in datasets]
    assert len(set(names)) == 12
    assert {d.source.mode for d in datasets} == {"batch", "streaming"}
    assert {d.source.format for d in datasets} == {"csv", "parquet", "jsonl"}
    # Marts are tables of one shared analytics database: their names must not collide.
    marts = [m.name for d in datasets for m in d.marts]
    assert marts
    assert len(set(marts)) == len(marts)
    assert all(d.queries for d in datasets)


@pytest.fixture(scope="module")
def one_and_six(tmp_path_factory: pytest.TempPathFactory) -> tuple[Blueprint, Blueprint]:
    built = []
    for count in (1, 6):
        folder = tmp_path_factory.mktemp(f"datasets{count}")
        generate_declarations(folder, count)
        built.append(make_blueprint("sandbox", datasets=str(folder)))
    return built[0], built[1]


def test_one_dataset_stack_per_declaration(one_and_six: tuple[Blueprint, Blueprint]) -> None:
    for blueprint, count in zip(one_and_six, (1, 6), strict=True):
        assert len(blueprint.dataset_stacks) == len(blueprint.datasets) == count
        assert len(blueprint.stacks) == len(shared_resources(blueprint)) + count


def test_no_shared_stack_grows_with_datasets(one_and_six: tuple[Blueprint, Blueprint]) -> None:
    one, six = (shared_resources(b) for b in one_and_six)
    assert set(one) == set(six)
    for stack, resources in one.items():
        assert six[stack] == resources, f"{stack} grows: {six[stack] - resources}"
