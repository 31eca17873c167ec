"""The lake's three keys, each for data that must stay apart from the other two.

A key is a boundary that holds whatever IAM or Lake Formation grants later say: a role that
cannot use the key of an object cannot read it, even when a bucket policy or a grant is too
wide. So the keys follow who may read the data, not which bucket holds it:

* the personal-data key encrypts what holds personal data in clear: landing, raw (with its
  quarantined files and rows), the records Firehose buffers before writing them to raw, and the
  salt of hashed columns (whoever reads the salt can hash every likely value of a low-entropy
  column, a birth date or a postcode, and so reverse its hashes: the salt is as sensitive as
  the clear data). Readers: ingest, the curation jobs, Firehose, the crawlers' and engines'
  Lake Formation role, and the engineer's review of landing and quarantine;
* the curated key encrypts curated, analytics and the Athena query results (and the optional
  Redshift namespace, which holds what the analyst reads). Readers: the jobs and engines that
  write or query those zones, and each persona's own query results;
* the operations key encrypts what running the lake produces: every pipeline log group, the
  alerts topic, the dead-letter queues, Glue's CloudWatch logs and job bookmarks. Only
  services (CloudWatch Logs, EventBridge, CloudWatch alarms) and the roles that publish to the
  topic or park events use it; reading a log group needs no key permission at all.

Each lake bucket refuses writes under any key but its own (``refuse_other_keys``), so the
separation holds whatever a writer asks for. The analyst's and scientist's roles are granted
the curated key only (for their query results), so no policy mistake on raw can hand them
personal data in clear. Each key costs 1 USD a month; three are the fewest that keep these
readers apart.

``PersonalDataKey`` keeps the construct ID ``DataKey`` of the single key this replaces, so its
logical ID, and the objects already in raw and landing, stay as they are (docs/governance.md,
"Keys", says what moves and how).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.encryption_key import EncryptionKey


@dataclass(frozen=True)
class LakeKeys:
    """The three keys; see the module docstring for what each encrypts and who uses it."""

    personal_data: EncryptionKey
    curated: EncryptionKey
    operations: EncryptionKey


def lake_keys(scope: Construct, *, remove_on_destroy: bool) -> LakeKeys:
    """Create the three keys directly in ``scope`` (their logical IDs are a contract)."""
    personal_data = EncryptionKey(
        scope,
        "DataKey",
        description="Encrypts personal data in clear: landing, raw, quarantine, the PII salt.",
        remove_on_destroy=remove_on_destroy,
    )
    # Log events written before the operations key existed stay encrypted with this key until
    # their retention expires them; CloudWatch Logs needs it to keep serving them.
    personal_data.allow_cloudwatch_logs()
    curated = EncryptionKey(
        scope,
        "CuratedDataKey",
        description="Encrypts curated and analytics data and the Athena query results.",
        remove_on_destroy=remove_on_destroy,
    )
    operations = EncryptionKey(
        scope,
        "OperationsKey",
        description="Encrypts pipeline logs, the alerts topic, dead-letter queues, bookmarks.",
        remove_on_destroy=remove_on_destroy,
    )
    # Pipeline logs (Glue jobs and crawlers, functions, state machines, Firehose errors).
    operations.allow_cloudwatch_logs()
    # EventBridge parks undeliverable events in encrypted dead-letter queues.
    operations.allow_service("events.amazonaws.com", "kms:GenerateDataKey", "kms:Decrypt")
    # CloudWatch alarms publish to the alerts topic, which this key encrypts.
    operations.allow_service("cloudwatch.amazonaws.com", "kms:GenerateDataKey", "kms:Decrypt")
    return LakeKeys(personal_data=personal_data, curated=curated, operations=operations)


def refuse_other_keys(bucket: s3.IBucket, key: kms.IKey) -> None:
    """Deny writes to ``bucket`` that ask for any encryption but SSE-KMS with ``key``.

    A write that names no encryption gets the bucket's default (``key``); one that names
    another key, SSE-S3, or SSE-KMS without a key (which S3 answers with the AWS managed key
    ``aws/s3``, usable by anyone in the account allowed to read the object) would put an object
    of this zone under a key its readers may not be meant to have, or one that separates
    nothing. Writers that name a key (Firehose, Athena) name this one by its ARN.
    """
    sse = "s3:x-amz-server-side-encryption"
    key_id = f"{sse}-aws-kms-key-id"
    # Each statement applies only to a write that asks for encryption ("Null": "false"): a
    # negated operator, with or without IfExists, is true when the request lacks its key, so
    # without that test a write relying on the bucket's default would be denied too.
    for conditions in (
        # Any encryption but SSE-KMS.
        {"Null": {sse: "false"}, "StringNotEquals": {sse: "aws:kms"}},
        # SSE-KMS with another key's ARN, or with none.
        {"Null": {sse: "false"}, "StringNotEquals": {key_id: key.key_arn}},
    ):
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects("*")],
                conditions=conditions,
            )
        )
