"""Adapters for the catalog and its governance: Glue, Lake Formation and Athena.

Each maps the CloudFormation properties to the API call CloudFormation's resource handler
makes (the property names are the API's, with a few renames noted where they occur). Glue's
classifiers, data quality rulesets and table optimizers have no API in moto: they are not
rehearsed, and the report says so.
"""

from __future__ import annotations

import json
from typing import Any

from deploy.adapters import Adapter, adapter


def _without(props: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in props.items() if key not in keys}


@adapter("AWS::Glue::Database", "glue")
class GlueDatabase(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        api.create_database(**props)
        return props["DatabaseInput"]["Name"], {}

    def remove(self, api: Any) -> None:
        api.delete_database(Name=self.physical_id)


@adapter("AWS::Glue::Table", "glue")
class GlueTable(Adapter):
    """A table named at the top (``Name``, with ``OpenTableFormatInput`` for Iceberg) or in
    ``TableInput``; its physical id is ``database|table``, as CloudFormation's."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        table = props.get("Name") or props["TableInput"]["Name"]
        iceberg = props.get("OpenTableFormatInput", {}).get("IcebergInput")
        if iceberg and "IcebergTableInput" in iceberg:  # the API's CreateIcebergTableInput
            iceberg = {**iceberg, "CreateIcebergTableInput": iceberg["IcebergTableInput"]}
            del iceberg["IcebergTableInput"]
            props = {
                **props,
                "OpenTableFormatInput": {"IcebergInput": iceberg},
                "TableInput": _iceberg_table_input(table, iceberg["CreateIcebergTableInput"]),
            }
        api.create_table(**props)
        return f"{props['DatabaseName']}|{table}", {}

    def remove(self, api: Any) -> None:
        database, _, table = self.physical_id.partition("|")
        api.delete_table(DatabaseName=database, Name=table)


def _iceberg_table_input(name: str, iceberg: dict[str, Any]) -> dict[str, Any]:
    """moto's CreateTable requires ``TableInput``, which AWS no longer does for an Iceberg
    table: the table's name, location and columns are given there too, so that GetTable
    answers with them."""
    columns = [
        {"Name": f["Name"], "Type": str(f["Type"])}
        for f in iceberg.get("Schema", {}).get("Fields", [])
    ]
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"table_type": "ICEBERG"},
        "StorageDescriptor": {"Location": iceberg["Location"], "Columns": columns},
    }


@adapter("AWS::Glue::Job", "glue")
class GlueJob(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        job = props.get("Name") or name
        api.create_job(**{**props, "Name": job})
        return job, {}

    def remove(self, api: Any) -> None:
        api.delete_job(JobName=self.physical_id)


@adapter("AWS::Glue::Crawler", "glue")
class GlueCrawler(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        crawler = props.get("Name") or name
        api.create_crawler(**{**props, "Name": crawler})
        return crawler, {}

    def remove(self, api: Any) -> None:
        api.delete_crawler(Name=self.physical_id)


@adapter("AWS::Glue::SecurityConfiguration", "glue")
class GlueSecurityConfiguration(Adapter):
    """CloudFormation's ``S3Encryptions`` is the API's ``S3Encryption``."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        encryption = dict(props["EncryptionConfiguration"])
        if "S3Encryptions" in encryption:
            encryption["S3Encryption"] = encryption.pop("S3Encryptions")
        api.create_security_configuration(Name=props["Name"], EncryptionConfiguration=encryption)
        return props["Name"], {}

    def remove(self, api: Any) -> None:
        api.delete_security_configuration(Name=self.physical_id)


@adapter("AWS::LakeFormation::DataLakeSettings", "lakeformation")
class DataLakeSettings(Adapter):
    """``MutationType: APPEND`` adds the template's admins to the account's (otherwise the
    template's list replaces them). Deleting the stack leaves the admins in place, as APPEND
    does in AWS (the README's "what is kept")."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        current = api.get_data_lake_settings()["DataLakeSettings"]
        admins = list(props.get("Admins", []))
        if props.get("MutationType") == "APPEND":
            held = list(current.get("DataLakeAdmins", []))
            admins = held + [a for a in admins if a not in held]
        settings = {**current, "DataLakeAdmins": admins}
        for key in (
            "CreateDatabaseDefaultPermissions",
            "CreateTableDefaultPermissions",
            "ReadOnlyAdmins",
            "Parameters",
            "TrustedResourceOwners",
        ):
            if key in props:
                settings[key] = props[key]
        api.put_data_lake_settings(DataLakeSettings=settings)
        return f"{name}-settings", {}

    def remove(self, api: Any) -> None:
        return None


@adapter("AWS::LakeFormation::Resource", "lakeformation")
class LakeFormationResource(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        api.register_resource(**props)
        return props["ResourceArn"], {}

    def remove(self, api: Any) -> None:
        api.deregister_resource(ResourceArn=self.physical_id)


@adapter("AWS::LakeFormation::Tag", "lakeformation")
class LakeFormationTag(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        api.create_lf_tag(**props)
        return props["TagKey"], {}

    def remove(self, api: Any) -> None:
        api.delete_lf_tag(TagKey=self.physical_id)


@adapter("AWS::LakeFormation::TagAssociation", "lakeformation")
class LakeFormationTagAssociation(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        answer = api.add_lf_tags_to_resource(Resource=props["Resource"], LFTags=props["LFTags"])
        if answer.get("Failures"):
            raise ValueError(f"LF-Tags not attached: {answer['Failures']}")
        return json.dumps(props["Resource"], sort_keys=True), {}

    def remove(self, api: Any) -> None:
        api.remove_lf_tags_from_resource(
            Resource=self.props["Resource"], LFTags=self.props["LFTags"]
        )


@adapter("AWS::LakeFormation::PrincipalPermissions", "lakeformation")
class PrincipalPermissions(Adapter):
    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        api.grant_permissions(**props)
        return json.dumps([props["Principal"], props["Resource"]], sort_keys=True), {}

    def remove(self, api: Any) -> None:
        api.revoke_permissions(**self.props)


@adapter("AWS::Athena::WorkGroup", "athena")
class AthenaWorkGroup(Adapter):
    """``WorkGroupConfiguration`` is the API's ``Configuration``. ``State`` and
    ``RecursiveDeleteOption`` have no place in CreateWorkGroup: the second is used on delete."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        call = _without(props, "WorkGroupConfiguration", "State", "RecursiveDeleteOption")
        if "WorkGroupConfiguration" in props:
            call["Configuration"] = props["WorkGroupConfiguration"]
        api.create_work_group(**call)
        return props["Name"], {}

    def remove(self, api: Any) -> None:
        api.delete_work_group(
            WorkGroup=self.physical_id,
            RecursiveDeleteOption=bool(self.props.get("RecursiveDeleteOption")),
        )


@adapter("AWS::Athena::NamedQuery", "athena")
class AthenaNamedQuery(Adapter):
    """moto has no DeleteNamedQuery: a destroy leaves the query in the emulator (AWS deletes
    it, and a workgroup deleted recursively takes its queries with it)."""

    @classmethod
    def make(cls, api: Any, props: dict[str, Any], name: str) -> tuple[str, dict[str, str]]:
        return api.create_named_query(**props)["NamedQueryId"], {}

    def remove(self, api: Any) -> None:
        return None
