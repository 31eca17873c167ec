"""What happens to stored data when a stack is deleted, decided in one place."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

# The cloud assembly's metadata type that marks a construct whose data goes with its stack.
REMOVABLE = "datalake:remove-data-on-destroy"


def data_removal_policy(remove_on_destroy: bool) -> cdk.RemovalPolicy:
    """RETAIN unless the environment allows its data to be removed with the stack."""
    return cdk.RemovalPolicy.DESTROY if remove_on_destroy else cdk.RemovalPolicy.RETAIN


def warn_data_removal(scope: IConstruct, remove_on_destroy: bool, what: str) -> None:
    """Mark ``scope`` as data that deleting its stack deletes (``what``): metadata of type
    ``REMOVABLE`` at its path in the cloud assembly. ``announce_data_removal`` sums the marks
    up in one synth warning, so nobody deletes data by surprise, and synth's output is not a
    page of the same warning."""
    if remove_on_destroy:
        scope.node.add_metadata(
            REMOVABLE, f"removeDataOnDestroy is true: deleting this stack deletes {what}."
        )


def removable(root: IConstruct) -> list[IConstruct]:
    """Every construct under ``root`` that ``warn_data_removal`` marked."""
    return [c for c in root.node.find_all() if any(m.type == REMOVABLE for m in c.node.metadata)]


def announce_data_removal(root: IConstruct, on: IConstruct) -> None:
    """One warning on ``on`` (shown by ``cdk synth`` and ``cdk deploy``) when anything under
    ``root`` is marked removable: how many, and where each is listed."""
    marked = removable(root)
    if marked:
        cdk.Annotations.of(on).add_warning_v2(
            REMOVABLE,
            f"removeDataOnDestroy is true: deleting the stacks deletes {len(marked)} buckets, "
            f"keys and log groups with their data; each is marked '{REMOVABLE}' in its "
            "stack's <stack>.metadata.json of the cloud assembly (README.md, 'Destroying it').",
        )
