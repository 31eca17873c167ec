"""Who can decrypt what: every role of the app, and the keys its IAM policies let it use.

The lake has three keys of its own and the audit key (``cdk_constructs/storage/lake_keys.py``):
personal data in clear, curated data, operations. The table below is the whole answer, read
from the synthesized templates of both environments (and with the optional warehouse on): a
role added, or a grant widened to another key, fails here until the table says so.

The key policies keep CDK's default statement for the account root (the account's IAM
policies decide), so "cannot use" is about those IAM policies, and about key policy
statements naming nobody else (asserted below too).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from model.vocabulary import PERSONAS
from tests.conftest import built, datasets_folder, make_blueprint
from tests.key_reach import KeyReach
from tests.lake_model import LakeModel
from tests.test_warehouse import with_warehouse

H = "????????"  # the hash CDK appends to a logical ID
PERSONAL, CURATED, OPERATIONS, AUDIT = "personal", "curated", "operations", "audit"
# Every role of the app, by stack and construct ID, and the keys it may use.
EXPECTED: dict[str, frozenset[str]] = {
    # Lake Formation's role for the registered zones: raw, curated, analytics.
    f"Storage/LakeFormationDataAccessRole{H}": frozenset({PERSONAL, CURATED}),
    # Deletes objects of a sandbox's buckets with the stack: deleting needs no key.
    f"Storage/CustomS3AutoDeleteObjectsCustomResourceProviderRole{H}": frozenset(),
    # Their own query results only; table data comes through Lake Formation's role.
    f"Governance/AnalystRole{H}": frozenset({CURATED}),
    f"Governance/ScientistRole{H}": frozenset({CURATED}),
    # And landing's files and raw's quarantine, which are not catalogued; erasure requests
    # (personal-data key) and erasure records (audit key, for objects under erasure/ only).
    f"Governance/EngineerRole{H}": frozenset({PERSONAL, CURATED, AUDIT}),
    f"Governance/SecurityOfficerRole{H}": frozenset({AUDIT}),
    f"Audit/AuditTrailLogsRole{H}": frozenset(),
    # Landing and raw; its dead-letter queue.
    f"Ingest/BatchIngestRole{H}": frozenset({PERSONAL, OPERATIONS}),
    # EventBridge rules publishing to the alerts topic.
    f"Alerts/PipelineAlertsPublishRole{H}": frozenset({OPERATIONS}),
    # AWS Chatbot's role for the Slack channel (prod's CI settings): no policy at all.
    f"Alerts/PipelineAlertsSlackConfigurationRole{H}": frozenset(),
    # Reads raw through Lake Formation; its logs are encrypted with the operations key.
    f"Dataset-*/RawCrawlerRole{H}": frozenset({OPERATIONS}),
    # Raw, quarantine and the salt; curated; its bookmarks.
    f"Dataset-*/CurationRole{H}": frozenset({PERSONAL, CURATED, OPERATIONS}),
    f"Dataset-*/AnalyticsRole{H}": frozenset({CURATED}),
    # Every zone of its dataset, the requests and the salt; its records in the audit bucket.
    f"Dataset-*/ErasureRole{H}": frozenset({PERSONAL, CURATED, AUDIT}),
    f"Dataset-*/TableMaintenanceRole{H}": frozenset({CURATED}),
    # Publishing failures to the alerts topic; parking failed starts.
    f"Dataset-*/PipelineRole{H}": frozenset({OPERATIONS}),
    f"Dataset-*/TriggersScheduleRole{H}": frozenset({OPERATIONS}),
    f"Dataset-*/TriggersArrivalRole{H}": frozenset(),
    # Firehose writes records into raw.
    f"Dataset-*/StreamIngestRole{H}": frozenset({PERSONAL}),
    # The warehouse reads through Lake Formation's role; Redshift uses its key by grants.
    f"Warehouse/WarehouseRole{H}": frozenset(),
    f"Warehouse/WarehouseFlowLogRole{H}": frozenset(),
}
# The roles that read table data (or its definitions) and never need what operating the lake
# produces: reading a log group takes no key permission.
DATA_READERS = (
    *(f"Governance/{p.pascal}Role{H}" for p in PERSONAS),
    f"Storage/LakeFormationDataAccessRole{H}",
    f"Dataset-*/AnalyticsRole{H}",
    f"Dataset-*/TableMaintenanceRole{H}",
    f"Warehouse/WarehouseRole{H}",
)
SHAPES = ("sandbox", "prod", "prod-with-warehouse")


@cache
def reach(shape: str) -> KeyReach:
    if shape == "prod-with-warehouse":
        return KeyReach(LakeModel(with_warehouse("prod")))
    return KeyReach(LakeModel(built(shape)))


@pytest.mark.parametrize("shape", SHAPES)
def test_every_role_uses_exactly_the_keys_the_table_gives_it(shape: str) -> None:
    found = reach(shape).table()
    unlisted = []
    for role, keys in found.items():
        patterns = [p for p in EXPECTED if reach(shape).matching(p).count(role)]
        if len(patterns) != 1:
            unlisted.append((role, patterns))
            continue
        assert keys == EXPECTED[patterns[0]], (role, sorted(keys))
    assert unlisted == []


def test_the_table_covers_every_kind_of_role() -> None:
    """No row is dead: each matches a role in one of the shapes (the auto-delete role exists
    in the sandbox only, the warehouse where it is on, the arrival trigger where declared)."""
    for pattern in EXPECTED:
        assert any(reach(shape).matching(pattern) for shape in SHAPES), pattern


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "persona", [p for p in PERSONAS if "raw" not in p.zones], ids=lambda p: p.name
)
def test_who_never_reads_raw_cannot_use_the_personal_data_key(shape: str, persona: Any) -> None:
    """The analyst and the scientist (and the warehouse, which reads as the analyst does):
    neither their role's policies nor their workgroup's give them the key of data in clear."""
    lake = reach(shape)
    (role,) = lake.matching(f"Governance/{persona.pascal}Role{H}")
    assert PERSONAL not in lake.key_actions(role)
    for warehouse in lake.matching(f"Warehouse/*{H}"):
        assert PERSONAL not in lake.key_actions(warehouse)


@pytest.mark.parametrize("shape", SHAPES)
def test_data_readers_are_never_granted_the_operations_key(shape: str) -> None:
    lake = reach(shape)
    readers = [role for pattern in DATA_READERS for role in lake.matching(pattern)]
    assert len(readers) >= len(PERSONAS) + 1
    for role in readers:
        assert OPERATIONS not in lake.key_actions(role), role


@pytest.mark.parametrize("shape", SHAPES)
def test_people_use_lake_keys_through_s3_only(shape: str) -> None:
    """Every key grant of a persona role is conditioned on kms:ViaService = S3: the engineer
    decrypts landing and quarantined files, never the salt (Secrets Manager) with the same key."""
    lake = reach(shape)
    for persona in PERSONAS:
        (role,) = lake.matching(f"Governance/{persona.pascal}Role{H}")
        for statement in lake.statements[role]:
            actions = statement["Action"]
            if not any(a.startswith("kms:") for a in _as_list(actions)):
                continue
            if lake.key_name(statement["_stack"], statement["Resource"]) == AUDIT:
                continue  # the audit log store's own read policy (CloudTrail's files, in S3)
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]
            assert json.dumps(via).startswith('{"Fn::Join": ["", ["s3."'), (role, via)


@pytest.mark.parametrize("env", ["sandbox", "prod"])
def test_key_policies_name_no_person_and_no_role(env: str) -> None:
    """Beyond the account root (CDK's default, which hands the decision to IAM), only AWS
    services appear: CloudWatch Logs on the personal-data and operations keys, EventBridge and
    CloudWatch alarms on the operations key, CloudTrail and Logs on the audit key."""
    storage = reach(env).lake.templates["Storage"]["Resources"]
    allowed = {
        "DataKey": {"logs"},
        "CuratedDataKey": set(),
        "OperationsKey": {"logs", "events.amazonaws.com", "cloudwatch.amazonaws.com"},
        "AuditLogsKey": {"logs", "cloudtrail.amazonaws.com"},
    }
    for logical_id, resource in storage.items():
        if resource["Type"] != "AWS::KMS::Key":
            continue
        services = set()
        for statement in resource["Properties"]["KeyPolicy"]["Statement"]:
            principal = statement["Principal"]
            if "AWS" in principal:
                assert json.dumps(principal["AWS"]).endswith(':root"]]}'), statement
                continue
            service = principal["Service"]
            services.add(service if isinstance(service, str) else "logs")
        assert services == allowed[logical_id[:-8]], logical_id


def test_the_table_sees_a_grant_it_does_not_allow(tmp_path: Any) -> None:
    """Not vacuous: the personal-data key added to the analyst's workgroup policy shows up."""
    lake = KeyReach(LakeModel(make_blueprint("sandbox", datasets=str(datasets_folder(tmp_path)))))
    (analyst,) = lake.matching(f"Governance/AnalystRole{H}")
    delivery = lake.lake.templates["Delivery"]["Resources"]
    (policy,) = [r for lid, r in delivery.items() if lid.startswith("AnalystWorkGroupPolicy")]
    storage_name = lake.lake.blueprint.storage.stack_name
    personal = {"Fn::GetStackOutput": {"StackName": storage_name,
                                       "OutputName": "PersonalDataKeyArn"}}  # fmt: skip
    statement = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": personal}
    policy["Properties"]["PolicyDocument"]["Statement"].append(statement)
    grown = KeyReach(lake.lake)
    assert grown.key_actions(analyst)[PERSONAL] == {"kms:Decrypt"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
