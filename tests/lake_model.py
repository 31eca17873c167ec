"""What each principal can reach, derived from the synthesized templates alone.

The model reads the Glue databases and tables, the Lake Formation tag associations and the
tag-expression grants of every stack, follows cross-stack references through the producing
stack's outputs, and answers: which columns may this role SELECT, which databases and tables
may it DESCRIBE. It applies Lake Formation's rules for tag-based access: a table inherits its
database's tags, a column its table's, and a tag set lower down overrides the same key above;
a grant matches a resource when, for every key of the expression, the resource's value is one
of the listed values.

Raw tables are made by crawlers at run time, so the model adds one per dataset with all its
declared columns, tagged as the raw database is.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import assertions

from blueprint.factory import Blueprint

Ref = tuple[str, str]  # (stack id, logical id)


@dataclass
class Table:
    database: str
    name: str
    columns: list[str]
    tags: dict[str, str] = field(default_factory=dict)
    column_tags: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class Grant:
    principal: Ref
    resource_type: str
    expression: dict[str, list[str]]
    permissions: list[str]


class LakeModel:
    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.templates = {
            stack.node.id: assertions.Template.from_stack(stack).to_json()
            for stack in blueprint.stacks
        }
        self.stack_ids = {stack.stack_name: stack.node.id for stack in blueprint.stacks}
        self.database_names: dict[Ref, str] = {}
        self.database_tags: dict[str, dict[str, str]] = defaultdict(dict)
        self.tables: dict[tuple[str, str], Table] = {}
        self.grants: list[Grant] = []
        self.named_grants: list[tuple[Any, dict[str, Any], list[str]]] = []
        self._read()

    # -- references ------------------------------------------------------------------------

    def resolve(self, stack_id: str, value: Any) -> Any:
        """Follow Fn::GetStackOutput to the producing stack, and return (stack, logical id)
        for Ref and Fn::GetAtt; anything else unchanged."""
        if isinstance(value, dict) and "Fn::GetStackOutput" in value:
            reference = value["Fn::GetStackOutput"]
            producer = self.stack_ids[reference["StackName"]]
            output = self.templates[producer]["Outputs"][reference["OutputName"]]["Value"]
            return self.resolve(producer, output)
        if isinstance(value, dict) and "Ref" in value:
            return (stack_id, value["Ref"])
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return (stack_id, value["Fn::GetAtt"][0])
        return value

    def _resources(self, type_: str) -> list[tuple[str, str, dict[str, Any]]]:
        return [
            (stack_id, logical_id, resource.get("Properties", {}))
            for stack_id, template in self.templates.items()
            for logical_id, resource in template["Resources"].items()
            if resource["Type"] == type_
        ]

    def database_name(self, stack_id: str, value: Any) -> str:
        resolved = self.resolve(stack_id, value)
        return self.database_names[resolved] if isinstance(resolved, tuple) else str(resolved)

    # -- reading the templates ---------------------------------------------------------------

    def _read(self) -> None:
        for stack_id, logical_id, props in self._resources("AWS::Glue::Database"):
            self.database_names[(stack_id, logical_id)] = props["DatabaseInput"]["Name"]
        for stack_id, _, props in self._resources("AWS::Glue::Table"):
            # Every declared table is Iceberg: its columns are its Iceberg schema's fields.
            database = self.database_name(stack_id, props["DatabaseName"])
            iceberg = props["OpenTableFormatInput"]["IcebergInput"]["IcebergTableInput"]
            columns = [f["Name"] for f in iceberg["Schema"]["Fields"]]
            self.tables[(database, props["Name"])] = Table(database, props["Name"], columns)
        raw = self.blueprint.config.database_name("raw")
        for dataset in self.blueprint.datasets:
            self.tables[(raw, dataset.name)] = Table(
                raw, dataset.name, [c.name for c in dataset.columns]
            )
        for stack_id, _, props in self._resources("AWS::LakeFormation::TagAssociation"):
            tags = {t["TagKey"]: t["TagValues"][0] for t in props["LFTags"]}
            assert all(len(t["TagValues"]) == 1 for t in props["LFTags"])
            resource = props["Resource"]
            if "Database" in resource:
                self.database_tags[self.database_name(stack_id, resource["Database"]["Name"])] |= (
                    tags
                )
            elif "Table" in resource:
                target = resource["Table"]
                key = (self.database_name(stack_id, target["DatabaseName"]), target["Name"])
                self.tables[key].tags |= tags
            else:
                target = resource["TableWithColumns"]
                key = (self.database_name(stack_id, target["DatabaseName"]), target["Name"])
                for column in target["ColumnNames"]:
                    assert column in self.tables[key].columns, f"{key}: no column {column}"
                    self.tables[key].column_tags.setdefault(column, {}).update(tags)
        for stack_id, _, props in self._resources("AWS::LakeFormation::PrincipalPermissions"):
            principal = self.resolve(stack_id, props["Principal"]["DataLakePrincipalIdentifier"])
            policy = props["Resource"].get("LFTagPolicy")
            if policy is None:
                # Grants on named resources are modelled only as "something else": tests
                # assert that persona roles have none.
                self.named_grants.append((principal, props["Resource"], props["Permissions"]))
                continue
            self.grants.append(
                Grant(
                    principal=principal,
                    resource_type=policy["ResourceType"],
                    expression={e["TagKey"]: e["TagValues"] for e in policy["Expression"]},
                    permissions=props["Permissions"],
                )
            )

    # -- questions ---------------------------------------------------------------------------

    def role(self, persona: str) -> Ref:
        role = self.blueprint.governance.personas[persona]
        return (role.stack.node.id, role.stack.get_logical_id(role.node.default_child))  # type: ignore[arg-type]

    def column_tags(self, table: Table, column: str) -> dict[str, str]:
        return {
            **self.database_tags[table.database],
            **table.tags,
            **table.column_tags.get(column, {}),
        }

    def _granted(
        self, principal: Ref, resource_type: str, permission: str, tags: dict[str, str]
    ) -> bool:
        return any(
            grant.principal == principal
            and grant.resource_type == resource_type
            and (permission in grant.permissions or bool({"ALL", "SUPER"} & set(grant.permissions)))
            and all(tags.get(key) in values for key, values in grant.expression.items())
            for grant in self.grants
        )

    def selectable(self, persona: str) -> set[tuple[str, str, str]]:
        """(database, table, column) the persona may SELECT."""
        principal = self.role(persona)
        return {
            (table.database, table.name, column)
            for table in self.tables.values()
            for column in table.columns
            if self._granted(principal, "TABLE", "SELECT", self.column_tags(table, column))
        }

    def describable_tables(self, persona: str) -> set[tuple[str, str]]:
        principal = self.role(persona)
        return {
            key
            for key, table in self.tables.items()
            if self._granted(
                principal, "TABLE", "DESCRIBE", {**self.database_tags[table.database], **table.tags}
            )
        }

    def describable_databases(self, persona: str) -> set[str]:
        principal = self.role(persona)
        return {
            name
            for name, tags in self.database_tags.items()
            if self._granted(principal, "DATABASE", "DESCRIBE", tags)
        }

    def iam_statements(self, persona: str) -> list[dict[str, Any]]:
        """Every statement of the customer managed policies attached to the persona's role."""
        principal = self.role(persona)
        statements = []
        for stack_id, _, props in self._resources("AWS::IAM::ManagedPolicy"):
            roles = [self.resolve(stack_id, r) for r in props.get("Roles", [])]
            if principal in roles:
                statements += props["PolicyDocument"]["Statement"]
        role_props = self.templates[principal[0]]["Resources"][principal[1]]["Properties"]
        for arn in role_props.get("ManagedPolicyArns", []):
            stack_id, logical_id = self.resolve(principal[0], arn)
            policy = self.templates[stack_id]["Resources"][logical_id]["Properties"]
            statements += [{**s, "_stack": stack_id} for s in policy["PolicyDocument"]["Statement"]]
        return statements
