"""The AWS side of forgetting a person: what the erasure job's role may do, and where it
exists. What the engineer may do to run one is in ``tests/test_personas.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import assertions

from tests.conftest import CUSTOMERS, built, datasets_folder, make_blueprint, resources, template

LAKE_BUCKETS = ("LandingBucketArn", "RawBucketArn", "CuratedBucketArn", "AnalyticsBucketArn")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def erasure_statements(env: str, name: str) -> list[dict[str, Any]]:
    """The statements of the erasure job role's policy in the dataset's stack."""
    policies = [
        p["Properties"]
        for p in resources(template(env, f"Dataset-{name}"), "AWS::IAM::ManagedPolicy").values()
        if "ErasureRole" in json.dumps(p["Properties"]["Roles"])
    ]
    (policy,) = policies
    return list(policy["PolicyDocument"]["Statement"])


def bucket_and_path(resource: Any) -> tuple[str, str]:
    """(output name, object path) of a borrowed bucket's object ARN, ("", "") for any other
    resource: ``Fn::Join ["", [{Fn::GetStackOutput ...}, "/<path>"]]``."""
    parts = resource.get("Fn::Join", ["", []])[1] if isinstance(resource, dict) else []
    if len(parts) != 2 or not isinstance(parts[0], dict) or "Fn::GetStackOutput" not in parts[0]:
        return "", ""
    return parts[0]["Fn::GetStackOutput"]["OutputName"], parts[1]


def expected_folders(env: str, name: str) -> set[tuple[str, str]]:
    dataset = built(env).dataset_stacks[name].dataset
    return {
        ("LandingBucketArn", f"/{name}/*"),
        ("RawBucketArn", f"/{name}/*"),
        ("RawBucketArn", f"/_quarantine/{name}/*"),
        ("CuratedBucketArn", f"/{name}/*"),
        *(("AnalyticsBucketArn", f"/{m.name}/*") for m in dataset.marts),
    }


def test_the_erasure_role_deletes_only_in_the_datasets_folders_of_the_lake(env: str) -> None:
    """Every S3 delete of the role is on a lake bucket, under one of the dataset's folders
    (landing, raw, quarantine, curated table, marts), and all of them are covered."""
    for name in built(env).dataset_stacks:
        deleted = set()
        for statement in erasure_statements(env, name):
            if not any(a.startswith("s3:Delete") for a in _listed(statement["Action"])):
                continue
            assert statement["Effect"] == "Allow"
            for resource in _listed(statement["Resource"]):
                bucket, path = bucket_and_path(resource)
                assert bucket in LAKE_BUCKETS, (name, resource)
                deleted.add((bucket, path))
        assert deleted == expected_folders(env, name)


def test_the_erasure_role_lists_only_the_datasets_folders(env: str) -> None:
    for name in built(env).dataset_stacks:
        listed = set()
        for statement in erasure_statements(env, name):
            if not any(a.startswith("s3:List") for a in _listed(statement["Action"])):
                continue
            prefixes = statement["Condition"]["StringLike"]["s3:prefix"]
            for resource in _listed(statement["Resource"]):
                output = resource["Fn::GetStackOutput"]["OutputName"]
                listed |= {(output, f"/{p}") for p in _listed(prefixes)}
        assert listed == expected_folders(env, name)


def test_the_erasure_role_only_writes_records_in_the_audit_bucket(env: str) -> None:
    """In the audit bucket: PutObject under ``erasure/`` and nothing else (no read, no
    delete, no other prefix); the audit key only encrypts objects there."""
    for name in built(env).dataset_stacks:
        audit_actions = set()
        for statement in erasure_statements(env, name):
            for resource in _listed(statement["Resource"]):
                bucket, path = bucket_and_path(resource)
                if "AuditLogs" not in json.dumps(resource):
                    continue
                if bucket == "AuditLogsBucketArn":
                    assert path == "/erasure/*", (name, statement)
                    audit_actions |= set(_listed(statement["Action"]))
                else:  # the audit key, for objects under erasure/ only, through S3
                    assert "AuditLogsKeyArn" in json.dumps(resource)
                    assert set(_listed(statement["Action"])) == {
                        "kms:Encrypt",
                        "kms:GenerateDataKey",
                    }
                    context = statement["Condition"]["StringLike"]
                    assert bucket_and_path(context["kms:EncryptionContext:aws:s3:arn"]) == (
                        "AuditLogsBucketArn",
                        "/erasure/*",
                    )
                    assert "kms:ViaService" in statement["Condition"]["StringEquals"]
        assert audit_actions == {"s3:PutObject"}, name


def test_the_erasure_role_reads_only_the_requests_elsewhere_in_raw(env: str) -> None:
    """Outside the dataset's folders, raw gives the role the request objects, to read only."""
    for name in built(env).dataset_stacks:
        folders = expected_folders(env, name)
        others = set()
        for statement in erasure_statements(env, name):
            for resource in _listed(statement["Resource"]):
                bucket, path = bucket_and_path(resource)
                if bucket == "RawBucketArn" and (bucket, path) not in folders:
                    others.add((path, tuple(_listed(statement["Action"]))))
        assert others == {("/_erasure/requests/*", ("s3:GetObject",))}


def test_a_dataset_without_a_subject_has_no_erasure_job(tmp_path: Path) -> None:
    """Without a subject column no request can find a person in it: no job, no role."""
    assert "subject" not in CUSTOMERS
    folder = datasets_folder(tmp_path, ("customers.toml", CUSTOMERS))
    blueprint = make_blueprint("sandbox", datasets=str(folder))
    assert blueprint.dataset_stacks["customers"].erasure is None
    customers = assertions.Template.from_stack(blueprint.dataset_stacks["customers"]).to_json()
    assert not [i for i in customers["Resources"] if i.startswith("Erasure")]
    assert "forget" not in json.dumps(customers)
    orders = assertions.Template.from_stack(blueprint.dataset_stacks["orders"])
    assert len(resources(orders, "AWS::Glue::Job")) == 3  # curation, marts, erasure
