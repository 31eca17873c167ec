"""Store: the lake's keys and buckets. Stateful, so it lives apart from everything that runs.

Two customer managed keys, on purpose:

* the data key encrypts every lake zone, the Athena results and the pipelines' log groups
  (which can hold sample rows). Everything that reads the lake (Lake Formation, Athena, Glue,
  the ingest function) needs it;
* the audit key (in ``AuditLogStore``) encrypts CloudTrail's log files and log group, so that
  being allowed to read lake data never means being able to read the record of what was done.

A key per zone would cost 1 USD a month each and separate nothing that Lake Formation grants
and bucket policies do not already separate. The access-log bucket uses SSE-S3, because S3
log delivery supports nothing else.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from blueprint.config import EnvironmentConfig
from cdk_constructs.access_log_bucket import AccessLogBucket
from cdk_constructs.audit_log_store import AuditLogStore
from cdk_constructs.encryption_key import EncryptionKey
from cdk_constructs.nag import acknowledge, in_finding
from cdk_constructs.registered_locations import DataAccessRole
from cdk_constructs.removal import data_removal_policy
from cdk_constructs.secure_bucket import SecureBucket
from stacks.outputs import SharedOutputs

ZONES = ("landing", "raw", "curated", "analytics")


class StorageStack(SharedOutputs, cdk.Stack):
    """Keys, the four lake zones, Athena results, audit logs and access logs."""

    def __init__(
        self, scope: Construct, id: str, *, config: EnvironmentConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        remove = config.remove_data_on_destroy
        lifecycle = config.lifecycle

        self.data_key = EncryptionKey(
            self,
            "DataKey",
            description="Encrypts the data lake zones, Athena query results and pipeline logs.",
            remove_on_destroy=remove,
        )
        # Pipeline logs (Glue jobs and crawlers, later functions) can hold sample rows.
        self.data_key.allow_cloudwatch_logs()
        # EventBridge puts undeliverable landing events in an encrypted dead-letter queue.
        self.data_key.allow_service("events.amazonaws.com", "kms:GenerateDataKey", "kms:Decrypt")
        # CloudWatch alarms publish to the alerts topic, which the data key encrypts.
        self.data_key.allow_service(
            "cloudwatch.amazonaws.com", "kms:GenerateDataKey", "kms:Decrypt"
        )

        self.access_logs_bucket = AccessLogBucket(
            self,
            "AccessLogsBucket",
            retention_days=config.retention.access_log_days,
            noncurrent_version_expiration_days=lifecycle.noncurrent_version_expiration_days,
            remove_on_destroy=remove,
        )

        def housekeeping(**rule: Any) -> s3.LifecycleRule:
            """A rule that also expires replaced versions and aborts stale uploads."""
            return s3.LifecycleRule(
                noncurrent_version_expiration=cdk.Duration.days(
                    lifecycle.noncurrent_version_expiration_days
                ),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(
                    lifecycle.abort_incomplete_upload_days
                ),
                **rule,
            )

        def tier(*steps: tuple[s3.StorageClass, int]) -> list[s3.Transition]:
            return [
                s3.Transition(storage_class=cls, transition_after=cdk.Duration.days(days))
                for cls, days in steps
            ]

        zone_rules = {
            # Landing only holds files until ingest has copied them to raw.
            "landing": housekeeping(
                id="ExpireLanding",
                expiration=cdk.Duration.days(lifecycle.landing_expiration_days),
            ),
            # Raw is the replayable record of what arrived: kept, and tiered as it ages.
            "raw": housekeeping(
                id="TierRaw",
                transitions=tier(
                    (s3.StorageClass.INFREQUENT_ACCESS, lifecycle.raw_infrequent_access_days),
                    (s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, lifecycle.raw_glacier_days),
                ),
            ),
            "curated": housekeeping(
                id="TierCurated",
                transitions=tier(
                    (
                        s3.StorageClass.INFREQUENT_ACCESS,
                        lifecycle.curated_infrequent_access_days,
                    ),
                ),
            ),
            # Analytics tables back dashboards and stay in the standard class.
            "analytics": housekeeping(id="Housekeeping"),
        }
        self.zone_buckets: dict[str, s3.Bucket] = {
            zone: SecureBucket(
                self,
                f"{zone.capitalize()}Bucket",
                encryption_key=self.data_key,
                access_logs_bucket=self.access_logs_bucket,
                lifecycle_rules=[zone_rules[zone]],
                remove_on_destroy=remove,
                # Ingest reacts to files arriving in landing, and a dataset's pipeline may
                # start when its raw data arrives, both through EventBridge.
                event_bridge_enabled=zone in ("landing", "raw"),
            )
            for zone in ZONES
        }
        self.athena_results_bucket = SecureBucket(
            self,
            "AthenaResultsBucket",
            encryption_key=self.data_key,
            access_logs_bucket=self.access_logs_bucket,
            lifecycle_rules=[
                housekeeping(
                    id="ExpireResults",
                    expiration=cdk.Duration.days(lifecycle.athena_results_expiration_days),
                )
            ],
            remove_on_destroy=remove,
        )
        self.audit_logs = AuditLogStore(
            self,
            "AuditLogs",
            access_logs_bucket=self.access_logs_bucket,
            retention_days=config.retention.audit_log_days,
            noncurrent_version_expiration_days=lifecycle.noncurrent_version_expiration_days,
            remove_on_destroy=remove,
        )

        # Lake Formation's way into the catalogued zones; registered by the governance stack.
        self.data_access_role = DataAccessRole(
            self,
            "LakeFormationDataAccessRole",
            buckets=[self.zone_buckets[zone] for zone in ("raw", "curated", "analytics")],
        )

        # What whoever operates ingest (the engineer persona) looks at: files waiting in
        # landing, and files quarantined in raw with their reasons.
        landing, raw = self.zone_buckets["landing"], self.zone_buckets["raw"]
        self.ingest_review_policy = iam.ManagedPolicy(
            self,
            "IngestReviewPolicy",
            description="Read files waiting in landing and quarantined in raw, and decrypt them.",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:GetBucketLocation"],
                    resources=[landing.bucket_arn],
                ),
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[raw.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": ["_quarantine/*"]}},
                ),
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
                    resources=[landing.arn_for_objects("*"), raw.arn_for_objects("_quarantine/*")],
                ),
                iam.PolicyStatement(actions=["kms:Decrypt"], resources=[self.data_key.key_arn]),
            ],
        )
        acknowledge(
            self.ingest_review_policy,
            "Operating ingest means looking at any file waiting in landing or quarantined in "
            "raw; the policy reads only those, and decrypts only with the data key.",
            f"AwsSolutions-IAM5[Resource::{in_finding(landing, landing.bucket_arn)}/*]",
            f"AwsSolutions-IAM5[Resource::{in_finding(raw, raw.bucket_arn)}/_quarantine/*]",
        )

        for name, bucket in {
            **{f"{zone.capitalize()}BucketName": b for zone, b in self.zone_buckets.items()},
            "AthenaResultsBucketName": self.athena_results_bucket,
            "AuditLogsBucketName": self.audit_logs.bucket,
        }.items():
            cdk.CfnOutput(self, name, value=bucket.bucket_name)
        # The salt of hashed personal data: generated at deploy time, so it is in neither the
        # code nor the template. It never rotates: a new salt would change every hash and
        # break joins on hashed columns between old and new data.
        self.pii_salt = secretsmanager.Secret(
            self,
            "PiiSalt",
            description="Salt for hashing personal-data columns in the curated zone.",
            encryption_key=self.data_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True
            ),
            removal_policy=data_removal_policy(remove),
        )
        acknowledge(
            self.pii_salt,
            "The salt of hashed personal data must not rotate: a new salt would change every "
            "hash and break joins between data curated before and after.",
            "AwsSolutions-SMG4",
            "HIPAA.Security-SecretsManagerRotationEnabled",
            "NIST.800.53.R5-SecretsManagerRotationEnabled",
            "PCI.DSS.321-SecretsManagerRotationEnabled",
        )

        # Read by the stateless stacks by name (see shared()).
        cdk.CfnOutput(self, "PiiSaltArn", value=self.pii_salt.secret_arn)
        for zone in ZONES:
            cdk.CfnOutput(
                self, f"{zone.capitalize()}BucketArn", value=self.zone_buckets[zone].bucket_arn
            )
        cdk.CfnOutput(self, "DataKeyArn", value=self.data_key.key_arn)
        cdk.CfnOutput(self, "AthenaResultsBucketArn", value=self.athena_results_bucket.bucket_arn)

    def shared_bucket(self, scope: Construct, zone: str, key: kms.IKey) -> s3.IBucket:
        """A zone bucket, for a construct in another stack (see ``shared``)."""
        name = zone.capitalize()
        return s3.Bucket.from_bucket_attributes(
            scope,
            f"{name}Bucket",
            bucket_arn=self.shared(f"{name}BucketArn"),
            bucket_name=self.shared(f"{name}BucketName"),
            encryption_key=key,
        )

    @property
    def lake_buckets(self) -> list[s3.Bucket]:
        """Every bucket that holds lake data or query results (for audit data events)."""
        return [*self.zone_buckets.values(), self.athena_results_bucket]
