"""A CloudTrail trail that records who did what to the account and to the lake's objects."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.encrypted_log_group import EncryptedLogGroup


class AuditTrail(Construct):
    """A multi-region trail of management events plus S3 data events on chosen buckets.

    Log files are KMS-encrypted and digest-signed (log-file validation) in ``bucket`` and also
    delivered to a KMS-encrypted CloudWatch log group, where metric filters and alarms can
    watch them.

    Built on the CloudFormation resource rather than the ``Trail`` L2 construct: the L2
    construct gives CloudTrail's log-delivery role an inline policy and writes its own
    (unconditioned) bucket policy, where this construct uses a customer managed policy and
    leaves the bucket policy to the bucket's owner (see ``AuditLogStore``). It also selects
    data events with advanced event selectors, by object ARN prefix.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        trail_name: str,
        bucket: s3.IBucket,
        encryption_key: kms.IKey,
        data_event_buckets: Sequence[s3.IBucket],
        log_retention_days: int,
        remove_on_destroy: bool = False,
    ) -> None:
        """Create the trail, its log group and CloudTrail's role for writing to it.

        :param trail_name: the trail's name, fixed because the policies of ``bucket`` and
            ``encryption_key`` admit this trail's ARN alone, and are written before it exists.
        :param bucket: where CloudTrail writes log files; its policy must let CloudTrail write.
        :param encryption_key: encrypts log files and the log group; its key policy must let
            CloudTrail and CloudWatch Logs use it.
        :param data_event_buckets: buckets whose object-level reads and writes are recorded.
        :param log_retention_days: how long the log group keeps events.
        :param remove_on_destroy: delete the log group with the stack. Default: retained.
        """
        super().__init__(scope, id)
        if not data_event_buckets:
            raise ValueError(f"AuditTrail {id}: data_event_buckets must name at least one bucket")
        self.log_group = EncryptedLogGroup(
            self,
            "LogGroup",
            encryption_key=encryption_key,
            retention_days=log_retention_days,
            holds="CloudTrail events",
            remove_on_destroy=remove_on_destroy,
        )
        self.logs_role, logs_policy = self._logs_role()
        self.trail = self._trail(
            bucket=bucket, encryption_key=encryption_key, data_event_buckets=data_event_buckets
        )
        self.trail.trail_name = trail_name
        # CloudTrail checks at creation that it can write to the log group.
        self.trail.node.add_dependency(logs_policy)

    def _logs_role(self) -> tuple[iam.Role, iam.ManagedPolicy]:
        """The role CloudTrail of this account delivers events to the log group with, and its
        customer managed policy (the only permissions it has)."""
        role = iam.Role(
            self,
            "LogsRole",
            description="Lets CloudTrail deliver this trail's events to its log group.",
            assumed_by=iam.ServicePrincipal(
                "cloudtrail.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            ),
        )
        policy = iam.ManagedPolicy(
            self,
            "LogsPolicy",
            description="CloudTrail delivery to the trail's log group, and nothing else.",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                )
            ],
        )
        return role, policy

    def _trail(
        self,
        *,
        bucket: s3.IBucket,
        encryption_key: kms.IKey,
        data_event_buckets: Sequence[s3.IBucket],
    ) -> cloudtrail.CfnTrail:
        """The trail: every region, global services, log-file validation; all management
        events, and object-level events under the data event buckets."""
        return cloudtrail.CfnTrail(
            self,
            "Trail",
            is_logging=True,
            s3_bucket_name=bucket.bucket_name,
            kms_key_id=encryption_key.key_arn,
            enable_log_file_validation=True,
            include_global_service_events=True,
            is_multi_region_trail=True,
            cloud_watch_logs_log_group_arn=self.log_group.log_group_arn,
            cloud_watch_logs_role_arn=self.logs_role.role_arn,
            advanced_event_selectors=[
                cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
                    name="All management events",
                    field_selectors=[_equals("eventCategory", "Management")],
                ),
                cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
                    name="Object reads and writes in the lake buckets",
                    field_selectors=[
                        _equals("eventCategory", "Data"),
                        _equals("resources.type", "AWS::S3::Object"),
                        cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                            field="resources.ARN",
                            starts_with=[f"{b.bucket_arn}/" for b in data_event_buckets],
                        ),
                    ],
                ),
            ],
        )

    @property
    def trail_arn(self) -> str:
        return self.trail.attr_arn


def _equals(field: str, value: str) -> cloudtrail.CfnTrail.AdvancedFieldSelectorProperty:
    """A field selector matching ``value`` exactly."""
    return cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(field=field, equal_to=[value])
