"""Delivery: an Athena workgroup per querying persona, and the datasets' ready queries."""

from __future__ import annotations

import json
from typing import Any

from model.vocabulary import PERSONAS
from tests.conftest import built, construct_id, resources, template

MEGABYTE = 1024 * 1024
# The personas that read table data, and so query.
QUERYING_PERSONAS = [p.name for p in PERSONAS if p.reads_data]


def workgroups(env: str) -> dict[str, dict[str, Any]]:
    found = resources(template(env, "Delivery"), "AWS::Athena::WorkGroup").values()
    return {w["Properties"]["Name"]: w["Properties"] for w in found}


def output_name(value: Any) -> str:
    return str(value["Fn::GetStackOutput"]["OutputName"])


def test_each_querying_persona_has_an_enforced_encrypted_workgroup(env: str) -> None:
    config = built(env).config
    found = workgroups(env)
    assert set(found) == {f"datalake-{env}-{p}" for p in QUERYING_PERSONAS}
    for name, workgroup in found.items():
        settings = workgroup["WorkGroupConfiguration"]
        assert settings["EnforceWorkGroupConfiguration"] is True
        assert settings["EngineVersion"]["SelectedEngineVersion"] == "Athena engine version 3"
        assert settings["PublishCloudWatchMetricsEnabled"] is True
        cutoff = config.athena.bytes_scanned_cutoff_megabytes * MEGABYTE
        assert settings["BytesScannedCutoffPerQuery"] == cutoff
        results = settings["ResultConfiguration"]
        location = results["OutputLocation"]["Fn::Join"][1]
        assert location[0] == "s3://"
        assert output_name(location[1]) == "AthenaResultsBucketName"
        assert location[2] == f"/{name}/"  # a prefix of its own
        assert results["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
        assert output_name(results["EncryptionConfiguration"]["KmsKey"]) == "CuratedDataKeyArn"


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_a_persona_can_use_its_own_workgroup_and_no_other(env: str) -> None:
    """Across every stack, each persona role's Athena rights on workgroups name its own
    alone (listing workgroups, for the console, has no resource-level permissions), and its
    catalog rights through Athena are the account's Glue catalog, behind Lake Formation."""
    blueprint = built(env)
    role_of = {persona: role for persona, role in blueprint.governance.personas.items()}
    seen: dict[str, set[str]] = {p: set() for p in role_of}
    for stack in blueprint.stacks:
        tmpl = template(env, stack.node.id)
        for policy in resources(tmpl, "AWS::IAM::ManagedPolicy").values():
            text = json.dumps(policy["Properties"].get("Roles", []))
            personas = [p.name for p in PERSONAS if f"{p.pascal}Role" in text]
            for statement in _statements(policy):
                athena = [a for a in _actions(statement) if a.startswith("athena:")]
                if not athena:
                    continue
                resource = json.dumps(statement["Resource"])
                if resource == '"*"':
                    assert athena == ["athena:ListWorkGroups"]
                    continue
                for persona in personas:
                    seen[persona].add(resource)
    for persona in QUERYING_PERSONAS:
        workgroups_ = {r for r in seen[persona] if ":workgroup/" in r}
        (resource,) = workgroups_
        assert resource.endswith(f':workgroup/datalake-{env}-{persona}"]]}}'), resource
        others = seen[persona] - workgroups_
        assert all(r.endswith(':datacatalog/AwsDataCatalog"]]}') for r in others), others
    assert seen["security_officer"] == set()


def test_results_are_readable_only_under_the_personas_prefix(env: str) -> None:
    tmpl = template(env, "Delivery")
    for lid, policy in resources(tmpl, "AWS::IAM::ManagedPolicy").items():
        persona = next(p for p in QUERYING_PERSONAS if construct_id(lid).startswith(p.capitalize()))
        objects = [s for s in _statements(policy) if "s3:GetObject" in _actions(s)]
        (statement,) = objects
        assert statement["Resource"]["Fn::Join"][1][-1] == f"/datalake-{env}-{persona}/*"
        listing = next(s for s in _statements(policy) if "s3:ListBucket" in _actions(s))
        prefix = f"datalake-{env}-{persona}/"
        assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{prefix}*", prefix]}}


def test_each_dataset_saves_its_ready_queries_in_its_readers_workgroups(env: str) -> None:
    blueprint = built(env)
    config = blueprint.config
    for name, stack in blueprint.dataset_stacks.items():
        dataset = stack.dataset
        assert dataset.queries, f"{name} declares no ready query"
        named = resources(template(env, f"Dataset-{name}"), "AWS::Athena::NamedQuery")
        saved = [q["Properties"] for q in named.values()]
        readers = [p for p in QUERYING_PERSONAS if p in dataset.readers]
        expected = {(f"{name}: {q.name}", f"datalake-{env}-{p}")
                    for q in dataset.queries for p in readers}  # fmt: skip
        assert {(q["Name"], q["WorkGroup"]) for q in saved} == expected
        for query in saved:
            assert query["Database"] == config.database_name("curated")
            assert "{curated}" not in query["QueryString"]
            assert "{analytics}" not in query["QueryString"]
            assert (
                f"{config.database_name('curated')}.{name}" in query["QueryString"]
                or config.database_name("analytics") in query["QueryString"]
            )
        assert blueprint.delivery in stack.dependencies
