"""Lake Formation tags (LF-Tags), and grants written as tag expressions.

Access is granted by tag, not by table: a persona is granted what matches an expression such as
``dataset=orders AND zone IN (curated, analytics) AND sensitivity=general``, and a table or a
column is in or out of that grant by its tags. The keys:

* ``zone``: raw, curated or analytics, set on each database and inherited by its tables;
* ``domain`` and ``dataset``: set on each declared table, from its declaration;
* ``sensitivity``: ``general`` by default (set on the curated and analytics databases),
  ``pii-clear`` on the raw database (everything raw may hold personal data as it arrived),
  and on single columns of curated tables ``pii-hashed`` or ``pii-clear`` by the column's
  declared treatment. A column's tag overrides its table's, so a grant on
  ``sensitivity=general`` leaves out every personal-data column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_lakeformation as lakeformation
from constructs import Construct, IConstruct

from model.vocabulary import CATALOGUED_ZONES, DATASET, DOMAIN, SENSITIVITIES, SENSITIVITY, ZONE

Expression = Mapping[str, Sequence[str]]


class LakeFormationTags(Construct):
    """The four LF-Tag keys and their allowed values."""

    def __init__(
        self, scope: Construct, id: str, *, domains: Iterable[str], datasets: Iterable[str]
    ) -> None:
        """Create the tags.

        :param domains: every business domain a dataset declares.
        :param datasets: every dataset name.
        """
        super().__init__(scope, id)
        values = {
            ZONE: CATALOGUED_ZONES,
            DOMAIN: tuple(sorted(set(domains))),
            DATASET: tuple(sorted(set(datasets))),
            SENSITIVITY: SENSITIVITIES,
        }
        self.tags = {
            key: lakeformation.CfnTag(
                self, key.capitalize(), tag_key=key, tag_values=list(tag_values)
            )
            for key, tag_values in values.items()
        }


def grant_by_tags(
    scope: Construct,
    id: str,
    *,
    principal_arn: str,
    resource_type: str,
    expression: Expression,
    permissions: Sequence[str],
) -> lakeformation.CfnPrincipalPermissions:
    """Grant ``permissions`` on every DATABASE or TABLE whose tags match ``expression``."""
    if resource_type not in ("DATABASE", "TABLE"):
        raise ValueError(f"grant {id}: resource_type must be DATABASE or TABLE")
    account = cdk.Stack.of(scope).account
    return lakeformation.CfnPrincipalPermissions(
        scope,
        id,
        principal=lakeformation.CfnPrincipalPermissions.DataLakePrincipalProperty(
            data_lake_principal_identifier=principal_arn
        ),
        resource=lakeformation.CfnPrincipalPermissions.ResourceProperty(
            lf_tag_policy=lakeformation.CfnPrincipalPermissions.LFTagPolicyResourceProperty(
                catalog_id=account,
                resource_type=resource_type,
                expression=[
                    lakeformation.CfnPrincipalPermissions.LFTagProperty(
                        tag_key=key, tag_values=list(values)
                    )
                    for key, values in expression.items()
                ],
            )
        ),
        permissions=list(permissions),
        permissions_with_grant_option=[],
    )


def associate(
    scope: Construct,
    id: str,
    *,
    resource: lakeformation.CfnTagAssociation.ResourceProperty,
    tags: Mapping[str, str],
    after: Iterable[IConstruct] = (),
) -> lakeformation.CfnTagAssociation:
    """Attach one value of each key in ``tags`` to ``resource``, once it exists."""
    account = cdk.Stack.of(scope).account
    association = lakeformation.CfnTagAssociation(
        scope,
        id,
        resource=resource,
        lf_tags=[
            lakeformation.CfnTagAssociation.LFTagPairProperty(
                catalog_id=account, tag_key=key, tag_values=[value]
            )
            for key, value in tags.items()
        ],
    )
    for dependency in after:
        association.node.add_dependency(dependency)
    return association
