"""The catalog: databases, the Glue security configuration, and each dataset's crawler and table."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import assertions

from model.datasets import Dataset
from model.iceberg import iceberg_type
from tests.conftest import built, only, resources, template

ZONES = ("raw", "curated", "analytics")


@pytest.fixture
def catalog(env: str) -> assertions.Template:
    return template(env, "Catalog")


def test_a_described_database_per_zone(catalog: assertions.Template, env: str) -> None:
    config = built(env).config
    databases = {
        r["Properties"]["DatabaseInput"]["Name"]: r["Properties"]["DatabaseInput"]
        for r in resources(catalog, "AWS::Glue::Database").values()
    }
    assert set(databases) == {config.database_name(zone) for zone in ZONES}
    for zone in ZONES:
        database = databases[config.database_name(zone)]
        assert len(database["Description"]) > 40
        assert "LocationUri" in database


def test_databases_never_block_a_redeploy(catalog: assertions.Template) -> None:
    """Fixed names, so they go with the stack; the data stays in the retained buckets."""
    for logical_id, database in resources(catalog, "AWS::Glue::Database").items():
        assert database["DeletionPolicy"] == "Delete", logical_id


def test_databases_give_new_tables_no_default_permissions(catalog: assertions.Template) -> None:
    """Not even IAMAllowedPrincipals, whatever the account's defaults were."""
    for logical_id, database in resources(catalog, "AWS::Glue::Database").items():
        assert database["Properties"]["DatabaseInput"]["CreateTableDefaultPermissions"] == [], (
            logical_id
        )


def output_name(value: Any) -> str:
    """The storage output a weak cross-stack reference (Fn::GetStackOutput) reads."""
    return str(value["Fn::GetStackOutput"]["OutputName"])


def test_the_security_configuration_encrypts_logs_and_bookmarks_with_the_operations_key(
    catalog: assertions.Template,
) -> None:
    encryption = only(catalog, "AWS::Glue::SecurityConfiguration")["EncryptionConfiguration"]
    assert encryption["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert encryption["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"
    keys = {
        output_name(encryption["CloudWatchEncryption"]["KmsKeyArn"]),
        output_name(encryption["JobBookmarksEncryption"]["KmsKeyArn"]),
    }
    assert keys == {"OperationsKeyArn"}


def test_glue_writes_to_s3_with_each_buckets_own_key(catalog: assertions.Template) -> None:
    """No key for S3 output: one would encrypt everything a job writes, in every bucket, so a
    curation job's quarantined rows in raw would not be under the personal-data key (or its
    curated table would be). Each bucket's default encryption applies instead."""
    encryption = only(catalog, "AWS::Glue::SecurityConfiguration")["EncryptionConfiguration"]
    assert encryption["S3Encryptions"] == [{"S3EncryptionMode": "DISABLED"}]


def test_the_security_configuration_has_a_new_name_for_its_new_key(
    catalog: assertions.Template, env: str
) -> None:
    """A security configuration is replaced, never updated; a replacement under the same
    name fails, so the name moved with the key (from datalake-<env>-glue)."""
    name = only(catalog, "AWS::Glue::SecurityConfiguration")["Name"]
    assert name == f"datalake-{env}-glue-operations"


def test_each_database_is_tagged_with_its_zone_and_default_sensitivity(
    catalog: assertions.Template,
) -> None:
    expected = {"raw": "pii-clear", "curated": "general", "analytics": "general"}
    found = {}
    for association in resources(catalog, "AWS::LakeFormation::TagAssociation").values():
        tags = {t["TagKey"]: t["TagValues"] for t in association["Properties"]["LFTags"]}
        found[tags["zone"][0]] = tags["sensitivity"][0]
    assert found == expected


def dataset_params() -> list[Any]:
    return [pytest.param(d, id=d.name) for d in built("sandbox").datasets]


@pytest.mark.parametrize("dataset", dataset_params())
def test_crawler_settings_are_deliberate(dataset: Dataset) -> None:
    blueprint = built("sandbox")
    tmpl = template("sandbox", f"Dataset-{dataset.name}")
    crawler = only(tmpl, "AWS::Glue::Crawler")
    assert crawler["Name"] == f"datalake-sandbox-{dataset.name}-raw"
    assert crawler["CrawlerSecurityConfiguration"] == blueprint.catalog.security_configuration.name
    assert crawler["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    assert crawler["LakeFormationConfiguration"]["UseLakeFormationCredentials"] is True
    assert "Schedule" not in crawler  # the dataset's pipeline starts it
    configuration = json.loads(crawler["Configuration"])
    # One table at the include path; a crawl that would make a second one fails.
    assert configuration["Grouping"] == {"TableGroupingPolicy": "CombineCompatibleSchemas"}
    assert configuration["CrawlerOutput"] == {
        "Partitions": {"AddOrUpdateBehavior": "InheritFromTable"},
        "Tables": {"TableThreshold": 1},
    }
    (target,) = crawler["Targets"]["S3Targets"]
    assert target["Path"]["Fn::Join"][1][-1] == f"/{dataset.name}/"
    classifiers = resources(tmpl, "AWS::Glue::Classifier")
    if dataset.source.format == "csv":
        (classifier,) = classifiers.values()
        csv = classifier["Properties"]["CsvClassifier"]
        assert csv["Delimiter"] == dataset.source.delimiter
        assert csv["ContainsHeader"] == "PRESENT"
        assert crawler["Classifiers"] == [csv["Name"]]
    else:
        assert classifiers == {}


@pytest.mark.parametrize("dataset", dataset_params())
def test_curated_table_is_declared_from_the_declaration(dataset: Dataset) -> None:
    """The Iceberg table's columns, comments and properties come from the declaration
    (tests/test_iceberg_tables.py checks the Iceberg shape itself: ids, partitions, format)."""
    tables = resources(template("sandbox", f"Dataset-{dataset.name}"), "AWS::Glue::Table")
    (curated,) = [t for lid, t in tables.items() if lid.startswith("CuratedTable")]
    assert curated["Properties"]["Name"] == dataset.name
    table = curated["Properties"]["OpenTableFormatInput"]["IcebergInput"]["IcebergTableInput"]
    columns = {c["Name"]: c for c in table["Schema"]["Fields"]}
    dropped = {c.name for c in dataset.columns if c.pii == "drop"}
    assert set(columns) == {c.name for c in dataset.table_columns} | {"ingest_date"}
    assert columns["ingest_date"]["Type"] == "date"  # lineage: the latest wins per key
    assert not dropped & set(columns)
    for column in dataset.table_columns:
        assert columns[column.name]["Type"] == iceberg_type(dataset.curated_type(column))
        doc = columns[column.name]["Doc"]
        assert doc.startswith(column.description)
        # A personal-data column says so, and how it is kept, where a reader looks.
        if column.pii == "hash":
            assert "Personal data: salted SHA-256 hash" in doc
        elif column.pii == "keep":
            assert "Personal data, in clear" in doc
        else:
            assert "Personal data" not in doc
    parameters = table["Properties"]
    assert parameters["comment"] == dataset.description
    assert parameters["data_owner"] == dataset.owner
    assert parameters["domain"] == dataset.domain
    assert parameters["data_classification"] == dataset.classification
    assert parameters["pii_columns"].split(",") == [c.name for c in dataset.table_columns if c.pii]
    assert {c.name for c in dataset.pii_columns if c.pii == "drop"} <= {
        t.split(":")[0] for t in parameters["pii_treatments"].split(",")
    }
    # Iceberg partitions by its own transforms: no partition projection, no Hive partitions.
    assert not any(key.startswith("projection.") for key in parameters)
    assert "PartitionKeys" not in json.dumps(curated)


@pytest.mark.parametrize("dataset", dataset_params())
def test_curated_table_and_personal_columns_carry_lf_tags(dataset: Dataset) -> None:
    tmpl = template("sandbox", f"Dataset-{dataset.name}")
    table_tags, column_tags = {}, {}
    for logical_id, association in resources(tmpl, "AWS::LakeFormation::TagAssociation").items():
        props = association["Properties"]
        tags = {t["TagKey"]: t["TagValues"][0] for t in props["LFTags"]}
        if "Table" in props["Resource"] and logical_id.startswith("CuratedTable"):
            table_tags = tags
        elif "Table" in props["Resource"]:
            continue  # a mart's table (tests/test_marts.py)
        else:
            for column in props["Resource"]["TableWithColumns"]["ColumnNames"]:
                column_tags[column] = tags
    assert table_tags == {"dataset": dataset.name, "domain": dataset.domain}
    expected = {"hash": "pii-hashed", "keep": "pii-clear"}
    assert column_tags == {
        c.name: {"sensitivity": expected[c.pii]} for c in dataset.table_columns if c.pii
    }
    # One association per column, named after it, so no change to one touches another.
    names = {lid for lid in resources(tmpl, "AWS::LakeFormation::TagAssociation")}
    for column in column_tags:
        assert any(
            lid.startswith(f"CuratedTableColumnTags{column.replace('_', '')}") for lid in names
        )
