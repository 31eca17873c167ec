"""What each persona can and cannot reach, proved from the synthesized templates.

The lake holds the two sample datasets, the documented example (payments) and a customers
dataset that keeps a personal-data column in clear and names only the scientist as reader, so
every treatment (keep, hash, drop) and reader rule is exercised.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from blueprint import compliance
from model import vocabulary
from model.datasets import Dataset
from tests.conftest import (
    CUSTOMERS,
    DATASETS,
    datasets_folder,
    docs_example_declaration,
    make_blueprint,
)
from tests.lake_model import Grant, LakeModel


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> LakeModel:
    folder = datasets_folder(
        tmp_path_factory.mktemp("datasets"),
        ("payments.toml", docs_example_declaration()),
        ("customers.toml", CUSTOMERS),
    )
    return LakeModel(make_blueprint("sandbox", datasets=str(folder)))


def zone_of(lake: LakeModel, database: str) -> str:
    return database.rsplit("_", 1)[1]


def curated_columns(
    lake: LakeModel, dataset: Dataset, *, pii: set[str | None]
) -> set[tuple[str, str, str]]:
    """The dataset's curated columns with the given treatments, and all its marts' columns."""
    config = lake.blueprint.config
    curated = {
        (config.database_name("curated"), dataset.name, c.name)
        for c in dataset.columns
        if c.pii in pii and c.pii != "drop"
    } | {(config.database_name("curated"), dataset.name, "ingest_date")}
    marts = {
        (config.database_name("analytics"), mart.name, column.name)
        for mart in dataset.marts
        for column in mart.columns
    }
    return curated | marts


def test_the_model_sees_every_declared_table(lake: LakeModel) -> None:
    names = {d.name for d in lake.blueprint.datasets}
    assert names == {"orders", "clickstream", "payments", "customers"}
    marts = {m.name for d in lake.blueprint.datasets for m in d.marts}
    assert marts  # the orders sample declares one
    assert {name for (_, name) in lake.tables} == names | marts
    assert len(lake.tables) == 2 * len(names) + len(marts)  # raw, curated, analytics


def test_analyst_reads_no_personal_data_and_nothing_raw(lake: LakeModel) -> None:
    readable = lake.selectable("analyst")
    assert readable, "the analyst should read something"
    for database, table, column in readable:
        assert zone_of(lake, database) in ("curated", "analytics"), (database, table)
        dataset_name = lake.tables[(database, table)].tags["dataset"]
        dataset = next(d for d in lake.blueprint.datasets if d.name == dataset_name)
        if zone_of(lake, database) == "curated" and column != "ingest_date":
            assert dataset.column(column).pii is None, f"analyst reads PII {table}.{column}"
        else:  # marts hold no personal-data column (the declaration check refuses one)
            assert column not in {c.name for c in dataset.pii_columns}


def test_analyst_reads_every_general_column_of_the_datasets_naming_it(lake: LakeModel) -> None:
    expected = set()
    for dataset in lake.blueprint.datasets:
        if "analyst" in dataset.readers:
            expected |= curated_columns(lake, dataset, pii={None})
    assert lake.selectable("analyst") == expected
    assert not any(t == "customers" for _, t, _ in expected)  # it is not a reader there


def test_scientist_reads_personal_data_only_hashed(lake: LakeModel) -> None:
    expected = set()
    for dataset in lake.blueprint.datasets:
        if "scientist" in dataset.readers:
            expected |= curated_columns(lake, dataset, pii={None, "hash"})
    readable = lake.selectable("scientist")
    assert readable == expected
    customers = lake.blueprint.config.database_name("curated"), "customers"
    assert (*customers, "email") in readable  # hashed
    assert (*customers, "full_name") not in readable  # kept in clear: never
    assert not any(zone_of(lake, db) == "raw" for db, _, _ in readable)


def test_engineer_reads_every_zone_including_personal_data(lake: LakeModel) -> None:
    everything = {
        (table.database, table.name, column)
        for table in lake.tables.values()
        for column in table.columns
    }
    assert lake.selectable("engineer") == everything


def test_security_officer_reads_no_table_data_but_every_definition(lake: LakeModel) -> None:
    assert lake.selectable("security_officer") == set()
    assert lake.describable_tables("security_officer") == set(lake.tables)
    assert lake.describable_databases("security_officer") == {
        lake.blueprint.config.database_name(zone) for zone in ("raw", "curated", "analytics")
    }


@pytest.mark.parametrize("persona", ["analyst", "scientist"])
def test_readers_see_no_raw_database(lake: LakeModel, persona: str) -> None:
    config = lake.blueprint.config
    assert lake.describable_databases(persona) == {
        config.database_name("curated"),
        config.database_name("analytics"),
    }


@pytest.mark.parametrize("persona", ["analyst", "scientist", "security_officer", "engineer"])
def test_persona_grants_are_all_tag_expressions(lake: LakeModel, persona: str) -> None:
    """So the model above sees every grant a persona has: none is on a named resource."""
    role = lake.role(persona)
    assert not [g for g in lake.named_grants if g[0] == role]
    assert [g for g in lake.grants if g.principal == role]


@pytest.mark.parametrize("persona", ["analyst", "scientist"])
def test_readers_reach_data_only_through_lake_formation(lake: LakeModel, persona: str) -> None:
    statements = lake.iam_statements(persona)
    assert "lakeformation:GetDataAccess" in [a for s in statements for a in _actions(s)]
    direct = [s for s in statements if any(a.startswith(("s3:", "kms:")) for a in _actions(s))]
    # Only their own Athena query results: written and read under their own prefix.
    assert direct
    assert all(_own_query_results(s, persona) for s in direct), persona


def _own_query_results(statement: dict[str, Any], persona: str) -> bool:
    """Whether a statement reaches only ``persona``'s prefix of the Athena results bucket
    (and the curated key that encrypts the results there, through S3 only)."""
    resources = statement["Resource"]
    actions = set(_actions(statement))
    for resource in resources if isinstance(resources, list) else [resources]:
        text = json.dumps(resource)
        if "AthenaResultsBucketArn" in text:
            if "Fn::Join" in resource:
                if not resource["Fn::Join"][1][-1].endswith(f"-{persona}/*"):
                    return False
            elif "s3:ListBucket" in actions:
                prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
                if not all(f"-{persona}/" in p for p in prefixes):
                    return False
            elif not actions <= {"s3:GetBucketLocation", "s3:ListBucketMultipartUploads"}:
                return False
        elif '"CuratedDataKeyArn"' in text:
            if not actions <= {"kms:GenerateDataKey", "kms:Decrypt"}:
                return False
            if "kms:ViaService" not in json.dumps(statement.get("Condition")):
                return False
        else:
            return False
    return True


def test_engineer_reads_landing_and_quarantine_directly_the_rest_through_lake_formation(
    lake: LakeModel,
) -> None:
    statements = lake.iam_statements("engineer")
    assert "lakeformation:GetDataAccess" in [a for s in statements for a in _actions(s)]
    storage = lake.templates["Storage"]["Resources"]
    direct = [s for s in statements if any(a.startswith(("s3:", "kms:")) for a in _actions(s))
              and not _own_query_results(s, "engineer")
              and not s.get("Sid", "").startswith("Erasure")]  # fmt: skip
    assert direct
    for statement in direct:
        assert set(_actions(statement)) <= {
            "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:GetObjectVersion",
            "s3:GetObjectTagging", "kms:Decrypt",
        }  # fmt: skip
        targets = statement["Resource"]
        for target in targets if isinstance(targets, list) else [targets]:
            logical_id = _referenced(target)
            assert storage[logical_id]["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key")
            if logical_id.startswith("RawBucket"):
                # In raw, only quarantined files: never the data the grants protect.
                if "Fn::Join" in target:
                    assert target["Fn::Join"][1][-1] == "/_quarantine/*"
                else:
                    assert statement["Condition"] == {
                        "StringLike": {"s3:prefix": ["_quarantine/*"]}
                    }
            else:
                assert logical_id.startswith(("LandingBucket", "DataKey")), logical_id
            if logical_id.startswith("DataKey"):
                # The personal-data key also encrypts the salt: decrypt through S3 only.
                via = statement["Condition"]["StringEquals"]["kms:ViaService"]
                assert "s3." in json.dumps(via)


def _erasure_statements(lake: LakeModel, persona: str) -> dict[str, dict[str, Any]]:
    statements = lake.iam_statements(persona)
    return {s["Sid"]: s for s in statements if s.get("Sid", "").startswith("Erasure")}


def _object_path(resource: Any) -> tuple[str, str]:
    """(output name, path) of ``Fn::Join ["", [{Fn::GetStackOutput ...}, "/<path>"]]``."""
    first, path = resource["Fn::Join"][1]
    return first["Fn::GetStackOutput"]["OutputName"], path


def test_engineer_runs_erasures_through_requests_and_records_only(lake: LakeModel) -> None:
    """The engineer's erasure duty: start and follow the forget jobs, list the pipelines'
    runs, write, read and delete the requests in raw (personal-data key through S3), read the
    records in the audit bucket (audit key through S3, for objects under erasure/ only)."""
    found = _erasure_statements(lake, "engineer")
    assert {sid: sorted(_actions(s)) for sid, s in found.items()} == {
        "ErasureRuns": ["glue:GetJob", "glue:GetJobRun", "glue:GetJobRuns", "glue:StartJobRun"],
        "ErasurePipelineRuns": ["states:ListExecutions"],
        "ErasureRequests": ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject",
                            "s3:PutObject"],
        "ErasureRequestList": ["s3:ListBucket", "s3:ListBucketVersions"],
        "ErasureRequestKey": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        "ErasureRecords": ["s3:GetObject"],
        "ErasureRecordList": ["s3:ListBucket"],
        "ErasureRecordKey": ["kms:Decrypt"],
    }  # fmt: skip
    jobs = found["ErasureRuns"]["Resource"]
    assert isinstance(jobs, dict)  # one ARN: the pattern of this environment's forget jobs
    assert json.dumps(jobs).endswith(':job/datalake-sandbox-*-forget"]]}')
    # The command refuses while a pipeline runs: it lists their runs, and may do nothing else.
    pipelines = json.dumps(found["ErasurePipelineRuns"]["Resource"])
    assert pipelines.endswith(':stateMachine:datalake-sandbox-*-pipeline"]]}')
    assert _object_path(found["ErasureRequests"]["Resource"]) == (
        "RawBucketArn", "/_erasure/requests/*"
    )  # fmt: skip
    assert found["ErasureRequestList"]["Condition"] == {
        "StringLike": {"s3:prefix": ["_erasure/requests/*"]}
    }
    assert "RawBucketArn" in json.dumps(found["ErasureRequestList"]["Resource"])
    assert "PersonalDataKeyArn" in json.dumps(found["ErasureRequestKey"]["Resource"])
    assert "kms:ViaService" in found["ErasureRequestKey"]["Condition"]["StringEquals"]
    records = ("AuditLogsBucketArn", "/erasure/*")
    assert _object_path(found["ErasureRecords"]["Resource"]) == records
    assert found["ErasureRecordList"]["Condition"] == {"StringLike": {"s3:prefix": ["erasure/*"]}}
    key = found["ErasureRecordKey"]
    assert "AuditLogsKeyArn" in json.dumps(key["Resource"])
    assert "kms:ViaService" in key["Condition"]["StringEquals"]
    assert _object_path(key["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"]) == (
        records
    )


@pytest.mark.parametrize("persona", ["analyst", "scientist", "security_officer"])
def test_nobody_else_runs_erasures(lake: LakeModel, persona: str) -> None:
    """No other persona starts an erasure job or touches a request; the security officer
    reads the records with the rest of the audit bucket (its audit review)."""
    assert _erasure_statements(lake, persona) == {}
    text = json.dumps(lake.iam_statements(persona))
    assert "forget" not in text
    assert "_erasure" not in text
    assert not [a for s in lake.iam_statements(persona) for a in _actions(s)
                if a.startswith("glue:") and "Job" in a]  # fmt: skip


def test_security_officer_reads_audit_records_but_gets_no_data_credentials(
    lake: LakeModel,
) -> None:
    statements = lake.iam_statements("security_officer")
    actions = [a for s in statements for a in _actions(s)]
    assert "lakeformation:GetDataAccess" not in actions
    assert "cloudtrail:LookupEvents" in actions
    storage = lake.templates["Storage"]["Resources"]
    for statement in statements:
        for action in _actions(statement):
            if action.startswith(("s3:", "kms:")):
                resources = statement["Resource"]
                resources = resources if isinstance(resources, list) else [resources]
                for resource in resources:
                    logical_id = _referenced(resource)
                    assert logical_id.startswith("AuditLogs"), (action, resource)
                    assert storage[logical_id]["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key")


def _actions(statement: dict) -> list[str]:  # type: ignore[type-arg]
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def _referenced(resource: object) -> str:
    """The logical ID an ARN expression is built on."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return str(resource["Fn::GetAtt"][0])
    if isinstance(resource, dict) and "Fn::Join" in resource:
        return next(_referenced(part) for part in resource["Fn::Join"][1] if isinstance(part, dict))
    raise AssertionError(f"unexpected resource {resource}")


def test_a_grant_of_all_counts_as_select(lake: LakeModel) -> None:
    """The model treats ALL as every permission, as Lake Formation does."""
    analyst = lake.role("analyst")
    extra = Grant(analyst, "TABLE", {"zone": ["raw"]}, ["ALL"])
    lake.grants.append(extra)
    try:
        assert any(db.endswith("_raw") for db, _, _ in lake.selectable("analyst"))
    finally:
        lake.grants.remove(extra)


def test_a_persona_reaches_nothing_without_its_grants(lake: LakeModel) -> None:
    """The model is not vacuous: drop the analyst's grants and it reads nothing."""
    analyst = lake.role("analyst")
    kept = lake.grants
    lake.grants = [g for g in kept if g.principal != analyst]
    try:
        assert lake.selectable("analyst") == set()
    finally:
        lake.grants = kept


def test_crawlers_may_create_tables_only_in_raw(lake: LakeModel) -> None:
    raw = lake.blueprint.config.database_name("raw")
    for stack_id, _, props in lake._resources("AWS::LakeFormation::PrincipalPermissions"):
        database = props["Resource"].get("Database")
        if database is None:
            continue
        assert lake.database_name(stack_id, database["Name"]) == raw
        assert set(props["Permissions"]) == {"CREATE_TABLE", "DESCRIBE"}
        assert stack_id.startswith("Dataset-")


def test_a_persona_added_to_the_table_reaches_what_its_entry_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Adding a persona is one entry in model.vocabulary.PERSONAS: every stack and the
    declaration check read the table, so the new persona gets its role, its grants, its
    workgroup and the saved queries, and the packs still pass."""
    steward = vocabulary.Persona(
        name="data_steward",
        title="data steward",
        zones=("curated",),
        reads_data=True,
        reads_every_dataset=False,
        sensitivities=(vocabulary.GENERAL,),
    )
    table = vocabulary.PERSONAS
    for module in list(sys.modules.values()):  # every module that reads the table
        if getattr(module, "PERSONAS", None) is table:
            monkeypatch.setattr(module, "PERSONAS", (*table, steward))
    orders = (DATASETS / "orders.toml").read_text()
    assert 'readers = ["analyst", "scientist"]' in orders
    folder = datasets_folder(tmp_path)
    (folder / "orders.toml").write_text(
        orders.replace('readers = ["analyst", "scientist"]', 'readers = ["data_steward"]')
    )
    blueprint = make_blueprint("sandbox", datasets=str(folder))

    role = blueprint.governance.personas["data_steward"]
    assert role.node.id == "DataStewardRole"
    lake = LakeModel(blueprint)
    curated = blueprint.config.database_name("curated")
    selectable = lake.selectable("data_steward")
    orders_columns = {c for (db, table, c) in selectable if (db, table) == (curated, "orders")}
    general = {c.name for c in blueprint.datasets[1].columns if not c.pii} | {"ingest_date"}
    assert blueprint.datasets[1].name == "orders"
    assert orders_columns == general  # no personal data, even hashed
    assert {table for (_, table, _) in selectable} == {"orders"}  # no mart: analytics not its
    assert lake.describable_databases("data_steward") == {curated}
    workgroups = template_of(blueprint, "Delivery").find_resources("AWS::Athena::WorkGroup")
    assert "datalake-sandbox-data_steward" in {w["Properties"]["Name"] for w in workgroups.values()}
    queries = template_of(blueprint, "Dataset-orders").find_resources("AWS::Athena::NamedQuery")
    assert {q["Properties"]["WorkGroup"] for q in queries.values()} == {
        "datalake-sandbox-data_steward",
        "datalake-sandbox-engineer",
    }
    for pack in compliance.nag_packs():
        report = pack.validate_scope(blueprint.app)
        assert report.success, [v.rule_name for v in report.violations]


def template_of(blueprint: Any, stack_id: str) -> assertions.Template:
    stack = next(s for s in blueprint.stacks if s.node.id == stack_id)
    return assertions.Template.from_stack(stack)
