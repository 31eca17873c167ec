"""One snapshot per stack and environment: any change to a template shows up in review.

Asset hashes are masked: they change with files that are not part of the design (a stray
``__pycache__``, another machine's build). Update snapshots with ``--snapshot-update`` in a
commit of their own that says why they changed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import assertions
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.conftest import ENVIRONMENTS, built

ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def masked(template: dict[str, Any]) -> Any:
    return json.loads(ASSET_HASH.sub("<asset-hash>", json.dumps(template)))


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("env_name", ENVIRONMENTS)
@pytest.mark.parametrize("stack_id", [stack.node.id for stack in built("sandbox").stacks])
def test_template_matches_snapshot(
    env_name: str, stack_id: str, snapshot_json: SnapshotAssertion
) -> None:
    stack = next(s for s in built(env_name).stacks if s.node.id == stack_id)
    template = assertions.Template.from_stack(stack).to_json()
    assert masked(template) == snapshot_json
