"""What happens to stored data when a stack is deleted, decided in one place."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct


def data_removal_policy(remove_on_destroy: bool) -> cdk.RemovalPolicy:
    """RETAIN unless the environment allows its data to be removed with the stack."""
    return cdk.RemovalPolicy.DESTROY if remove_on_destroy else cdk.RemovalPolicy.RETAIN


def warn_data_removal(scope: IConstruct, remove_on_destroy: bool, what: str) -> None:
    """Warn at synth, at ``scope``'s path, that deleting the stack deletes ``what``.

    The warning shows in ``cdk synth`` and ``cdk deploy`` output, so nobody deletes data by
    surprise.
    """
    if remove_on_destroy:
        cdk.Annotations.of(scope).add_warning_v2(
            "datalake:remove-data-on-destroy",
            f"removeDataOnDestroy is true: deleting this stack deletes {what}.",
        )
