"""A CloudWatch log group encrypted with a customer managed key, kept unless allowed."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.common.log_retention import log_retention
from cdk_constructs.common.removal import data_removal_policy, warn_data_removal


class EncryptedLogGroup(logs.LogGroup):
    """A log group encrypted with ``encryption_key`` (whose policy must admit CloudWatch Logs)
    and kept for ``retention_days``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey,
        retention_days: int,
        holds: str,
        remove_on_destroy: bool = False,
        log_group_name: str | None = None,
    ) -> None:
        """Create the log group.

        :param retention_days: a retention period CloudWatch Logs offers.
        :param holds: what the logs are, for the synth warning when they may be removed.
        :param remove_on_destroy: delete the log group with the stack. Default: retained.
        :param log_group_name: a fixed name. Default: generated.
        """
        super().__init__(
            scope,
            id,
            encryption_key=encryption_key,
            log_group_name=log_group_name,
            retention=log_retention(retention_days),
            removal_policy=data_removal_policy(remove_on_destroy),
        )
        warn_data_removal(self, remove_on_destroy, f"this log group and the {holds} in it")
