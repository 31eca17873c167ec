"""The account's Lake Formation settings, changed without wiping what others set."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_lakeformation as lakeformation
from constructs import Construct


class LakeFormationSettings(Construct):
    """Make the CDK deployment role and the configured principals Lake Formation admins.

    The settings resource is one per account and region. ``MutationType: APPEND`` adds these
    admins to those already there instead of replacing them. New databases and tables get no
    default permissions (in particular none for ``IAMAllowedPrincipals``), so IAM policies
    alone never open a table: every access is a Lake Formation grant.

    The CloudFormation execution role of the CDK bootstrap must be an admin before the
    stacks that create databases, tags and grants deploy; those stacks depend on this one.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        admins: Sequence[str] = (),
        read_only_admins: Sequence[str] = (),
    ) -> None:
        """Apply the settings.

        :param admins: IAM principal ARNs to make admins besides the deployment role.
            Default: only the deployment role.
        :param read_only_admins: principals that may see every grant, tag and setting but
            change nothing (and read no data). Default: none.
        """
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        synthesizer = stack.synthesizer
        if not isinstance(synthesizer, cdk.DefaultStackSynthesizer):
            raise ValueError(
                f"{self.node.path}: the stack must use the default synthesizer, so that the "
                "CDK CloudFormation execution role is known"
            )
        self.deployment_role_arn = cdk.Fn.sub(synthesizer.cloud_formation_execution_role_arn)
        principals = [self.deployment_role_arn, *admins]
        self.resource = lakeformation.CfnDataLakeSettings(
            self,
            "Resource",
            mutation_type="APPEND",
            admins=[
                lakeformation.CfnDataLakeSettings.DataLakePrincipalProperty(
                    data_lake_principal_identifier=arn
                )
                for arn in principals
            ],
            read_only_admins=[
                lakeformation.CfnDataLakeSettings.DataLakePrincipalProperty(
                    data_lake_principal_identifier=arn
                )
                for arn in read_only_admins
            ],
            create_database_default_permissions=[],
            create_table_default_permissions=[],
        )
