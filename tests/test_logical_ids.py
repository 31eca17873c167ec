"""Logical IDs of stateful resources are a contract: a changed ID replaces the resource.

A refactor that moves or renames the construct of a key, bucket, trail or log group would make
CloudFormation create a new one and orphan (or delete) the old one with its data. If this test
fails, keep the old ID (for example with ``override_logical_id``) rather than update the pin.
"""

from __future__ import annotations

from aws_cdk import assertions

from tests.conftest import built

PINNED = {
    "Storage": {
        # The personal-data key keeps the ID of the single data key it replaced, and with it
        # the key of every object already in landing and raw (docs/governance.md, "Keys").
        "DataKey17AFBB84": "AWS::KMS::Key",
        "CuratedDataKey8769BEF9": "AWS::KMS::Key",
        "OperationsKey2329F47A": "AWS::KMS::Key",
        "AuditLogsKeyA1E4E929": "AWS::KMS::Key",
        "AccessLogsBucket83982689": "AWS::S3::Bucket",
        "LandingBucket23FE90FB": "AWS::S3::Bucket",
        "RawBucket0C3EE094": "AWS::S3::Bucket",
        "CuratedBucket6A59C97E": "AWS::S3::Bucket",
        "AnalyticsBucket39EAAEEA": "AWS::S3::Bucket",
        "AthenaResultsBucket879938FA": "AWS::S3::Bucket",
        "AuditLogsBucketCBA431F7": "AWS::S3::Bucket",
        "PiiSaltE671AE69": "AWS::SecretsManager::Secret",
    },
    "Audit": {
        "AuditTrailC93518EF": "AWS::CloudTrail::Trail",
        "AuditTrailLogGroup28BB9333": "AWS::Logs::LogGroup",
    },
    "Governance": {},
    "Catalog": {
        "RawDatabase5F89E4EF": "AWS::Glue::Database",
        "CuratedDatabase264343C0": "AWS::Glue::Database",
        "AnalyticsDatabase2E61F938": "AWS::Glue::Database",
    },
    "Ingest": {"BatchIngestLogGroupB46FCB72": "AWS::Logs::LogGroup"},
    "Alerts": {},
    "Monitoring": {},
    "Delivery": {},
    # Every dataset stack: the same IDs in each, so the pins hold for datasets added later.
    "Dataset": {
        # The curated Iceberg table. (The Parquet table before it was CuratedTable25F9FEF1: a
        # Glue table cannot become an Iceberg table in place, see docs/processing.md,
        # "Upgrading a lake deployed with Parquet tables".)
        "CuratedTableFB8968DA": "AWS::Glue::Table",
        "PipelineLogsB6C63DF7": "AWS::Logs::LogGroup",
    },
    "Dataset-streaming": {"StreamIngestLogGroupB265E5B0": "AWS::Logs::LogGroup"},
}
STATEFUL_TYPES = {
    "AWS::KMS::Key",
    "AWS::S3::Bucket",
    "AWS::CloudTrail::Trail",
    "AWS::Logs::LogGroup",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::SecretsManager::Secret",
}


def test_stateful_resources_keep_their_logical_ids(env: str) -> None:
    for stack in built(env).stacks:
        template = assertions.Template.from_stack(stack).to_json()["Resources"]
        stateful = {lid: r["Type"] for lid, r in template.items() if r["Type"] in STATEFUL_TYPES}
        pin = stack.node.id.split("-")[0]
        expected = dict(PINNED[pin])
        if pin == "Dataset":
            dataset = stack.dataset  # type: ignore[attr-defined]
            if dataset.source.mode == "streaming":
                expected |= PINNED["Dataset-streaming"]
            # A mart's table: Mart-<name>/Table, so its ID is fixed by the mart's name.
            expected |= {
                mid: "AWS::Glue::Table"
                for mid in stateful
                if mid.startswith("Mart")
                and mid[4:-13] in {m.name.replace("_", "") for m in dataset.marts}
            }
        assert stateful == expected, stack.node.id


def test_stack_names_are_per_project_and_environment(env: str) -> None:
    names = {stack.node.id: stack.stack_name for stack in built(env).stacks}
    assert names == {
        "Storage": f"datalake-{env}-storage",
        "Audit": f"datalake-{env}-audit",
        "Governance": f"datalake-{env}-governance",
        "Catalog": f"datalake-{env}-catalog",
        "Ingest": f"datalake-{env}-ingest",
        "Alerts": f"datalake-{env}-alerts",
        "Monitoring": f"datalake-{env}-monitoring",
        "Delivery": f"datalake-{env}-delivery",
        "Dataset-clickstream": f"datalake-{env}-dataset-clickstream",
        "Dataset-orders": f"datalake-{env}-dataset-orders",
    }
