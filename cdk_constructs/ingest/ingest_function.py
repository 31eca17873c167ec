"""The batch ingest function: files landing in the landing bucket, validated into raw."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.dead_letter_queue import dead_letter_queue
from cdk_constructs.common.encrypted_log_group import EncryptedLogGroup
from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import GRANT_WILDCARDS, acknowledge, in_finding
from cdk_constructs.common.wildcards import allow_wildcards
from model.datasets import Dataset

SOURCE = Path(__file__).resolve().parents[2] / "lambda" / "ingest"


def function_code(datasets: Sequence[Dataset]) -> lambda_.Code:
    """The function's modules plus ``datasets.json``, what each file is checked against.

    The declarations travel with the code rather than in environment variables (4 KB in
    all) so that the function scales to any number of datasets. Only ``*.py`` files are
    copied, so stray files (``__pycache__``) never change the asset.
    """
    staging = Path(tempfile.mkdtemp(prefix="ingest-function-"))
    for module in sorted(SOURCE.glob("*.py")):
        shutil.copyfile(module, staging / module.name)
    specs = {d.name: d.landing_spec() for d in datasets}
    (staging / "datasets.json").write_text(json.dumps(specs, indent=2, sort_keys=True))
    return lambda_.Code.from_asset(str(staging))


class IngestFunction(Construct):
    """The function, the EventBridge rule that feeds it, and their dead-letter queue.

    Landing's "Object Created" events reach the function through EventBridge, which retries
    delivery (up to 4 times, for up to 2 hours) and then parks the event in the dead-letter
    queue; the function's own asynchronous retries (2) that still fail park there too. The
    queue keeps events 14 days, so a failed file can be replayed; the file itself stays in
    landing until it is handled.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        datasets: Sequence[Dataset],
        landing_bucket: s3.IBucket,
        raw_bucket: s3.IBucket,
        operations_key: kms.IKey,
        max_file_bytes: int,
        reserved_concurrency: int | None,
        log_retention_days: int,
        remove_on_destroy: bool = False,
    ) -> None:
        """Create the function and its trigger.

        :param landing_bucket: where files arrive (EventBridge notifications enabled).
        :param raw_bucket: where valid files go, and ``_quarantine/`` for the rest.
        :param operations_key: encrypts the logs and the dead-letter queue (the buckets'
            own keys, lent with them, are granted with the buckets).
        :param max_file_bytes: larger files are quarantined as too large.
        :param reserved_concurrency: the most files handled at once; ``None`` reserves no
            concurrency (for accounts whose quota leaves none to reserve).
        :param log_retention_days: how long the function's logs are kept.
        :param remove_on_destroy: delete the log group with the stack. Default: retained.
        """
        super().__init__(scope, id)
        self.dead_letter_queue = dead_letter_queue(
            self,
            "DeadLetterQueue",
            encryption_key=operations_key,
            serves="the ingest function and of the EventBridge rule's target",
        )
        self.log_group = EncryptedLogGroup(
            self,
            "LogGroup",
            encryption_key=operations_key,
            retention_days=log_retention_days,
            holds="ingest function's logs",
            remove_on_destroy=remove_on_destroy,
        )
        self.role = ManagedRole(
            self,
            "Role",
            description="The batch ingest function: moves landed files to raw or quarantine.",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
        self.function = self._function(
            datasets,
            raw_bucket=raw_bucket,
            max_file_bytes=max_file_bytes,
            reserved_concurrency=reserved_concurrency,
        )
        self._grant_buckets(landing_bucket=landing_bucket, raw_bucket=raw_bucket)
        # Lambda parks a failed event in the encrypted queue as the function's role, which
        # CDK grants sqs:SendMessage only.
        operations_key.grant(self.role, "kms:GenerateDataKey", "kms:Decrypt")
        self.rule = self._rule(landing_bucket)

    def _function(
        self,
        datasets: Sequence[Dataset],
        *,
        raw_bucket: s3.IBucket,
        max_file_bytes: int,
        reserved_concurrency: int | None,
    ) -> lambda_.Function:
        """The function: traced, logging to its own group, two asynchronous retries within six
        hours before an event is parked in the dead-letter queue."""
        function = lambda_.Function(
            self,
            "Function",
            description="Validates files landing in the lake and moves them to raw or quarantine.",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.handler",
            code=function_code(datasets),
            role=self.role,
            memory_size=512,
            # A multipart copy of a file of several GiB takes minutes.
            timeout=Duration.minutes(15),
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            environment={
                "RAW_BUCKET": raw_bucket.bucket_name,
                "MAX_BYTES": str(max_file_bytes),
            },
        )
        if reserved_concurrency is None:
            acknowledge(
                function,
                "The environment reserves no concurrency for the function: new accounts have "
                "a quota of 10 concurrent executions, all of which must stay unreserved. Set "
                "ingest.reservedConcurrency above 0 once the quota allows it.",
                "HIPAA.Security-LambdaConcurrency",
                "NIST.800.53.R5-LambdaConcurrency",
                "PCI.DSS.321-LambdaConcurrency",
            )
        # Active tracing adds X-Ray's two calls on "*" to the role.
        allow_wildcards(self.role, "ingest function role")
        acknowledge(
            function,
            "The function only calls S3 over TLS with IAM-signed requests; a VPC would add no "
            "network control here and would need paid interface endpoints for X-Ray.",
            "HIPAA.Security-LambdaInsideVPC",
            "NIST.800.53.R5-LambdaInsideVPC",
            "PCI.DSS.321-LambdaInsideVPC",
        )
        acknowledge(
            function,
            "Failed asynchronous invocations go to the dead-letter queue, which the HIPAA and "
            "NIST packs require; an on-failure destination on the same queue would put every "
            "failure there twice.",
            "Serverless-LambdaAsyncFailureDestination",
        )
        return function

    def _grant_buckets(self, *, landing_bucket: s3.IBucket, raw_bucket: s3.IBucket) -> None:
        """Landing: read and delete (a handled file leaves). Raw: read and add, never delete
        (the function only ever writes new keys). And its own log group."""
        landing_bucket.grant_read(self.role)
        landing_bucket.grant_delete(self.role)
        raw_bucket.grant_read(self.role)
        raw_bucket.grant_put(self.role)
        self.log_group.grant_write(self.role)
        acknowledge(
            self.role,
            "The function reads and deletes any file that lands (file names are chosen by "
            "the senders), and writes raw, quarantine and index objects under keys it derives "
            "from each file; both buckets are the lake's own, and nothing else is reachable.",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, landing_bucket.bucket_arn)}/*]",
            f"AwsSolutions-IAM5[Resource::{in_finding(self, raw_bucket.bucket_arn)}/*]",
            *GRANT_WILDCARDS,
        )

    def _rule(self, landing_bucket: s3.IBucket) -> events.Rule:
        """The rule sending landing's "Object Created" events to the function, retried up to 4
        times within 2 hours, then parked in the dead-letter queue."""
        rule = events.Rule(
            self,
            "ObjectCreated",
            description="Files created in the landing bucket, to the ingest function.",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={"bucket": {"name": [landing_bucket.bucket_name]}},
            ),
        )
        rule.add_target(
            targets.LambdaFunction(
                self.function,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=4,
                max_event_age=Duration.hours(2),
            )
        )
        return rule
