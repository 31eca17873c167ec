"""What whoever operates ingest looks at: files waiting in landing and files quarantined in raw."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.kms_conditions import s3_service
from cdk_constructs.common.nag import acknowledge, in_finding
from model.vocabulary import QUARANTINE_PREFIX


class IngestReviewPolicy(iam.ManagedPolicy):
    """Read (and decrypt) any file in ``landing``, and those under ``_quarantine/`` of ``raw``.

    Neither place is catalogued, so Lake Formation grants cannot reach them: these are plain
    S3 reads, for the persona that operates the pipelines.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        landing: s3.IBucket,
        raw: s3.IBucket,
        encryption_key: kms.IKey,
    ) -> None:
        """Create the policy.

        :param encryption_key: the key of landing and raw (the personal-data key).
        """
        quarantine = f"{QUARANTINE_PREFIX}/*"
        super().__init__(
            scope,
            id,
            description="Read files waiting in landing and quarantined in raw, and decrypt them.",
            statements=[
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:GetBucketLocation"],
                    resources=[landing.bucket_arn],
                ),
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[raw.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [quarantine]}},
                ),
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
                    resources=[landing.arn_for_objects("*"), raw.arn_for_objects(quarantine)],
                ),
                # Through S3 only: the same key encrypts the PII salt, which this policy must
                # never help decrypt through Secrets Manager.
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[encryption_key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": s3_service(scope)}},
                ),
            ],
        )
        acknowledge(
            self,
            "Operating ingest means looking at any file waiting in landing or quarantined in "
            "raw; the policy reads only those, and decrypts only with the personal-data key, "
            "through S3.",
            f"AwsSolutions-IAM5[Resource::{in_finding(landing, landing.bucket_arn)}/*]",
            f"AwsSolutions-IAM5[Resource::{in_finding(raw, raw.bucket_arn)}/{quarantine}]",
        )
