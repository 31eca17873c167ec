"""An IAM role for one persona of the data platform (analyst, scientist, ...)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_constructs.managed_role import ManagedRole


class PersonaRole(ManagedRole):
    """A role people assume to work as one persona; its data access comes from Lake Formation.

    IAM gives the role the API calls its persona needs; which databases, tables and columns
    those calls may reach is decided by Lake Formation grants to the role.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        persona: str,
        principals: Sequence[str] = (),
    ) -> None:
        """Create the role.

        :param persona: what the role is for, shown in its description.
        :param principals: IAM principal ARNs that may assume it. Default: none named; the
            role then trusts this account's IAM policies and requires MFA, so nobody can use
            it until an administrator grants ``sts:AssumeRole`` on it to someone.
        """
        trusted: iam.IPrincipal
        if principals:
            trusted = iam.CompositePrincipal(*(iam.ArnPrincipal(arn) for arn in principals))
        else:
            trusted = iam.AccountRootPrincipal().with_conditions(
                {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            )
        super().__init__(
            scope,
            id,
            description=f"The {persona} persona of the data platform.",
            assumed_by=trusted,
            max_session_duration=Duration.hours(4),
        )
