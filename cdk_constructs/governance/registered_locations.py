"""The lake's buckets registered with Lake Formation, through a role that can use their key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.common.managed_role import ManagedRole
from cdk_constructs.common.nag import GRANT_WILDCARDS, acknowledge, in_finding
from cdk_constructs.common.service_trust import trusted_service


class DataAccessRole(ManagedRole):
    """The role Lake Formation reads and writes registered locations with.

    Lake Formation hands out temporary credentials for registered locations to the engines
    that query them (Athena, Glue, Redshift Spectrum) on behalf of granted principals. It does
    so with the registration role, which therefore needs the buckets and their KMS key: the
    service-linked role cannot be granted a customer managed key, so a dedicated role is used.
    It lives beside the buckets, so its policy names them directly.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        buckets: Sequence[s3.IBucket],
    ) -> None:
        """Create the role.

        :param buckets: every bucket that will be registered with this role; the grant
            includes their KMS key.
        """
        super().__init__(
            scope,
            id,
            description="Lake Formation reads and writes registered lake locations with it.",
            assumed_by=trusted_service(scope, "lakeformation.amazonaws.com"),
        )
        for bucket in buckets:
            bucket.grant_read_write(self)
        acknowledge(
            self,
            "Lake Formation vends this role's access to the engines that query the lake, so it "
            "reads and writes whole registered buckets; what each principal may reach is "
            "decided by Lake Formation grants, never by this policy.",
            *(f"AwsSolutions-IAM5[Resource::{in_finding(b, b.bucket_arn)}/*]" for b in buckets),
            *GRANT_WILDCARDS,
        )


class RegisteredLocations(Construct):
    """Register each bucket as a Lake Formation data location, with the data-access role."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        buckets: Mapping[str, s3.IBucket],
        role_arn: str,
    ) -> None:
        """Register the buckets.

        :param buckets: the locations to register, by a short name (the zone).
        :param role_arn: the role Lake Formation accesses them with (see ``DataAccessRole``).
        """
        super().__init__(scope, id)
        self.locations: dict[str, lakeformation.CfnResource] = {}
        for name, bucket in buckets.items():
            self.locations[name] = lakeformation.CfnResource(
                self,
                name.capitalize(),
                resource_arn=bucket.bucket_arn,
                role_arn=role_arn,
                use_service_linked_role=False,
                hybrid_access_enabled=False,
            )
