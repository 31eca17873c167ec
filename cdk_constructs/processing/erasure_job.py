"""One dataset's erasure Glue job: forgets one data subject (a person) in every zone."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from cdk_constructs.common.kms_conditions import s3_service
from cdk_constructs.common.nag import acknowledge, in_finding
from cdk_constructs.processing.glue_job import add_glue_job, grant_dataset_tables
from model.config import Processing
from model.datasets import Dataset
from model.vocabulary import ERASURE_RECORD_PREFIX, ERASURE_REQUEST_PREFIX, QUARANTINE_PREFIX

# What the job does to every version of every object under a folder it erases in: read it
# and its tags, write its rewritten version (with its tags), delete the old versions.
FOLDER_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectTagging",
    "s3:GetObjectVersionTagging",
    "s3:PutObject",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
)
LIST_ACTIONS = ("s3:ListBucket", "s3:ListBucketVersions")
# Reading and writing objects of an SSE-KMS bucket, which S3 asks KMS for on the job's behalf.
OBJECT_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")


@dataclass(frozen=True)
class ErasureBuckets:
    """The buckets an erasure reaches, each borrowed with its key: the four zones, and the
    audit bucket its records go to."""

    landing: s3.IBucket
    raw: s3.IBucket
    curated: s3.IBucket
    analytics: s3.IBucket
    audit: s3.IBucket


def erased_folders(dataset: Dataset, buckets: ErasureBuckets) -> list[tuple[s3.IBucket, str]]:
    """Every folder the dataset's person can be in, as (bucket, prefix): its landed files,
    its raw files, its quarantine (files and rows), its curated table and each mart."""
    name = dataset.name
    return [
        (buckets.landing, f"{name}/"),
        (buckets.raw, f"{name}/"),
        (buckets.raw, f"{QUARANTINE_PREFIX}/{name}/"),
        (buckets.curated, f"{name}/"),
        *((buckets.analytics, f"{mart.name}/") for mart in dataset.marts),
    ]


def job_arguments(
    dataset: Dataset,
    *,
    buckets: ErasureBuckets,
    databases: Mapping[str, str],
    salt: secretsmanager.ISecret,
) -> dict[str, str]:
    """The job's own arguments (``forget_subject.ARGUMENTS``), as the stack sets them. The
    declaration and marts are passed as the curation and marts jobs get them, so the job
    reads them as those jobs wrote them."""
    assert dataset.subject is not None
    raw = buckets.raw
    return {
        "--dataset_spec": json.dumps(dataset.processing_spec(), sort_keys=True),
        "--subject_column": dataset.subject,
        "--marts_spec": json.dumps([m.spec() for m in dataset.marts], sort_keys=True),
        "--curated_table": f"{databases['curated']}.{dataset.name}",
        "--analytics_database": databases["analytics"],
        "--warehouse": f"{buckets.curated.s3_url_for_object()}/",
        "--landing_path": buckets.landing.s3_url_for_object(f"{dataset.name}/"),
        "--raw_path": raw.s3_url_for_object(f"{dataset.name}/"),
        "--quarantine_path": raw.s3_url_for_object(f"{QUARANTINE_PREFIX}/{dataset.name}/"),
        "--request_path": raw.s3_url_for_object(f"{ERASURE_REQUEST_PREFIX}/"),
        "--records_path": buckets.audit.s3_url_for_object(f"{ERASURE_RECORD_PREFIX}/"),
        "--salt_secret_arn": salt.secret_arn,
    }


class ErasureJob(Construct):
    """A Glue 5.1 job that forgets one person of one dataset, in every zone, and records it.

    Started by hand (``tasks.py forget``), once per request, with the request's ID alone: the
    person's value is in the request object, never in an argument. Same run settings as the
    curation job (Flex where allowed, one run at a time, the shared security configuration,
    metrics and continuous logs); no retry, since whoever started it reads its record and
    decides; no bookmark, since every run searches everything.

    Its role is the only one that deletes object versions in the lake, so it is its own and
    as narrow as the work: it deletes only under the dataset's folders of the lake buckets
    (``erased_folders``), reads only the requests of the raw bucket, and writes only under
    ``erasure/`` of the audit bucket, where it neither reads nor deletes. The audit key's
    policy is CDK's default (the account's IAM policies decide), and the audit bucket's
    policy denies only requests without TLS 1.2, so the storage stack needs no change for it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: Dataset,
        job_name: str,
        processing: Processing,
        buckets: ErasureBuckets,
        databases: Mapping[str, str],
        salt: secretsmanager.ISecret,
        salt_key: kms.IKey,
        security_configuration: str,
    ) -> None:
        """Create the job and its role.

        :param job_name: the job's name (``tasks.py forget`` starts it by name).
        :param buckets: the zones and the audit bucket, each with its key.
        :param databases: the curated and analytics database names, by zone.
        :param salt: the secret holding the salt of hashed columns (the request's value is
            hashed with it, as curated hashed it).
        :param salt_key: the key encrypting the salt (the personal-data key).
        :param security_configuration: name of the Glue security configuration.
        """
        super().__init__(scope, id)
        if dataset.subject is None:
            raise ValueError(f"ErasureJob {id}: dataset {dataset.name} declares no subject")
        parts = add_glue_job(
            self,
            name=job_name,
            description=f"Forgets one person in every zone of {dataset.name}, and records it.",
            role_description=f"The {job_name} Glue job: erases one person from {dataset.name}.",
            script="forget_subject",
            processing=processing,
            security_configuration=security_configuration,
            arguments=job_arguments(dataset, buckets=buckets, databases=databases, salt=salt),
            # A second attempt would erase what the first left half done without anyone
            # reading why it failed: the person who started it runs the request again.
            max_retries=0,
            wildcard_kind="erasure job role",
        )
        self.role, self.job = parts.role, parts.job
        folders = erased_folders(dataset, buckets)
        patterns = self._grant_folders(folders)
        patterns += self._grant_request_and_record(buckets)
        salt.grant_read(self.role)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[salt_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": _secrets_service(self)}},
            )
        )
        self._grant_tables(dataset, databases)
        acknowledge(
            self.role,
            "Erasing a person rewrites or deletes every version of the objects that hold them: "
            "each pattern is one of the dataset's folders (landing, raw, quarantine, curated "
            "table, marts), the raw bucket's erasure requests (read only) or the audit "
            "bucket's erasure records (write only).",
            *(f"AwsSolutions-IAM5[Resource::{in_finding(self, p)}]" for p in patterns),
            *parts.role_findings,
        )

    def _grant_tables(self, dataset: Dataset, databases: Mapping[str, str]) -> None:
        """The curated table and the marts, as the curation and marts jobs have them: the
        job deletes the person's rows and commits (an ``UpdateTable``), and Iceberg's
        procedures that drop the old files' snapshots commit too."""
        grant_dataset_tables(
            self,
            "CuratedTableAccess",
            self.role,
            zone="curated",
            database=databases["curated"],
            dataset=dataset.name,
            tables=[dataset.name],
            write=True,
        )
        if dataset.marts:
            grant_dataset_tables(
                self,
                "MartTableAccess",
                self.role,
                zone="analytics",
                database=databases["analytics"],
                dataset=dataset.name,
                tables=[m.name for m in dataset.marts],
                write=True,
            )

    def _grant_folders(self, folders: Sequence[tuple[s3.IBucket, str]]) -> list[str]:
        """Every version of every object under ``folders``: listed (by prefix, bucket by
        bucket), read, rewritten and deleted; with each bucket's key, through S3 only (the
        personal-data key also encrypts the salt). Returns the object patterns granted."""
        patterns = [bucket.arn_for_objects(f"{prefix}*") for bucket, prefix in folders]
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(FOLDER_ACTIONS), resources=patterns)
        )
        prefixes: dict[str, tuple[s3.IBucket, list[str]]] = {}
        for bucket, prefix in folders:
            prefixes.setdefault(bucket.node.path, (bucket, []))[1].append(f"{prefix}*")
        for bucket, listed in prefixes.values():
            self.role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(LIST_ACTIONS),
                    resources=[bucket.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": listed}},
                )
            )
        keys = {_key(bucket).node.path: _key(bucket) for bucket, _ in folders}
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(OBJECT_KEY_ACTIONS),
                resources=[key.key_arn for key in keys.values()],
                conditions={"StringEquals": {"kms:ViaService": s3_service(self)}},
            )
        )
        return patterns

    def _grant_request_and_record(self, buckets: ErasureBuckets) -> list[str]:
        """Read the requests (under the personal-data key, already granted with raw); write
        the records, encrypting with the audit key for objects under ``erasure/`` only (the
        audit bucket has no bucket key, so S3 names each object in the encryption context).
        Returns the object patterns granted."""
        requests = buckets.raw.arn_for_objects(f"{ERASURE_REQUEST_PREFIX}/*")
        records = buckets.audit.arn_for_objects(f"{ERASURE_RECORD_PREFIX}/*")
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[requests])
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[records])
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Encrypt"],
                resources=[_key(buckets.audit).key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": s3_service(self)},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": records},
                },
            )
        )
        return [requests, records]


def _key(bucket: s3.IBucket) -> kms.IKey:
    """The key a borrowed bucket's objects are encrypted with (lent with the bucket)."""
    if bucket.encryption_key is None:
        raise ValueError(f"{bucket.node.path}: borrowed without its key")
    return bucket.encryption_key


def _secrets_service(scope: Construct) -> str:
    """``kms:ViaService`` for Secrets Manager in ``scope``'s region: the salt's key decrypts
    the salt, and nothing sent to KMS directly."""
    return f"secretsmanager.{Stack.of(scope).region}.amazonaws.com"
