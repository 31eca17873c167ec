"""Streaming ingest for one dataset: a Firehose delivery stream (direct PUT) into raw."""

from __future__ import annotations

from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.encrypted_log_group import EncryptedLogGroup
from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import acknowledge, in_finding
from cdk_constructs.common.service_trust import trusted_service
from model.datasets import Dataset
from model.vocabulary import QUARANTINE_PREFIX


class StreamIngest(Construct):
    """Records put to the stream land in ``<dataset>/ingest_date=YYYY-MM-DD/`` of raw.

    Firehose partitions by arrival time (the same ``ingest_date`` partition the batch
    function writes), buffers up to 5 minutes or 64 MiB, compresses with GZIP and encrypts the
    stream and the objects with the personal-data key: the records it buffers are raw personal
    data in clear, as the objects are. Records a processing step rejects go to
    ``_quarantine/<dataset>/firehose/<error type>/``; failed deliveries to S3 are retried for
    up to 24 hours and logged to a KMS-encrypted log group (the monitoring stage alarms on
    delivery freshness). Records are not parsed on the way: malformed JSON lands in raw and
    is rejected, row by row, by the processing job.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        dataset: Dataset,
        stream_name: str,
        raw_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        log_key: kms.IKey,
        log_retention_days: int,
        remove_on_destroy: bool = False,
    ) -> None:
        """Create the delivery stream.

        :param stream_name: the name producers put records to.
        :param raw_bucket: the raw zone's bucket.
        :param encryption_key: the raw bucket's key (the personal-data key), for the stream's
            buffered records and the objects.
        :param log_key: the key of the delivery error log group (the operations key).
        :param log_retention_days: how long delivery errors are kept in CloudWatch Logs.
        :param remove_on_destroy: delete the log group with the stack. Default: retained.
        """
        super().__init__(scope, id)
        self.log_group = EncryptedLogGroup(
            self,
            "LogGroup",
            encryption_key=log_key,
            retention_days=log_retention_days,
            holds="delivery stream's error logs",
            remove_on_destroy=remove_on_destroy,
        )
        self.role = ManagedRole(
            self,
            "Role",
            description=f"Firehose delivery of {dataset.name} records to the raw zone.",
            assumed_by=trusted_service(self, "firehose.amazonaws.com"),
        )
        self.prefix = f"{dataset.name}/ingest_date=!{{timestamp:yyyy-MM-dd}}/"
        self.error_prefix = (
            f"{QUARANTINE_PREFIX}/{dataset.name}/firehose/!{{firehose:error-output-type}}/"
            "ingest_date=!{timestamp:yyyy-MM-dd}/"
        )
        # The construct would grant the role read, write and delete on the whole raw bucket:
        # it gets a view of the role that takes no grants, and ``_grant`` gives what Firehose
        # needs, on the stream's own prefixes.
        construct_role = self.role.without_policy_updates()
        self.stream = firehose.DeliveryStream(
            self,
            "Stream",
            delivery_stream_name=stream_name,
            encryption=firehose.StreamEncryption.customer_managed_key(encryption_key),
            role=construct_role,
            destination=firehose.S3Bucket(
                raw_bucket,
                role=construct_role,
                data_output_prefix=self.prefix,
                error_output_prefix=self.error_prefix,
                buffering_interval=Duration.minutes(5),
                buffering_size=Size.mebibytes(64),
                compression=firehose.Compression.GZIP,
                encryption_key=encryption_key,
                logging_config=firehose.EnableLogging(self.log_group),
            ),
        )
        # The construct always adds a mapping of Firehose's CIDR blocks, which only Redshift
        # and Splunk destinations use; unused, it is template noise (cfn-lint W7001).
        Stack.of(self).node.try_remove_child("@aws-cdk--aws-kinesisfirehose.CidrBlocks")
        self._grant(dataset, raw_bucket=raw_bucket, encryption_key=encryption_key)
        # The stream is created once its role can deliver.
        self.stream.node.add_dependency(self.role)

    def _grant(self, dataset: Dataset, *, raw_bucket: s3.IBucket, encryption_key: kms.IKey) -> None:
        """What Firehose needs to deliver to S3 (the actions AWS documents for an S3
        destination, https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html),
        on the dataset's raw folder and its Firehose quarantine folder only; the key for the
        stream and the objects; its error log group. No delete anywhere."""
        folders = [f"{dataset.name}/", f"{QUARANTINE_PREFIX}/{dataset.name}/firehose/"]
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
                resources=[raw_bucket.arn_for_objects(f"{folder}*") for folder in folders],
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[raw_bucket.bucket_arn],
            )
        )
        encryption_key.grant(self.role, "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
        self.log_group.grant_write(self.role)
        acknowledge(
            self.role,
            "Firehose writes objects under keys it makes from the arrival time, in the "
            "dataset's raw folder and its Firehose quarantine folder; nothing else is reachable.",
            *(
                f"AwsSolutions-IAM5[Resource::{in_finding(self, raw_bucket.bucket_arn)}/{f}*]"
                for f in folders
            ),
        )
