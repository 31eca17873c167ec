"""Table maintenance: Glue's three optimizers on every Iceberg table, with a role that reaches
only the dataset's tables."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import ArnFormat, Stack

from cdk_constructs.catalog.table_maintenance import LOG_GROUPS
from stacks.dataset_stack import DatasetStack
from tests.conftest import built, resources, template

OPTIMIZERS = {"compaction", "retention", "orphan_file_deletion"}


def maintained(stack: DatasetStack) -> dict[tuple[str, str], Any]:
    """The stack's Iceberg tables, by (resolved database name as JSON, table name)."""
    tables = [stack.curated_table, *stack.marts]
    return {
        (json.dumps(stack.resolve(t.database_name), sort_keys=True), t.maintained.name): t
        for t in tables
    }


def test_every_curated_and_mart_table_has_the_three_optimizers_with_the_settings(
    env: str,
) -> None:
    blueprint = built(env)
    settings = blueprint.config.table_maintenance
    assert blueprint.dataset_stacks
    for name, stack in blueprint.dataset_stacks.items():
        tmpl = template(env, f"Dataset-{name}")
        (role_id,) = [lid for lid in resources(tmpl, "AWS::IAM::Role")
                      if lid.startswith("TableMaintenanceRole")]  # fmt: skip
        tables = maintained(stack)
        assert len(tables) == 1 + len(stack.dataset.marts)
        found: dict[tuple[str, str], set[str]] = {key: set() for key in tables}
        for optimizer in resources(tmpl, "AWS::Glue::TableOptimizer").values():
            props = optimizer["Properties"]
            key = (json.dumps(props["DatabaseName"], sort_keys=True), props["TableName"])
            assert key in tables, key
            found[key].add(props["Type"])
            # Created after its table, and after the role's permissions.
            table_id = stack.resolve(tables[key].table.logical_id)
            assert table_id in optimizer["DependsOn"]
            assert any(d.startswith("TableMaintenanceRolePolicy") for d in optimizer["DependsOn"])
            assert any(d.startswith("TableMaintenanceTableAccess") for d in optimizer["DependsOn"])
            config = props["TableOptimizerConfiguration"]
            assert config["Enabled"] is True
            assert config["RoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
            if props["Type"] == "compaction":
                assert config["CompactionConfiguration"]["IcebergConfiguration"] == {
                    "Strategy": "binpack"
                }
            elif props["Type"] == "retention":
                assert config["RetentionConfiguration"]["IcebergConfiguration"] == {
                    "SnapshotRetentionPeriodInDays": settings.snapshot_retention_days,
                    "NumberOfSnapshotsToRetain": settings.snapshots_to_retain,
                    "CleanExpiredFiles": True,
                }
            else:
                assert config["OrphanFileDeletionConfiguration"]["IcebergConfiguration"] == {
                    "OrphanFileRetentionPeriodInDays": settings.orphan_file_retention_days
                }
        assert found == {key: OPTIMIZERS for key in tables}, name


def test_the_environments_keep_snapshots_for_different_lengths() -> None:
    """The settings reach the template: prod keeps history longer than the sandbox."""
    days = {}
    for env in ("sandbox", "prod"):
        tmpl = template(env, "Dataset-orders")
        days[env] = {
            o["Properties"]["TableOptimizerConfiguration"]["RetentionConfiguration"][
                "IcebergConfiguration"
            ]["SnapshotRetentionPeriodInDays"]
            for o in resources(tmpl, "AWS::Glue::TableOptimizer").values()
            if o["Properties"]["Type"] == "retention"
        }
    (sandbox,), (prod,) = days["sandbox"], days["prod"]
    assert sandbox < prod


def test_the_role_is_glues_in_this_account_only(env: str) -> None:
    for name in built(env).dataset_stacks:
        roles = resources(template(env, f"Dataset-{name}"), "AWS::IAM::Role")
        (role,) = [r for lid, r in roles.items() if lid.startswith("TableMaintenanceRole")]
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "glue.amazonaws.com"}
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        }


def _statements(env: str, name: str) -> list[dict[str, Any]]:
    policies = resources(template(env, f"Dataset-{name}"), "AWS::IAM::ManagedPolicy")
    (policy,) = [p for lid, p in policies.items() if lid.startswith("TableMaintenanceRolePolicy")]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_role_reaches_only_the_datasets_tables(env: str) -> None:
    """S3: the tables' folders (and their buckets, for listing); Glue: those tables, their
    databases and the catalog; KMS: the curated key; Logs: the optimizers' three log groups;
    the only unscoped action is Lake Formation's GetDataAccess."""
    blueprint = built(env)
    for name, stack in blueprint.dataset_stacks.items():
        tables = [stack.curated_table.maintained, *(m.maintained for m in stack.marts)]

        def arn(stack: Stack = stack, **parts: Any) -> str:
            return json.dumps(stack.resolve(stack.format_arn(**parts)), sort_keys=True)

        folders = {json.dumps(stack.resolve(t.bucket.arn_for_objects(f"{t.prefix}*")),
                              sort_keys=True) for t in tables}  # fmt: skip
        buckets = {json.dumps(stack.resolve(t.bucket.bucket_arn), sort_keys=True)
                   for t in tables}  # fmt: skip
        glue = {arn(service="glue", resource="catalog")}
        for t in tables:
            glue.add(arn(service="glue", resource="database", resource_name=t.database_name))
            glue.add(arn(service="glue", resource="table",
                         resource_name=f"{t.database_name}/{t.name}"))  # fmt: skip
        logs = {arn(service="logs", resource="log-group", resource_name=f"{group}:*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME) for group in LOG_GROUPS}  # fmt: skip
        reached: dict[str, set[str]] = {"s3": set(), "glue": set(), "kms": set(), "logs": set()}
        for statement in _statements(env, name):
            assert statement["Effect"] == "Allow"
            actions = _as_list(statement["Action"])
            services = {a.split(":")[0] for a in actions}
            assert len(services) == 1, actions
            (service,) = services
            found = {json.dumps(r, sort_keys=True) for r in _as_list(statement["Resource"])}
            if service == "lakeformation":
                assert actions == ["lakeformation:GetDataAccess"]
                assert found == {'"*"'}
                continue
            assert '"*"' not in found, statement
            reached[service] |= found
        assert reached["s3"] == folders | buckets, name
        # Every object the role may touch is under one of the tables' folders.
        assert len(folders) == len(tables)
        assert reached["glue"] == glue, name
        (key,) = reached["kms"]
        # The curated key, borrowed from the storage stack: never the personal-data key.
        assert '"CuratedDataKeyArn"' in key
        assert reached["logs"] == logs, name
        assert {g.split("/")[2] for g in LOG_GROUPS} == {
            "iceberg-compaction",
            "iceberg-retention",
            "iceberg-orphan-file-deletion",
        }


def test_lake_formation_grants_the_optimizers_the_datasets_tables_only(env: str) -> None:
    for name, stack in built(env).dataset_stacks.items():
        grants = resources(
            template(env, f"Dataset-{name}"), "AWS::LakeFormation::PrincipalPermissions"
        )
        (grant,) = [g for lid, g in grants.items() if lid.startswith("TableMaintenanceTableAccess")]
        props = grant["Properties"]
        policy = props["Resource"]["LFTagPolicy"]
        assert policy["ResourceType"] == "TABLE"
        zones = ["analytics", "curated"] if stack.dataset.marts else ["curated"]
        assert {e["TagKey"]: e["TagValues"] for e in policy["Expression"]} == {
            "zone": zones,
            "dataset": [name],
        }
        # What AWS documents for optimizers on Lake Formation tables, and the read compaction
        # needs; never a grant option.
        assert set(props["Permissions"]) == {"ALTER", "DESCRIBE", "INSERT", "DELETE", "SELECT"}
        assert props["PermissionsWithGrantOption"] == []
