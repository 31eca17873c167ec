"""The dead-letter queue every failed delivery in the blueprint is parked in."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.common.nag import acknowledge


def dead_letter_queue(
    scope: Construct, id: str, *, encryption_key: kms.IKey, serves: str
) -> sqs.Queue:
    """A KMS-encrypted, TLS-only queue keeping what it receives for 14 days, so a failed event
    can be looked at and replayed. ``serves`` names what parks its failures there."""
    queue = sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=encryption_key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    acknowledge(
        queue,
        f"This queue is itself the dead-letter queue of {serves}; a dead-letter queue of a "
        "dead-letter queue would only move the same events again. Its depth is alarmed on "
        "by the monitoring stage.",
        "AwsSolutions-SQS3",
        "Serverless-SQSRedrivePolicy",
    )
    return queue
