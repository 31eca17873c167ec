"""A zone's Glue database, tagged with its zone and the sensitivity its tables inherit."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_glue as glue
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.governance.lake_formation_tags import associate
from model.vocabulary import SENSITIVITY, ZONE, ZONE_SENSITIVITY

DESCRIPTIONS = {
    "raw": "Data as it arrived, one table per dataset, found by the dataset's crawler. May "
    "hold personal data in clear.",
    "curated": "Typed, deduplicated Apache Iceberg tables, one per dataset, declared "
    "from its declaration; personal data hashed or dropped as declared.",
    "analytics": "Aggregates and marts (Apache Iceberg tables) built from curated data.",
}


def zone_database(scope: Construct, *, zone: str, name: str, bucket: s3.IBucket) -> glue.Database:
    """Add ``<Zone>Database`` and its ``<Zone>DatabaseTags`` to ``scope``.

    The database is deleted with the stack in every environment: a database is only metadata
    (the data stays in its retained bucket), declared tables are recreated on deploy and
    crawlers rebuild raw tables, while a retained database would block the next deploy under
    the same name. New tables get no default permissions from it either, whatever the
    account's defaults were before the governance stack's settings. Its LF-Tags (``zone``, and
    the ``sensitivity`` its tables inherit) are what persona grants match.
    """
    database = glue.Database(
        scope,
        f"{zone.capitalize()}Database",
        database_name=name,
        description=DESCRIPTIONS[zone],
        location_uri=bucket.s3_url_for_object(),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    cfn_database = database.node.default_child
    assert isinstance(cfn_database, glue.CfnDatabase)
    cfn_database.add_property_override("DatabaseInput.CreateTableDefaultPermissions", [])
    associate(
        scope,
        f"{zone.capitalize()}DatabaseTags",
        resource=lakeformation.CfnTagAssociation.ResourceProperty(
            database=lakeformation.CfnTagAssociation.DatabaseResourceProperty(
                catalog_id=cdk.Stack.of(scope).account, name=database.database_name
            )
        ),
        tags={ZONE: zone, SENSITIVITY: ZONE_SENSITIVITY[zone]},
        after=[database],
    )
    return database
